import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveTvList, LiveTvSegment } from '@sky/contracts';
import fc from 'fast-check';
import { LIVE_DELAY_SEC, LIVE_GRACE_SEC, liveRuns, SETTLE_WAIT_SEC, tickParts } from './live-timeline.js';
import {
  discontinuitiesBefore,
  isDiscontinuity,
  markedRun,
  renderPlaylist,
  SLATE_TICKS,
  TICK_SEC,
  tickStartSec,
  type Run,
} from './timeline.js';

const S0 = 1000 * 600; // a slot's first tick (an hour boundary: 600 ticks an hour)
const T0 = tickStartSec(S0);
const slot = { lessonId: 'L1', startTick: S0, capTick: S0 + 600 };
const urls = { live: (k: number) => `live/${k}.ts`, soon: (i: number) => `soon/${i}.ts` };

/** One ffmpeg run's 1-second segments from `fromSec` (wall clock), `n` of them. */
const run = (r: number, fromSec: number, n: number, first = 0): LiveTvSegment[] =>
  Array.from({ length: n }, (_, i) => ({
    uri: `seg_${r}_${String(first + i).padStart(5, '0')}.ts`,
    durationSec: 1,
    pdtMs: (fromSec + i) * 1000,
    discontinuity: r > 0 && i === 0,
  }));
const list = (segments: LiveTvSegment[], ended = false): LiveTvList => ({ segments, ended });

test('before the teacher goes live the channel says “starting soon” for the grace period, then keeps its schedule', () => {
  const { runs, pendingFrom } = liveRuns(slot, {}, undefined, T0 + 3600, urls);
  assert.equal(pendingFrom, undefined);
  assert.equal(runs.length, 1);
  assert.deepEqual([runs[0]!.start, runs[0]!.end], [S0, S0 + LIVE_GRACE_SEC / TICK_SEC]);
  assert.ok(runs[0]!.segments.every((s) => s.url.startsWith('soon/') && s.durationSec === TICK_SEC));
});

test('a live tick joins the six 1-second segments that began one delay earlier; the picture runs on without a break', () => {
  const startedAtSec = T0 - 60;
  const l = list(run(0, startedAtSec, 200));
  const now = T0 + 60;
  const { runs, pendingFrom } = liveRuns(slot, { startedAtSec }, l, now, urls);
  assert.equal(runs.length, 1, 'live from the slot’s first tick: no “starting soon”');
  const live = runs[0]!;
  assert.equal(live.start, S0);
  assert.equal(live.end, S0 + 11, 'every tick up to now is settled');
  assert.equal(pendingFrom, undefined);
  assert.ok(live.segments.every((s) => s.durationSec === 6));
  assert.deepEqual(live.marks, [0], 'one timeline from the first live tick on');
  const { from, to } = tickParts(l, S0 + 1);
  assert.equal(l.segments[from]!.pdtMs, (tickStartSec(S0 + 1) - LIVE_DELAY_SEC) * 1000);
  assert.equal(to - from, 6);
});

test('the playlist stops before a tick whose segments are not all written yet', () => {
  const startedAtSec = T0 - 60;
  const now = T0 + 30; // tick S0+5 began; its window ends 4 s before now
  const l = list(run(0, startedAtSec, T0 + 30 - LIVE_DELAY_SEC + TICK_SEC - 2 - startedAtSec));
  const { runs, pendingFrom } = liveRuns(slot, { startedAtSec }, l, now, urls);
  assert.equal(runs[0]!.end, S0 + 5);
  assert.equal(pendingFrom, S0 + 5);
  // a slow encoder only delays it: once a later segment is listed, it is cut whole
  const caughtUp = list(run(0, startedAtSec, T0 + 40 - startedAtSec));
  assert.equal(
    liveRuns(slot, { startedAtSec }, caughtUp, now + 20, urls).runs[0]!.segments[5]!.durationSec,
    6,
  );
  // a bridge silent for SETTLE_WAIT_SEC (gone): the tick is cut with what is there
  const later = liveRuns(slot, { startedAtSec }, l, tickStartSec(S0 + 5) + SETTLE_WAIT_SEC, urls);
  assert.equal(later.runs[0]!.segments[5]!.durationSec, 4);
});

