import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  buildRuns,
  catchupSpan,
  discontinuitiesBefore,
  EPOCH_SEC,
  isDiscontinuity,
  markedRun,
  renderPlaylist,
  SLATE_TICKS,
  type Run,
} from './timeline.js';

const seg = (name: string, d = 6) => ({ url: `https://media/${name}.ts`, durationSec: d });
const slate = Array.from({ length: SLATE_TICKS }, (_, i) => seg(`slate-${i}`));

/** Lessons at random minutes of a random day, 1–30 segments each. */
const runsArb = fc
  .array(fc.record({ minute: fc.integer({ min: 0, max: 600 }), len: fc.integer({ min: 1, max: 30 }) }), {
    maxLength: 12,
  })
  .map((items) =>
    buildRuns(
      items.map((it, i) => ({
        startSec: EPOCH_SEC + 86400 * 30 + it.minute * 60,
        lessonId: `l${i}`,
        segments: Array.from({ length: it.len }, (_, j) => seg(`l${i}-${j}`, j === it.len - 1 ? 2.5 : 6)),
      })),
    ),
  );

test('property: the discontinuity sequence in closed form equals counting tick by tick', () => {
  fc.assert(
    fc.property(runsArb, fc.integer({ min: 0, max: 700 * 10 }), (runs, offset) => {
      const base = 30 * 14400;
      const k0 = base + offset;
      let count = 0;
      for (let k = 0; k < k0; k++) if (isDiscontinuity(runs, k)) count++;
      assert.equal(discontinuitiesBefore(runs, k0), count);
    }),
    { numRuns: 60, seed: 1 },
  );
});

test('property: runs never overlap and keep their order', () => {
  fc.assert(
    fc.property(runsArb, (runs: Run[]) => {
      for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.start >= runs[i - 1]!.end);
      for (const r of runs) assert.ok(r.end > r.start && r.end - r.start <= r.segments.length);
    }),
  );
});

test('property: a segment seen in two consecutive live playlists has the same sequence numbers', () => {
  fc.assert(
    fc.property(runsArb, fc.integer({ min: 0, max: 700 * 10 }), (runs, offset) => {
      const k = 30 * 14400 + offset;
      const numbered = (from: number) => {
        const lines = renderPlaylist({ runs, slate, from, to: from + 4, type: 'live' }).split('\n');
        let msn = Number(lines.find((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:'))!.split(':')[1]);
        let cc = Number(lines.find((l) => l.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:'))!.split(':')[1]);
        const out = new Map<string, string>();
        for (const l of lines) {
          if (l === '#EXT-X-DISCONTINUITY') cc++;
          if (l.startsWith('https://')) out.set(String(msn++), `${l}@${cc}`);
        }
        return out;
      };
      const a = numbered(k);
      const b = numbered(k + 1);
      for (const [sn, v] of b) if (a.has(sn)) assert.equal(a.get(sn), v, `segment ${sn}`);
    }),
    { numRuns: 200, seed: 2 },
  );
});

test('a lesson between slates: discontinuities at both edges, wall-clock times on each', () => {
  const start = EPOCH_SEC + 86400 * 30 + 8 * 3600; // 08:00 Beijing
  const runs = buildRuns([
    { startSec: start, lessonId: 'a', segments: [seg('a0'), seg('a1'), seg('a2', 3)] },
  ]);
  const k = runs[0]!.start;
  const text = renderPlaylist({ runs, slate, from: k - 1, to: k + 3, type: 'live' });
  const lines = text.split('\n');
  assert.equal(lines[0], '#EXTM3U');
  assert.ok(lines.includes('#EXT-X-VERSION:3'));
  assert.ok(lines.includes(`#EXT-X-MEDIA-SEQUENCE:${k - 1}`));
  const uris = lines.filter((l) => l.startsWith('https://'));
  assert.deepEqual(
    uris.map((u) => u.split('/').at(-1)),
    [`slate-${(k - 1) % SLATE_TICKS}.ts`, 'a0.ts', 'a1.ts', 'a2.ts', `slate-${(k + 3) % SLATE_TICKS}.ts`],
  );
  assert.equal(lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length, 2);
  assert.ok(
    lines.includes('#EXT-X-PROGRAM-DATE-TIME:2026-01-31T00:00:00.000+00:00'),
    'the lesson starts at 08:00 +08:00',
  );
  assert.ok(!text.includes('#EXT-X-ENDLIST'));
});

test('catch-up: EVENT while the programme airs (it only grows, no end), VOD with an end once it has aired', () => {
  const start = EPOCH_SEC + 86400 * 30 + 8 * 3600;
  const runs = buildRuns([
    { startSec: start, lessonId: 'a', segments: [seg('a0'), seg('a1'), seg('a2'), seg('a3', 3)] },
  ]);
  const k = runs[0]!.start;
  const span = catchupSpan(runs, k);
  assert.deepEqual(span, { from: k, to: k + 3 });
  const airing = renderPlaylist({ runs, slate, from: k, to: k + 1, type: 'event' });
  assert.match(airing, /#EXT-X-PLAYLIST-TYPE:EVENT\n/);
  assert.ok(!airing.includes('#EXT-X-ENDLIST'));
  assert.ok(airing.includes(`#EXT-X-MEDIA-SEQUENCE:${k}`), 'it starts where the programme did');
  const later = renderPlaylist({ runs, slate, from: k, to: k + 2, type: 'event' });
  assert.ok(later.startsWith(airing), 'a later EVENT playlist only appends');
  const aired = renderPlaylist({ runs, slate, ...span, type: 'event', ended: true });
  assert.ok(aired.startsWith(later.trimEnd()), 'the aired programme only appended, and ended');
  assert.match(aired, /#EXT-X-PLAYLIST-TYPE:EVENT\n/);
  assert.ok(aired.endsWith('a3.ts\n#EXT-X-ENDLIST\n'));
});

test('catch-up of a live lesson spans its “starting soon” run and the live ticks that follow it', () => {
  const k = 30 * 14400;
  const runs = [
    markedRun(k, 'live', [seg('soon0'), seg('soon1')]),
    markedRun(k + 2, 'live', [seg('t0'), seg('t1'), seg('t2')]),
    markedRun(k + 5, 'next', [seg('n0')]),
  ];
  assert.deepEqual(catchupSpan(runs, k), { from: k, to: k + 4 });
  assert.deepEqual(catchupSpan(runs, k + 5), { from: k + 5, to: k + 5 });
});
