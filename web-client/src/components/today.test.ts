import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel } from '@sky/contracts';
import { airingNow, gradeChannel, slotHref, todayAction, todayHref } from './today';

const slot = { date: '2026-12-04', start: '14:00', end: '14:30' };
/** A Beijing wall-clock time on the slot's day, as the epoch ms a browser anywhere would see. */
const at = (clock: string) => Date.parse(`2026-12-04T${clock}:00+08:00`);
const none = { onAir: new Set<string>(), ended: new Set<string>() };

test('a slot links to its recording, or to the live lesson it is taught in; a planned one to nothing', () => {
  assert.equal(slotHref({ recording: 'ready', vodLessonId: 'a1' }), '/lessons/a1');
  assert.equal(slotHref({ recording: 'live', vodLessonId: 'b2' }), '/live/b2');
  assert.equal(slotHref({ recording: 'planned', vodLessonId: 'c3' }), undefined);
  assert.equal(slotHref({ recording: 'ready' }), undefined, 'no api lesson linked yet');
});

test('airing now: from the slot’s start (Beijing time) until its end', () => {
  assert.equal(airingNow(slot, at('13:59')), false);
  assert.equal(airingNow(slot, at('14:00')), true);
  assert.equal(airingNow(slot, at('14:29')), true);
  assert.equal(airingNow(slot, at('14:30')), false);
});

test('a live-taught slot: join while on the air, wait before, the replay after, missed when never taught', () => {
  const live = { ...slot, recording: 'live' as const, vodLessonId: 'L' };
  assert.equal(todayAction(live, at('13:00'), none), 'soon');
  assert.equal(todayAction(live, at('14:10'), none), 'soon', 'the teacher is late: keep waiting');
  assert.equal(todayAction(live, at('14:10'), { ...none, onAir: new Set(['L']) }), 'live');
  // on the air past its slot is still live
  assert.equal(todayAction(live, at('15:00'), { ...none, onAir: new Set(['L']) }), 'live');
  assert.equal(todayAction(live, at('15:00'), { ...none, ended: new Set(['L']) }), 'replay');
  assert.equal(todayAction(live, at('15:00'), none), 'missed');
  assert.equal(todayHref('live', 'L'), '/live/L');
  assert.equal(todayHref('soon', 'L'), '/live/L');
  assert.equal(todayHref('replay', 'L'), '/lessons/L');
  assert.equal(todayHref('missed', 'L'), undefined);
});

test('recorded slots play on demand at any hour; planned ones have nothing yet', () => {
  const rec = { ...slot, recording: 'ready' as const, vodLessonId: 'R' };
  assert.equal(todayAction(rec, at('08:00'), none), 'recording');
  assert.equal(todayAction(rec, at('20:00'), none), 'recording');
  assert.equal(todayHref('recording', 'R'), '/lessons/R');
  assert.equal(todayAction({ ...slot, recording: 'planned' }, at('14:10'), none), 'planned');
  assert.equal(todayAction({ ...slot, recording: 'ready' }, at('14:10'), none), 'planned');
});

test('the grade’s channel is its TV channel, the lowest number when several carry the grade', () => {
  const ch = (id: string, kind: 'tv' | 'web', number: number, grades: Channel['grades']): Channel => ({
    id,
    kind,
    number,
    zh: id,
    en: id,
    grades,
  });
  const all = [
    ch('web-p3', 'web', 103, ['p3']),
    ch('tv-p34', 'tv', 9, ['p3', 'p4']),
    ch('tv-p3', 'tv', 3, ['p3']),
  ];
  assert.equal(gradeChannel(all, 'p3')?.id, 'tv-p3');
  assert.equal(gradeChannel(all, 'p4')?.id, 'tv-p34');
  assert.equal(gradeChannel(all, 'p5'), undefined);
});