test('a restart: the tick keeps the newest run and starts a new timeline; ticks with no picture show “starting soon”', () => {
  const startedAtSec = T0 - 60;
  const w0 = T0 - LIVE_DELAY_SEC; // the slot's first window
  const outage = (from: number, to: number) =>
    list([
      ...run(0, startedAtSec, w0 + from - startedAtSec),
      ...run(1, w0 + to, 100, w0 + from - startedAtSec),
    ]);
  const kinds = (l: LiveTvList) =>
    liveRuns(slot, { startedAtSec }, l, T0 + 90, urls)
      .runs[0]!.segments.slice(0, 7)
      .map((s) => [s.url.split('/')[0], s.durationSec, s.discontinuity]);
  // run 0 until 14 s into the slot's windows, run 1 from 23 s: the tick [18, 24) holds run 1's first second
  assert.deepEqual(kinds(outage(14, 23)), [
    ['live', 6, true],
    ['live', 6, false],
    ['live', 2, false], // [12, 18): run 0's last two seconds
    ['live', 1, true], // [18, 24): run 1 begins at 23
    ['live', 6, false],
    ['live', 6, false],
    ['live', 6, false],
  ]);
  // nothing from 14 s to 30 s: two ticks of “starting soon”, one slate timeline
  assert.deepEqual(kinds(outage(14, 30)), [
    ['live', 6, true],
    ['live', 6, false],
    ['live', 2, false],
    ['soon', 6, true],
    ['soon', 6, (S0 + 4) % SLATE_TICKS === 0],
    ['live', 6, true], // [30, 36)
    ['live', 6, false],
  ]);
});

test('after the end the channel returns to its schedule once the last picture has passed through the delay', () => {
  const startedAtSec = T0 - 60;
  const endedAtSec = T0 + 40;
  const l = list(run(0, startedAtSec, endedAtSec - startedAtSec), true);
  const { runs, pendingFrom } = liveRuns(slot, { startedAtSec, endedAtSec }, l, T0 + 600, urls);
  assert.equal(pendingFrom, undefined);
  assert.equal(runs[0]!.end, S0 + Math.ceil((40 + LIVE_DELAY_SEC) / TICK_SEC));
  // a lesson taught and over before its slot leaves the schedule alone
  assert.deepEqual(
    liveRuns(slot, { startedAtSec: T0 - 900, endedAtSec: T0 - 300 }, l, T0 + 60, urls).runs,
    [],
  );
});

test('a late start: “starting soon” until the picture arrives, then live', () => {
  const startedAtSec = T0 + 40;
  const l = list(run(0, startedAtSec, 100));
  const { runs } = liveRuns(slot, { startedAtSec }, l, T0 + 120, urls);
  const liveFrom = S0 + Math.ceil((40 + LIVE_DELAY_SEC) / TICK_SEC);
  assert.deepEqual(
    runs.map((r) => [r.start, r.end]),
    [
      [S0, liveFrom],
      [liveFrom, S0 + 21], // up to the tick airing now
    ],
  );
});

test('property: with live runs, the discontinuity sequence in closed form equals counting tick by tick, and never goes back', () => {
  const marked = fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: 400 }),
      marks: fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
    }),
    {
      maxLength: 6,
    },
  );
  fc.assert(
    fc.property(marked, fc.integer({ min: 0, max: 500 }), (items, offset) => {
      let end = 0;
      const runs: Run[] = [];
      items.forEach((it, i) => {
        const start = Math.max(end, it.at);
        const segs = it.marks.map((m, j) => ({ url: `l${i}-${j}`, durationSec: 6, discontinuity: m }));
        runs.push(markedRun(start, `l${i}`, segs));
        end = start + segs.length;
      });
      let count = 0;
      for (let k = 0; k < offset; k++) if (isDiscontinuity(runs, k)) count++;
      assert.equal(discontinuitiesBefore(runs, offset), count);
      const slate = Array.from({ length: SLATE_TICKS }, (_, i) => ({ url: `s${i}`, durationSec: 6 }));
      const dsn = (from: number) =>
        Number(
          /DISCONTINUITY-SEQUENCE:(\d+)/.exec(
            renderPlaylist({ runs, slate, from, to: from + 4, type: 'live' }),
          )![1],
        );
      assert.ok(dsn(offset + 1) >= dsn(offset));
    }),
  );
});
