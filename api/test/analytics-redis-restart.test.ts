import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startRedis, type RedisHandle } from '@sky/devkit';
import { Redis } from 'ioredis';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import type { Beacon } from '@sky/contracts';
import { dayRange } from '../src/services/analytics.query.js';
import { compareWithTruth, startAnalyticsApi, type AnalyticsTestApi } from './analytics-harness.js';
import { chunks, scriptDay } from './analytics-script.js';

const DAY = '2026-03-04';
const DAY_START = Date.parse(`${DAY}T08:00:00+08:00`);

/** What the real client does: resend the same batch (same event ids) on 503, 429 or a network error. */
async function sendWithRetry(url: string, events: Beacon[], stats: { retries: number; unavailable: number }) {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ events }),
      });
      if (res.status === 202) return;
      if (res.status !== 503 && res.status !== 429)
        assert.fail(`unexpected ${res.status}: ${await res.text()}`);
      if (res.status === 503) {
        stats.unavailable += 1;
        assert.ok(Number(res.headers.get('retry-after')) > 0, 'a 503 says when to retry');
      }
      await res.body?.cancel();
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
    }
    stats.retries += 1;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('gave up after 200 attempts');
}

describe('analytics ingest: Redis restarted during ingest', () => {
  let dir: string;
  let port: number;
  let redisServer: RedisHandle;
  let api: AnalyticsTestApi;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sky-a1-redis-'));
    port = await freePort();
    // Append-only file, so the stream (and the consumer group) survive the restart.
    redisServer = await startRedis({ dir, port, logFile: join(dir, 'redis.log'), persist: true });
    api = await startAnalyticsApi({
      redisUrl: redisServer.url,
      env: { ANALYTICS_FLUSH_MS: '100' },
      planLessons: ['plan-s1-wuli-03'],
    });
    await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await api.close();
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clients retry on 503 / connection errors and no event is lost or counted twice', async () => {
    const { events, truth } = scriptDay({
      seed: 23,
      tag: api.prefix,
      sessions: 800,
      viewers: 500,
      lessons: [{ id: 'plan-s1-wuli-03', grade: 's1', subject: '物理' }],
      dayStartMs: DAY_START,
    });
    const address = api.app.http.server.address();
    assert.ok(address && typeof address === 'object');
    const url = `http://127.0.0.1:${address.port}/api/analytics/beacons`;
    const batches = chunks(events, 50);
    const stats = { retries: 0, unavailable: 0 };

    // Four clients send concurrently; Redis goes down after a third of the batches and comes back.
    let next = 0;
    const outage: { done?: Promise<void> } = {};
    const client = async () => {
      while (next < batches.length) {
        const i = next++;
        if (i === Math.floor(batches.length / 3) && !outage.done) {
          outage.done = (async () => {
            await redisServer.stop();
            await new Promise((r) => setTimeout(r, 1500));
            redisServer = await startRedis({ dir, port, logFile: join(dir, 'redis.log'), persist: true });
          })();
        }
        await sendWithRetry(url, batches[i]!, stats);
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    await outage.done;
    assert.ok(stats.unavailable > 0, 'the outage was seen by clients (503)');

    const redis = new Redis(redisServer.url);
    try {
      const stream = analyticsKeys(api.prefix).shard(0).stream;
      const deadline = Date.now() + 60_000;
      while ((await redis.xlen(stream)) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(await redis.xlen(stream), 0, 'the aggregator drained the stream after the restart');
      // Nothing is left counted as waiting (the aggregator reconnects on its own).
      assert.equal(Number(await redis.get(analyticsKeys(api.prefix).shard(0).backlog)), 0);
    } finally {
      redis.disconnect();
    }
    const summary = await api.app.analytics.query.summary(dayRange(DAY, DAY));
    assert.deepEqual(compareWithTruth(summary, truth), []);
    console.log(
      `[analytics-redis-restart] ${events.length} events in ${batches.length} batches; ` +
        `${stats.unavailable} answers 503, ${stats.retries} retries; views ${summary.views.total} = truth ${truth.views.total}`,
    );
  });
});
