// Two stream shards, an aggregator process each, working at the same time; one is killed inside a flush's
// transaction (its rollups written, not committed), the other from outside at a random point; both are
// restarted. Every figure must equal the script's ground truth: nothing lost, nothing counted twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import { dayRange } from '../src/services/analytics.query.js';
import {
  compareWithTruth,
  drained,
  spawnWorker,
  startAnalyticsApi,
  type AnalyticsTestApi,
} from './analytics-harness.js';
import { chunks, scriptDay } from './analytics-script.js';

const DAY = '2026-03-05';
const DAY_START = Date.parse(`${DAY}T08:00:00+08:00`);
const LESSONS = [
  { id: 'plan-p3-shuxue-01', grade: 'p3', subject: '数学' },
  { id: 'plan-j2-yuwen-07', grade: 'j2', subject: '语文' },
  { id: 'plan-s1-wuli-03', grade: 's1', subject: '物理' },
] as const;

describe('analytics: two shards aggregated side by side, killed and restarted', () => {
  let api: AnalyticsTestApi;
  let redis: Redis;
  let mongo: MongoClient;
  before(async () => {
    api = await startAnalyticsApi({
      env: { ANALYTICS_WORKER: 'off', ANALYTICS_SHARDS: '2' },
      planLessons: LESSONS.map((l) => l.id),
    });
    redis = new Redis(api.env['REDIS_URL']!);
    mongo = await new MongoClient(api.env['MONGODB_URI']!).connect();
  });
  after(async () => {
    redis.disconnect();
    await mongo.close();
    await api.close();
  });

  it('every figure equals the ground truth after a kill mid-flush and one at a random point', async () => {
    const { events, truth } = scriptDay({
      seed: 31,
      tag: api.prefix,
      sessions: 3000,
      viewers: 2000,
      lessons: [...LESSONS],
      dayStartMs: DAY_START,
    });
    const keys = analyticsKeys(api.prefix, 2);
    // Each viewer's events go to one shard: the script's viewers fall on both.
    const perShard = [0, 0];
    for (const e of events) perShard[keys.shardOf(e.viewerId)]! += 1;
    assert.ok(
      perShard.every((n) => n > events.length / 3),
      `events per shard ${perShard.join(', ')}`,
    );

    // 150 a batch, from many viewers: each batch is split between the shards.
    const batches = chunks(events, 150);
    let accepted = 0;
    const send = async (from: number, to: number) => {
      for (const b of batches.slice(from, to)) {
        const res = await api.app.http.inject({
          method: 'POST',
          url: '/api/analytics/beacons',
          payload: { events: b },
        });
        assert.equal(res.statusCode, 202, res.body);
        accepted += res.json<{ accepted: number }>().accepted;
      }
    };
    const checkpoint = async (id: string) =>
      (
        await mongo
          .db()
          .collection<{ _id: string; lastId?: string }>('analytics_checkpoints')
          .findOne({ _id: id })
      )?.lastId ?? null;
    const worker = (shard: number, extra: Record<string, string> = {}) =>
      spawnWorker(api.env, {
        ANALYTICS_WORKER_SHARDS: String(shard),
        ANALYTICS_FLUSH_EVENTS: '400',
        ANALYTICS_FLUSH_MS: '100',
        ANALYTICS_LEASE_SEC: '2',
        LOG_LEVEL: 'info',
        ...extra,
      });

    // Shard 0's aggregator dies inside its third flush's transaction; shard 1's keeps going meanwhile.
    const half = Math.floor(batches.length / 2);
    await send(0, half);
    const a1 = worker(0, { ANALYTICS_CRASH_MID_FLUSH: '3' });
    const b1 = worker(1);
    await send(half, batches.length);
    assert.equal(accepted, events.length, 'every event accepted once');
    assert.equal((await a1.exited).signal, 'SIGKILL', a1.stderr());
    const a1Checkpoint = await checkpoint('aggregator-1');
    assert.ok(a1Checkpoint, 'shard 0 committed its first flushes');
    const unapplied = await redis.xrange(keys.shard(0).stream, `(${a1Checkpoint}`, '+', 'COUNT', 1);
    assert.ok(unapplied.length > 0, 'the killed aggregator left unapplied entries');

    // Shard 0's aggregator is back; shard 1's is killed from outside once it has committed again.
    const restartedAt = Date.now();
    const a2 = worker(0);
    const b1Checkpoint = await checkpoint('aggregator-1.s1');
    const deadline = Date.now() + 60_000;
    while ((await checkpoint('aggregator-1.s1')) === b1Checkpoint && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    b1.child.kill('SIGKILL');
    assert.equal((await b1.exited).signal, 'SIGKILL');
    const b2 = worker(1);

    await drained(redis, api.prefix, 2, 120_000);
    const recoverySec = (Date.now() - restartedAt) / 1000;
    for (const w of [a2, b2]) {
      w.child.kill('SIGTERM');
      assert.equal((await w.exited).code, 0, w.stderr());
    }

    // Both shards wrote rollup documents of their own (shard 1's end in |s1).
    const cityDay = await mongo.db().collection('analytics_city_day').find({ day: DAY }).toArray();
    assert.ok(cityDay.some((d) => String(d._id).endsWith('|s1')));
    assert.ok(cityDay.some((d) => !String(d._id).includes('|s')));

    const summary = await api.app.analytics.query.summary(dayRange(DAY, DAY));
    assert.deepEqual(compareWithTruth(summary, truth), []);
    const quality = await api.app.analytics.query.quality(dayRange(DAY, DAY));
    for (const q of quality.items) {
      assert.equal(q.startups, truth.starts[q.platform], `starts ${q.platform}`);
      assert.equal(q.stalls, truth.stalls[q.platform], `stalls ${q.platform}`);
      assert.equal(q.stallMs, truth.stallMs[q.platform], `stall ms ${q.platform}`);
    }
    const top = await api.app.analytics.query.topLessons(dayRange(DAY, DAY), 10);
    for (const l of LESSONS)
      assert.equal(
        top.items.find((i) => i.lessonId === l.id)?.views.total,
        truth.viewsByLesson.get(l.id),
        l.id,
      );
    const district = await api.app.analytics.query.breakdown(dayRange(DAY, DAY), 'district');
    for (const [d, n] of truth.viewsByDistrict)
      assert.equal(district.items.find((i) => i.key === d)?.views.total, n, d);
    for (const l of LESSONS) {
      const r = await api.app.analytics.query.retention(l.id);
      assert.equal(r.sessions, truth.startsByLesson.get(l.id), `retention sessions ${l.id}`);
      const expected = truth.retention.get(l.id)!;
      r.counts.forEach((c, i) => assert.ok(Math.abs(c - expected[i]!) < 1e-6, `retention ${l.id}[${i}]`));
    }
    assert.equal(summary.lagSec, 0);

    const stats = [a2, b2].map(
      (w) =>
        w.logs().find((l) => l['msg'] === 'analytics aggregator stopped') as {
          consumer: string;
          applied: number;
          flushes: { committed: number; retried: number };
        },
    );
    // Side by side without a write conflict (each shard's documents are its own), and the restarted
    // aggregator was not held up by the transaction its killed predecessor left open.
    for (const st of stats) assert.equal(st.flushes.retried, 0, `${st.consumer}: flushes retried`);
    // (MongoDB would abort that transaction only after its 60 s lifetime: the restart ends it at once)
    assert.ok(recoverySec < 45, `drained ${recoverySec} s after the restart`);
    console.log(
      `[analytics-shards] ${events.length} events (${perShard.join(' + ')} by shard) in ${batches.length} ` +
        `batches; views ${summary.views.total} = truth ${truth.views.total}; drained ${recoverySec.toFixed(1)} s after ` +
        `the first restart; after the restarts: ` +
        stats
          .map(
            (s) =>
              `${s.consumer} ${s.applied} events in ${s.flushes.committed} flushes (${s.flushes.retried} retried)`,
          )
          .join(', '),
    );
  });
});
