// An api for the analytics failure tests, whose Mongo URI / Redis URL / prefix the test knows, so a
// separate aggregator process (api/src/analytics-worker.ts) can be started against the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobQueues } from '@sky/contracts/queue';
import { redisTarget, type Beacon } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { testLogger, useInfra } from '@sky/devkit';
import type { Redis } from 'ioredis';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import { connectMongo } from '@sky/contracts/mongo';
import { createMediaProbe } from '../src/adapters/media-probe.js';
import { passwords } from '../src/adapters/password.js';
import { createApp, type ApiApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Truth } from './analytics-script.js';
import { addPlaces, SCRIPT_PLACES } from './analytics-ids.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface AnalyticsTestApi {
  app: ApiApp;
  env: Record<string, string>;
  prefix: string;
  close(): Promise<void>;
}

export async function startAnalyticsApi(opts: {
  env?: Record<string, string>;
  redisUrl?: string;
  /** The curriculum plan's lesson ids the events may name. */
  planLessons?: readonly string[];
}) {
  const infra = await useInfra();
  const mediaDir = mkdtempSync(join(tmpdir(), 'sky-media-'));
  const env: Record<string, string> = {
    MONGODB_URI: infra.mongoUri,
    REDIS_URL: opts.redisUrl ?? infra.redisUrl,
    QUEUE_PREFIX: infra.prefix,
    JWT_SECRET: 'test-secret-that-is-at-least-32-characters',
    MEDIA_DIR: mediaDir,
    LOG_LEVEL: 'silent',
    ANALYTICS_RATE_MAX: '1000000',
    ANALYTICS_VIEWER_SESSIONS_MAX: '1000000',
    ...opts.env,
  };
  // Sentinel instead of the infra's Redis (a service takes one or the other)
  if (env['REDIS_SENTINELS']) delete env['REDIS_URL'];
  const config = loadConfig(env);
  const mongo = await connectMongo(config.MONGODB_URI);
  const queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
  const app = await createApp({
    config,
    logger: testLogger('api', logOptions('api', 'info')),
    mongo,
    queues,
    passwords,
    probe: createMediaProbe({ ffprobe: 'ffprobe', ffmpeg: 'ffmpeg' }),
    version: 'test',
    planLessons: async () => new Set(opts.planLessons ?? []),
  });
  await app.http.ready();
  await addPlaces(app, infra.prefix, SCRIPT_PLACES);
  return {
    app,
    env,
    prefix: infra.prefix,
    async close() {
      await app.close();
      await queues.close().catch(() => {});
      await mongo.dropDatabase();
      await mongo.close();
      await infra.close();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  } satisfies AnalyticsTestApi;
}

/** The aggregator as a real process (tsx), with the api's env plus `extra`; its log lines are kept. */
export function spawnWorker(env: Record<string, string>, extra: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'api/src/analytics-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, ANALYTICS_WORKER: 'off', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    stderr: () => stderr,
    /** The worker's JSON log lines (LOG_LEVEL in its env says which). */
    logs: () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Until every shard's stream is empty (applied and trimmed), or `timeoutMs`. */
export async function drained(redis: Redis, prefix: string, shards = 1, timeoutMs = 60_000) {
  const keys = analyticsKeys(prefix, shards);
  const until = Date.now() + timeoutMs;
  for (;;) {
    let left = 0;
    for (let n = 0; n < shards; n++) left += await redis.xlen(keys.shard(n).stream);
    if (left === 0) return;
    if (Date.now() > until) throw new Error(`${left} stream entries still unapplied after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The day's totals as the dashboard reports them, against the script's ground truth. */
export function compareWithTruth(
  s: { views: Record<string, number>; watchSec: Record<string, number> },
  truth: Truth,
): string[] {
  const out: string[] = [];
  for (const p of ['web', 'tv', 'live-webrtc', 'total'] as const) {
    if (s.views[p] !== truth.views[p]) out.push(`views ${p}: ${s.views[p]} ≠ ${truth.views[p]}`);
    const ms = Math.round((s.watchSec[p] ?? 0) * 1000);
    if (ms !== truth.watchMs[p]) out.push(`watch ${p}: ${ms} ms ≠ ${truth.watchMs[p]} ms`);
  }
  return out;
}

export type { Beacon };
