import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Beacon } from '@sky/contracts';
import {
  aggregate,
  compareStreamIds,
  retentionSpan,
  startupBucket,
  type ReceivedBeacon,
  type SessionState,
} from './analytics.aggregate.js';
import { histogramPercentile } from './analytics.query.js';

const AT = Date.parse('2026-03-02T19:30:00+08:00');
const base = {
  viewerId: 'viewer-0001',
  sessionId: 'session-01',
  lessonId: 'L1',
  platform: 'tv',
  at: AT,
  position: 0,
  duration: 100,
} as const;
const rx = (events: Beacon[]): ReceivedBeacon[] => events.map((event) => ({ event, receivedMs: AT + 1000 }));
const hb = (id: string, position: number, watchedSec: number): Beacon => ({
  ...base,
  eventId: `event-${id}`,
  type: 'heartbeat',
  position,
  watchedSec,
});

describe('analytics aggregation (pure)', () => {
  it('counts a view once, when the watched time reaches 10 s, in the hour and day of China time', () => {
    const r = aggregate(
      rx([hb('a', 6, 6), hb('b', 9.5, 3.5), hb('c', 12, 2.5), hb('d', 40, 28)]),
      new Map(),
      () => undefined,
    );
    const city = r.rollups.docs.get('city_hour')!;
    assert.deepEqual([...city.keys()], ['2026-03-02T19|tv']);
    assert.deepEqual(city.get('2026-03-02T19|tv'), {
      set: { hour: '2026-03-02T19', day: '2026-03-02', platform: 'tv' },
      inc: { v: 1, w: 40_000 },
      max: {},
    });
    assert.deepEqual(r.viewed, ['session-01']);
    assert.deepEqual(r.sessions.get('session-01'), { watchedMs: 12_000, viewed: true });
  });

  it('gives the same increments in any order, and no view for an already viewed session', () => {
    const evs = [
      hb('a', 10, 10),
      hb('b', 20, 10),
      { ...base, eventId: 'event-s', type: 'start', startupMs: 640 } as Beacon,
    ];
    const one = aggregate(rx(evs), new Map(), () => undefined);
    const two = aggregate(rx([...evs].reverse()), new Map(), () => undefined);
    const flat = (x: typeof one) =>
      Object.fromEntries([...x.rollups.docs].map(([k, m]) => [k, Object.fromEntries(m)]));
    assert.deepEqual(flat(one), flat(two));
    const seen = new Map<string, SessionState>([['session-01', { watchedMs: 0, viewed: true }]]);
    const again = aggregate(rx([hb('z', 30, 10)]), seen, () => undefined);
    assert.equal(again.rollups.docs.get('city_day')!.get('2026-03-02|tv')!.inc['v'], undefined);
    assert.equal(again.sessions.size, 0);
  });

  it("takes grade and subject from the api's lesson record over the beacon", () => {
    const r = aggregate(rx([{ ...hb('a', 12, 12), grade: 's1', subject: 'x' }]), new Map(), () => ({
      grade: 'p3',
      subject: '数学',
    }));
    assert.deepEqual([...r.rollups.docs.get('dim_day')!.keys()], ['2026-03-02|p3|数学|tv']);
  });

  it('sums quality per day and platform and retention per lesson, leaving out zero counters', () => {
    const r = aggregate(
      rx([
        { ...base, eventId: 'event-s1', type: 'start', startupMs: 640 },
        { ...base, eventId: 'event-s2', type: 'start', startupMs: 0, sessionId: 'session-02' },
        { ...base, eventId: 'event-t1', type: 'stall', durationMs: 1200 },
        { ...base, eventId: 'event-t2', type: 'stall', durationMs: 0 },
        { ...base, eventId: 'event-p', type: 'pause' },
        hb('a', 12, 2.5),
        hb('b', 12, 0),
        { ...base, eventId: 'event-w', type: 'heartbeat', platform: 'web', position: 30, watchedSec: 1 },
      ]),
      new Map(),
      () => undefined,
    );
    const quality = r.rollups.docs.get('quality_day')!;
    assert.deepEqual([...quality.keys()], ['2026-03-02|tv', '2026-03-02|web']);
    assert.deepEqual(quality.get('2026-03-02|tv'), {
      set: { day: '2026-03-02', platform: 'tv' },
      inc: { startups: 2, startupMs: 640, 'h.0': 1, 'h.5': 1, watchMs: 2500, stalls: 2, stallMs: 1200 },
      max: {},
    });
    assert.deepEqual(quality.get('2026-03-02|web')!.inc, { watchMs: 1000 });
    assert.deepEqual(r.rollups.docs.get('retention')!.get('L1'), {
      set: { lessonId: 'L1' },
      inc: { sessions: 2, 'b.9': 500, 'b.10': 1000, 'b.11': 1000, 'b.29': 1000 },
      max: { durationSec: 100 },
    });
  });

  it('a session that began on a video already playing (no startupMs) is a session, not a start-up', () => {
    const r = aggregate(
      rx([
        { ...base, eventId: 'event-s1', type: 'start', startupMs: 900 },
        { ...base, eventId: 'event-s2', type: 'start', sessionId: 'session-02' },
      ]),
      new Map(),
      () => undefined,
    );
    assert.deepEqual(r.rollups.docs.get('quality_day')!.get('2026-03-02|tv')!.inc, {
      startups: 1,
      startupMs: 900,
      'h.6': 1,
    });
    assert.equal(r.rollups.docs.get('retention')!.get('L1')!.inc['sessions'], 2);
  });

  it('spreads a played span over retention buckets in whole ms', () => {
    assert.deepEqual(
      [...retentionSpan(12, 2.5, 100)],
      [
        [9, 500],
        [10, 1000],
        [11, 1000],
      ],
    );
    assert.deepEqual([...retentionSpan(5, 0, 100)], []);
    assert.deepEqual(
      [...retentionSpan(150, 60, 100)],
      [...retentionSpan(100, 10, 100)],
      'clipped at the end',
    );
    assert.equal(
      [...retentionSpan(2700, 2700, 2700).values()].reduce((a, b) => a + b, 0),
      2_700_000,
    );
  });

  it('orders stream ids and buckets startup times', () => {
    assert.equal(compareStreamIds('1700000000000-2', '1700000000000-10'), -1);
    assert.equal(compareStreamIds('1700000000001-0', '1700000000000-10'), 1);
    assert.equal(compareStreamIds('5-5', '5-5'), 0);
    assert.equal(startupBucket(0), 0);
    assert.equal(startupBucket(100), 1);
    assert.equal(startupBucket(999_999), 16);
    // 10 startups in [500, 750): p50 in the middle of the bucket.
    const h = Array.from({ length: 17 }, (_, i) => (i === 5 ? 10 : 0));
    assert.equal(histogramPercentile(h, 0.5), 625);
    assert.equal(
      histogramPercentile(
        Array.from({ length: 17 }, () => 0),
        0.5,
      ),
      null,
    );
  });
});
