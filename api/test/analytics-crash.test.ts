import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import { MongoClient } from 'mongodb';
import { dayRange } from '../src/services/analytics.query.js';
import {
  startAnalyticsApi,
  spawnWorker,
  compareWithTruth,
  type AnalyticsTestApi,
} from './analytics-harness.js';
import { chunks, scriptDay } from './analytics-script.js';

const DAY = '2026-03-03';
const DAY_START = Date.parse(`${DAY}T08:00:00+08:00`);

describe('analytics aggregator: kill -9 mid-stream', () => {
  let api: AnalyticsTestApi;
  let redis: Redis;
  let mongo: MongoClient;
  before(async () => {
    api = await startAnalyticsApi({
      env: { ANALYTICS_WORKER: 'off' },
      planLessons: ['plan-p3-shuxue-01', 'plan-j2-yuwen-07'],
    });
    redis = new Redis(api.env['REDIS_URL']!);
    mongo = await new MongoClient(api.env['MONGODB_URI']!).connect();
  });
  after(async () => {
    redis.disconnect();
    await mongo.close();
    await api.close();
  });

  it('counts every event exactly once across crashes (between commit and XACK, and at a random point)', async () => {
    const lessons = [
      { id: 'plan-p3-shuxue-01', grade: 'p3', subject: '数学' },
      { id: 'plan-j2-yuwen-07', grade: 'j2', subject: '语文' },
    ] as const;
    const { events, truth } = scriptDay({
      seed: 11,
      tag: api.prefix,
      sessions: 3000,
      viewers: 2000,
      lessons: [...lessons],
      dayStartMs: DAY_START,
    });
    // 150 a batch: signed viewer ids (46 characters) put 200 of the script's events over 64 KB
    const batches = chunks(events, 150);
    const send = async (from: number, to: number) => {
      for (const b of batches.slice(from, to)) {
        const res = await api.app.http.inject({
          method: 'POST',
          url: '/api/analytics/beacons',
          payload: { events: b },
        });
        assert.equal(res.statusCode, 202, res.body);
      }
    };
    const stream = analyticsKeys(api.prefix).shard(0).stream;
    const checkpoint = async () =>
      (
        await mongo
          .db()
          .collection<{ _id: string; lastId: string }>('analytics_checkpoints')
          .findOne({ _id: 'aggregator-1' })
      )?.lastId ?? null;
    const flushEnv = { ANALYTICS_FLUSH_EVENTS: '1500', ANALYTICS_FLUSH_MS: '200' };

    // Half the day arrives; a worker commits three flushes and dies before trimming the third off the
    // stream, while the other half keeps arriving.
    const half = Math.floor(batches.length / 2);
    await send(0, half);
    const w1 = spawnWorker(api.env, { ...flushEnv, ANALYTICS_CRASH_AFTER_COMMITS: '3' });
    await send(half, batches.length);
    const end1 = await w1.exited;
    assert.equal(end1.signal, 'SIGKILL', w1.stderr());
    const cp1 = await checkpoint();
    assert.ok(cp1, 'the crashed worker committed a checkpoint');
    const applied = await redis.xrange(stream, '-', cp1, 'COUNT', 1);
    assert.ok(applied.length > 0, 'the crashed worker left entries it had applied in the stream');

    // A second worker is killed from outside as soon as it has committed something.
    const w2 = spawnWorker(api.env, flushEnv);
    const deadline = Date.now() + 60_000;
    while ((await checkpoint()) === cp1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    w2.child.kill('SIGKILL');
    assert.equal((await w2.exited).signal, 'SIGKILL');

    // Two more start at once under the same consumer name (two api processes with the inline
    // aggregator): the lease lets one apply while the other stands by; together they finish.
    const w3 = spawnWorker(api.env, flushEnv);
    const w4 = spawnWorker(api.env, flushEnv);
    while ((await redis.xlen(stream)) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await redis.xlen(stream), 0, 'stream drained');
    for (const w of [w3, w4]) {
      w.child.kill('SIGTERM');
      assert.equal((await w.exited).code, 0, w.stderr());
    }

    const summary = await api.app.analytics.query.summary(dayRange(DAY, DAY));
    assert.deepEqual(compareWithTruth(summary, truth), []);
    const quality = await api.app.analytics.query.quality(dayRange(DAY, DAY));
    for (const q of quality.items) {
      assert.equal(q.startups, truth.starts[q.platform], `starts ${q.platform}`);
      assert.equal(q.stallMs, truth.stallMs[q.platform], `stall ms ${q.platform}`);
    }
    const retention = await api.app.analytics.query.retention(lessons[0].id);
    assert.equal(retention.sessions, truth.startsByLesson.get(lessons[0].id));
    const expected = truth.retention.get(lessons[0].id)!;
    retention.counts.forEach((c, i) => assert.ok(Math.abs(c - expected[i]!) < 1e-6, `retention[${i}]`));
    console.log(
      `[analytics-crash] ${events.length} events, ${summary.views.total} views (truth ${truth.views.total}), ` +
        `${summary.watchSec.total} s watched; uniques ${summary.uniques.total} vs ${truth.uniques.total}`,
    );
  });
});
