// An api for the analytics failure tests, whose Mongo URI / Redis URL / prefix the test knows, so a
// separate aggregator process (api/src/analytics-worker.ts) can be started against the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobQueues } from '@sky/contracts/queue';
import type { Beacon } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { testLogger, useInfra } from '@sky/devkit';
import { connectMongo } from '../src/adapters/db.js';
import { createMediaProbe } from '../src/adapters/media-probe.js';
import { passwords } from '../src/adapters/password.js';
import { createApp, type ApiApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Truth } from './analytics-script.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface AnalyticsTestApi {
  app: ApiApp;
  env: Record<string, string>;
  prefix: string;
  close(): Promise<void>;
}

export async function startAnalyticsApi(opts: { env?: Record<string, string>; redisUrl?: string }) {
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
    ...opts.env,
  };
  const config = loadConfig(env);
  const mongo = await connectMongo(config.MONGODB_URI);
  const queues = createJobQueues(config.REDIS_URL, config.QUEUE_PREFIX);
  const app = await createApp({
    config,
    logger: testLogger('api', logOptions('api', 'info')),
    mongo,
    queues,
    passwords,
    probe: createMediaProbe({ ffprobe: 'ffprobe', ffmpeg: 'ffmpeg' }),
    version: 'test',
  });
  await app.http.ready();
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

/** The aggregator as a real process (tsx), with the api's env plus `extra`. */
export function spawnWorker(env: Record<string, string>, extra: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'api/src/analytics-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, ANALYTICS_WORKER: 'off', ...extra },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
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
