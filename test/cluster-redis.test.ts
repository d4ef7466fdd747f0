// Redis under Sentinel (master + 1 replica + 3 sentinels): the master is killed with SIGKILL while
// clients post one beacon per request. The ingest acknowledges a beacon only once it is on the replica
// (ANALYTICS_REPLICA_ACKS=1: WAIT after the write), so the promoted replica holds every acknowledged
// beacon: nothing acknowledged is lost or counted twice. The killed node is started again once the
// sentinels have promoted the replica (as a supervisor would), and they make it the new replica.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Beacon, BeaconBatchResult, TranscodeResult } from '@sky/contracts';
import { QUEUES, redisTarget } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { connectRedis } from '@sky/contracts/redis';
import { freePort, generateSampleVideo } from '@sky/devkit';
import type { Redis } from 'ioredis';
import { analyticsKeys } from '../api/src/adapters/analytics.redis.js';
import { dayRange } from '../api/src/services/analytics.query.js';
import {
  compareWithTruth,
  drained,
  spawnWorker,
  startAnalyticsApi,
  type AnalyticsTestApi,
} from '../api/test/analytics-harness.js';
import { scriptDay } from '../api/test/analytics-script.js';
import { clusterDir, startSentinelRedis, until, type SentinelRedis } from './cluster-stack.js';

const ROOT = join(import.meta.dirname, '..');
const DAY = '2026-03-07';
const DAY_START = Date.parse(`${DAY}T08:00:00+08:00`);
const CLIENTS = 8;
const LESSONS = [
  { id: 'plan-p3-shuxue-01', grade: 'p3', subject: '数学' },
  { id: 'plan-s1-wuli-03', grade: 's1', subject: '物理' },
] as const;
const secs = (ms: number) => (ms / 1000).toFixed(1);

