import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveSlotPhase } from './live-slot';

const slot = { date: '2026-12-04', start: '14:00', end: '14:30' };
/** A Beijing wall-clock time on the slot's day, as the epoch ms a browser anywhere would see. */
const at = (clock: string) => Date.parse(`2026-12-04T${clock}:00+08:00`);
const draft = { status: 'draft' as const };
const ended = (status: 'draft' | 'processing' | 'ready') => ({
  status,
  live: { state: 'ended' as const, teacherId: 't', startedAt: '2026-12-04T06:00:00Z' },
});

test('the go-live window opens 15 minutes before the slot and closes at its end', () => {
  assert.equal(liveSlotPhase(slot, draft, at('10:00')), 'upcoming');
  assert.equal(liveSlotPhase(slot, draft, at('13:44')), 'upcoming');
  assert.equal(liveSlotPhase(slot, draft, at('13:45')), 'open');
  assert.equal(liveSlotPhase(slot, draft, at('14:29')), 'open');
  assert.equal(liveSlotPhase(slot, draft, at('14:30')), 'missed');
});

test('a slot past midnight stays open to go live until its end on the next day', () => {
  const late = { date: '2026-12-04', start: '23:50', end: '00:20' };
  const next = (clock: string) => Date.parse(`2026-12-05T${clock}:00+08:00`);
  assert.equal(liveSlotPhase(late, draft, at('23:34')), 'upcoming');
  assert.equal(liveSlotPhase(late, draft, at('23:55')), 'open');
  assert.equal(liveSlotPhase(late, draft, next('00:19')), 'open');
  assert.equal(liveSlotPhase(late, draft, next('00:20')), 'missed');
});

test('on air the studio stays one click away, even past the slot; after it, the lesson’s live state', () => {
  const live = { status: 'draft' as const, live: { state: 'live' as const, teacherId: 't', startedAt: '' } };
  assert.equal(liveSlotPhase(slot, live, at('14:50')), 'live');
  assert.equal(liveSlotPhase(slot, ended('processing'), at('14:20')), 'processing');
  assert.equal(liveSlotPhase(slot, ended('ready'), at('16:00')), 'replay');
  assert.equal(liveSlotPhase(slot, ended('draft'), at('16:00')), 'ended');
});
