// The aggregator stalls for a minute (its process stopped, as a long GC pause, a frozen VM or a Mongo
// election would stall it) while clients keep posting one event per request. The backlog fills to its cap;
// from then the ingest answers 503 OVERLOADED with Retry-After and takes nothing, and the clients send the
// same event again later. Nothing accepted may be lost or counted twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Beacon, BeaconBatchResult, Problem } from '@sky/contracts';
import { Redis } from 'ioredis';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import { dayRange } from '../src/services/analytics.query.js';
import {
  compareWithTruth,
  drained,
  spawnWorker,
  startAnalyticsApi,
  type AnalyticsTestApi,
} from './analytics-harness.js';
import { scriptDay } from './analytics-script.js';

const DAY = '2026-03-06';
const DAY_START = Date.parse(`${DAY}T08:00:00+08:00`);
const PAUSE_MS = 60_000;
/** The backlog's cap (events): far below what the clients send during the pause. */
const CAP = 1000;
const CLIENTS = 8;
const LESSONS = [
  { id: 'plan-p3-shuxue-01', grade: 'p3', subject: '数学' },
  { id: 'plan-s1-wuli-03', grade: 's1', subject: '物理' },
] as const;

describe('analytics: the aggregator paused for 60 s under one-event requests', () => {
  let api: AnalyticsTestApi;
  let redis: Redis;
  before(async () => {
    api = await startAnalyticsApi({
      env: {
        ANALYTICS_WORKER: 'off',
        ANALYTICS_BACKLOG_MAX_EVENTS: String(CAP),
        ANALYTICS_OVERLOADED_RETRY_SEC: '1',
      },
      planLessons: LESSONS.map((l) => l.id),
    });
    await api.app.http.listen({ host: '127.0.0.1', port: 0 });
    redis = new Redis(api.env['REDIS_URL']!);
  });
  after(async () => {
    redis.disconnect();
    await api.close();
  });

  it('loses no accepted event: 503 with Retry-After while the backlog is full, everything counted once after', async () => {
    const { events, truth } = scriptDay({
      seed: 47,
      tag: api.prefix,
      sessions: 1200,
      viewers: 800,
      lessons: [...LESSONS],
      dayStartMs: DAY_START,
    });
    const address = api.app.http.server.address();
    assert.ok(address && typeof address === 'object');
    const url = `http://127.0.0.1:${address.port}/api/analytics/beacons`;
    const keys = analyticsKeys(api.prefix).shard(0);
    const worker = spawnWorker(api.env, { ANALYTICS_FLUSH_MS: '200' });

    const stats = { requests: 0, accepted: 0, duplicates: 0, overloaded: 0, waitedMs: 0 };
    /** One event per POST, as real clients send; on 503 the same event again after Retry-After. */
    const send = async (e: Beacon) => {
      for (;;) {
        stats.requests += 1;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          body: JSON.stringify({ events: [e] }),
        });
        if (res.status === 202) {
          const r = (await res.json()) as BeaconBatchResult;
          stats.accepted += r.accepted;
          stats.duplicates += r.duplicates;
          return;
        }
        const body = await res.text();
        assert.equal(res.status, 503, body);
        assert.match(String(res.headers.get('content-type')), /application\/problem\+json/);
        assert.equal((JSON.parse(body) as Problem).code, 'OVERLOADED');
        const after = Number(res.headers.get('retry-after'));
        assert.ok(after > 0, 'a 503 says when to retry');
        stats.overloaded += 1;
        stats.waitedMs += after * 1000;
        await new Promise((r) => setTimeout(r, after * 1000));
      }
    };
    let next = 0;
    const client = async () => {
      while (next < events.length) await send(events[next++]!);
    };

    // The worker takes its lease and applies the first events; then it stops for a minute.
    const sending = Promise.all(Array.from({ length: CLIENTS }, client));
    const deadline = Date.now() + 60_000;
    while ((await redis.exists(keys.stream)) === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    worker.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    const acceptedAtPause = stats.accepted;
    let backlogMax = 0;
    let lengthAtMax = 0;
    while (Date.now() - pausedAt < PAUSE_MS) {
      const [backlog, length] = await Promise.all([redis.get(keys.backlog), redis.xlen(keys.stream)]);
      if (Number(backlog) > backlogMax) [backlogMax, lengthAtMax] = [Number(backlog), length];
      await new Promise((r) => setTimeout(r, 200));
    }
    // Every event accepted and not yet applied is still in the stream (one per entry: one per POST).
    const [backlogEnd, lengthEnd, overloadedInPause] = [
      Number(await redis.get(keys.backlog)),
      await redis.xlen(keys.stream),
      stats.overloaded,
    ];
    worker.child.kill('SIGCONT');
    const resumedAt = Date.now();
    await sending;
    const sentAt = Date.now();
    await drained(redis, api.prefix, 1, 120_000);
    const drainedAt = Date.now();
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.stderr());

    assert.ok(overloadedInPause > 0, 'the cap was reached while the aggregator was stopped');
    assert.ok(backlogMax <= CAP, `backlog ${backlogMax} within its cap ${CAP}`);
    assert.ok(backlogMax > CAP - CLIENTS, `the backlog filled up to its cap (${backlogMax})`);
    assert.equal(lengthAtMax, backlogMax, 'nothing unapplied was trimmed');
    assert.equal(lengthEnd, backlogEnd, 'nothing unapplied was trimmed');
    assert.equal(stats.accepted, events.length, 'every event accepted exactly once');
    assert.equal(stats.duplicates, 0, 'no 503 had stored any of its batch');

    const summary = await api.app.analytics.query.summary(dayRange(DAY, DAY));
    assert.deepEqual(compareWithTruth(summary, truth), []);
    const quality = await api.app.analytics.query.quality(dayRange(DAY, DAY));
    for (const q of quality.items) {
      assert.equal(q.startups, truth.starts[q.platform], `starts ${q.platform}`);
      assert.equal(q.stalls, truth.stalls[q.platform], `stalls ${q.platform}`);
      assert.equal(q.stallMs, truth.stallMs[q.platform], `stall ms ${q.platform}`);
    }
    for (const l of LESSONS) {
      const r = await api.app.analytics.query.retention(l.id);
      assert.equal(r.sessions, truth.startsByLesson.get(l.id), `retention sessions ${l.id}`);
      const expected = truth.retention.get(l.id)!;
      r.counts.forEach((c, i) => assert.ok(Math.abs(c - expected[i]!) < 1e-6, `retention ${l.id}[${i}]`));
    }
    console.log(
      `[analytics-pause] ${events.length} events, one per POST, ${CLIENTS} clients; aggregator stopped ` +
        `${PAUSE_MS / 1000} s (${acceptedAtPause} accepted before): backlog up to ${backlogMax} of ${CAP}, ` +
        `${stats.overloaded} × 503 OVERLOADED (${overloadedInPause} during the pause), all retried; ` +
        `${stats.requests} requests; last event accepted ${((sentAt - resumedAt) / 1000).toFixed(1)} s and ` +
        `everything applied ${((drainedAt - resumedAt) / 1000).toFixed(1)} s after the resume; ` +
        `accepted ${stats.accepted} = sent, 0 lost, 0 counted twice (views ${summary.views.total} = ${truth.views.total})`,
    );
  });
});