describe('Redis Sentinel: the master killed during beacon ingest', () => {
  const dir = clusterDir();
  let sentinel: SentinelRedis;
  let api: AnalyticsTestApi | undefined;
  let redis: Redis | undefined;
  let ok = false;
  before(async () => {
    sentinel = await startSentinelRedis(dir.dir);
    api = await startAnalyticsApi({
      env: {
        ...sentinel.env,
        ANALYTICS_WORKER: 'off',
        ANALYTICS_REPLICA_ACKS: '1',
        ANALYTICS_REPLICA_ACK_TIMEOUT_MS: '1000',
      },
      planLessons: LESSONS.map((l) => l.id),
    });
    await api.app.http.listen({ host: '127.0.0.1', port: 0 });
    redis = connectRedis(redisTarget(sentinel.env), { maxRetriesPerRequest: null });
    redis.on('error', () => {}); // it reconnects through the failover
  });
  after(async () => {
    redis?.disconnect();
    await api?.close();
    await sentinel?.close();
    if (ok) dir.remove();
    else console.log(`[cluster-redis] logs kept in ${dir.dir}`);
  });

  it('loses no acknowledged beacon: every event counted once after the failover', async () => {
    assert.ok(api && redis);
    const { events, truth } = scriptDay({
      seed: 53,
      tag: api.prefix,
      sessions: 600,
      viewers: 400,
      lessons: [...LESSONS],
      dayStartMs: DAY_START,
    });
    const address = api.app.http.server.address();
    assert.ok(address && typeof address === 'object');
    const url = `http://127.0.0.1:${address.port}/api/analytics/beacons`;
    const keys = analyticsKeys(api.prefix).shard(0);
    const worker = spawnWorker(api.env, { ANALYTICS_FLUSH_MS: '200' });

    const stats = { requests: 0, acknowledged: 0, accepted: 0, duplicates: 0, refused: 0 };
    let firstAckAfterKill = 0;
    let killedAt = 0;
    /** One event per POST, as players send; a refused one again after Retry-After (same event id). */
    const send = async (e: Beacon) => {
      for (;;) {
        stats.requests += 1;
        const startedAt = Date.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          body: JSON.stringify({ events: [e] }),
        });
        if (res.status === 202) {
          const r = (await res.json()) as BeaconBatchResult;
          stats.acknowledged += r.accepted + r.duplicates;
          stats.accepted += r.accepted;
          stats.duplicates += r.duplicates;
          if (killedAt && startedAt > killedAt && !firstAckAfterKill) firstAckAfterKill = Date.now();
          return;
        }
        assert.equal(res.status, 503, await res.text());
        stats.refused += 1;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      }
    };
    let next = 0;
    const client = async () => {
      while (next < events.length) await send(events[next++]!);
    };
    const sending = Promise.all(Array.from({ length: CLIENTS }, client));

    // A quarter in (the aggregator applying as it goes), the master dies.
    await until(
      'a quarter of the events sent',
      async () => (next > events.length / 4 ? true : undefined),
      120_000,
      20,
    );
    assert.ok((await redis.xlen(keys.stream)) >= 0);
    const oldPort = sentinel.master.port;
    const acknowledgedAtKill = stats.acknowledged;
    sentinel.master.child.kill('SIGKILL');
    killedAt = Date.now();
    await sentinel.master.exited;
    const newPort = await until(
      'sentinels promote the replica',
      async () => {
        const port = await sentinel.masterPort();
        return port !== oldPort ? port : undefined;
      },
      30_000,
      50,
    );
    const promotedAt = Date.now();
    assert.equal(newPort, sentinel.replica.port);
    // The killed node comes back (empty: no persistence here) only now, so it never serves as master.
    const restarted = await sentinel.restartOldMaster();
    const replicaBackAt = Date.now();
    await sending;
    const sentAt = Date.now();
    await drained(redis, api.prefix, 1, 120_000);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.stderr());

    assert.ok(acknowledgedAtKill > 0 && acknowledgedAtKill < events.length, 'killed mid-ingest');
    assert.ok(stats.refused > 0, 'the ingest refused beacons while it had no master / no replica');
    assert.equal(stats.acknowledged, events.length, 'every event acknowledged once its client retried');
    const summary = await api.app.analytics.query.summary(dayRange(DAY, DAY));
    assert.deepEqual(compareWithTruth(summary, truth), [], 'the rollups hold every acknowledged event once');
    for (const l of LESSONS) {
      const r = await api.app.analytics.query.retention(l.id);
      assert.equal(r.sessions, truth.startsByLesson.get(l.id), `retention sessions ${l.id}`);
    }
    ok = true;
    console.log(
      `[cluster-redis] ${events.length} events, one per POST, ${CLIENTS} clients; master SIGKILLed after ` +
        `${acknowledgedAtKill} acknowledged: replica promoted ${secs(promotedAt - killedAt)} s after the kill, ` +
        `old master back as replica (port ${restarted}) at ${secs(replicaBackAt - killedAt)} s, first ` +
        `acknowledgement of a request sent after the kill at ${secs(firstAckAfterKill - killedAt)} s; ${stats.refused} × 503 ` +
        `retried; acknowledged ${stats.acknowledged} (${stats.accepted} new + ${stats.duplicates} repeats of ` +
        `unacknowledged writes) = sent ${events.length}; views counted ${summary.views.total} = truth ` +
        `${truth.views.total}, watch ${summary.watchSec.total} s; 0 lost, 0 twice; send ended ` +
        `${secs(sentAt - killedAt)} s after the kill`,
    );
  });
});

describe('Redis Sentinel: the master killed during a transcode job', () => {
  const dir = clusterDir();
  const media = mkdtempSync(join(tmpdir(), 'sky-cluster-media-'));
  // hash-tagged, as a Redis Cluster needs (every BullMQ key of the deployment in one slot)
  const prefix = `{t${randomBytes(4).toString('hex')}}`;
  const results: TranscodeResult[] = [];
  let sentinel: SentinelRedis;
  let queues: JobQueues | undefined;
  let transcoder: ChildProcess | undefined;
  let ok = false;
  before(async () => {
    sentinel = await startSentinelRedis(dir.dir);
    await generateSampleVideo(join(media, 'src', 'lesson.mp4'), { seconds: 30, width: 1280, height: 720 });
    queues = createJobQueues(redisTarget(sentinel.env, 'queue'), prefix);
    queues.consume({
      'transcode.result': async (r) => {
        results.push(r);
      },
    });
  });
  after(async () => {
    if (transcoder?.pid && transcoder.exitCode === null) {
      process.kill(-transcoder.pid, 'SIGTERM');
      await new Promise((r) => transcoder!.once('exit', r));
    }
    await queues?.close();
    await sentinel?.close();
    rmSync(media, { recursive: true, force: true });
    if (ok) dir.remove();
    else console.log(`[cluster-redis] logs kept in ${dir.dir}`);
  });

  it('completes the job exactly once: one output, one completion event', async () => {
    assert.ok(queues);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...sentinel.env,
      QUEUE_PREFIX: prefix,
      MEDIA_DIR: media,
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'cluster-test-secret-at-least-32-characters',
      X264_PRESET: 'ultrafast',
    };
    delete env['REDIS_URL'];
    transcoder = spawn(process.execPath, [join(ROOT, 'transcoder', 'dist', 'src', 'main.js')], {
      detached: true, // its own process group, with its ffmpeg
      stdio: 'ignore',
      env,
    });
    await queues.enqueue('transcode.vod', {
      lessonId: 'failover1',
      source: 'src/lesson.mp4',
      outputDir: 'lessons/failover1/v1',
      requestedBy: 'test',
      kind: 'upload',
    });
    // ffmpeg is writing into the job's temp folder: the master dies mid-encode
    const tmpRoot = join(media, '.tmp');
    await until(
      'the transcoder started the job',
      async () =>
        existsSync(tmpRoot) && readdirSync(tmpRoot).some((d) => readdirSync(join(tmpRoot, d)).length > 0)
          ? true
          : undefined,
      120_000,
    );
    const oldPort = sentinel.master.port;
    sentinel.master.child.kill('SIGKILL');
    const killedAt = Date.now();
    await sentinel.master.exited;
    await until(
      'sentinels promote the replica',
      async () => ((await sentinel.masterPort()) !== oldPort ? true : undefined),
      30_000,
      50,
    );
    const promotedAt = Date.now();
    await sentinel.restartOldMaster();
    assert.equal(results.length, 0, 'not done before the kill');
    await until('the job completed', async () => (results.length > 0 ? true : undefined), 180_000, 200);
    const doneAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // a second completion would arrive now
    assert.equal(results.length, 1, 'exactly one completion event');
    assert.equal(results[0]!.outcome, 'ready');
    const counts = await queues.queue(QUEUES.transcode).getJobCounts('completed', 'failed', 'active', 'wait');
    assert.deepEqual(counts, { completed: 1, failed: 0, active: 0, wait: 0 });
    assert.deepEqual(readdirSync(join(media, 'lessons', 'failover1')), ['v1'], 'one output');
    const { stderr } = await promisify(execFile)('ffmpeg', [
      '-v',
      'error',
      '-i',
      join(media, 'lessons/failover1/v1/tv/720p/index.m3u8'),
      '-f',
      'null',
      '-',
    ]);
    assert.equal(stderr.trim(), '', 'the output plays to its end');
    ok = true;
    console.log(
      `[cluster-redis] transcode: master SIGKILLed mid-encode; replica promoted ${secs(promotedAt - killedAt)} s ` +
        `after the kill; job done ${secs(doneAt - killedAt)} s after it; 1 completion event, ` +
        `jobs ${JSON.stringify(counts)}, one output (prefix ${prefix})`,
    );
  });
});
