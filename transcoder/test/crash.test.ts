// kill -9 the transcoder (and its ffmpeg) mid-job, start another: the job completes once, the output is
// valid, and no half-written lesson folder is ever visible.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { TranscodeResult } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { freePort, generateSampleVideo, useInfra, type TestInfra } from '@sky/devkit';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', 'dist', 'src', 'main.js');
let infra: TestInfra;
let media: string;
let queues: JobQueues;
const results: TranscodeResult[] = [];
const children: ChildProcess[] = [];

async function startTranscoder(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN], {
    detached: true, // its own process group, so kill -9 of the group takes its ffmpeg too
    stdio: 'ignore',
    env: {
      ...process.env,
      REDIS_URL: infra.redisUrl,
      QUEUE_PREFIX: infra.prefix,
      MEDIA_DIR: media,
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'crash-test-secret-at-least-32-characters',
      X264_PRESET: 'ultrafast',
      LOCK_DURATION_MS: '3000',
      STALLED_INTERVAL_MS: '1000',
    },
  });
  children.push(child);
  return child;
}

before(async () => {
  infra = await useInfra();
  media = mkdtempSync(join(tmpdir(), 'sky-crash-'));
  await generateSampleVideo(join(media, 'src', 'long.mp4'), {
    seconds: 40,
    width: 1920,
    height: 1080,
    fps: 30,
  });
  queues = createJobQueues(infra.redisUrl, infra.prefix);
  queues.consume({
    'transcode.result': async (r) => {
      results.push(r);
    },
  });
});

after(async () => {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await queues.close();
  await infra.close();
  rmSync(media, { recursive: true, force: true });
});

test('a transcoder killed with SIGKILL mid-encode: its job completes once on the next one', async () => {
  const first = await startTranscoder();
  await queues.enqueue('transcode.vod', {
    lessonId: 'crash1',
    source: 'src/long.mp4',
    outputDir: 'lessons/crash1/v1',
    requestedBy: 'test',
    kind: 'upload',
  });
  // Wait until ffmpeg is writing into the job's temp folder, then kill the whole process group.
  const tmpRoot = join(media, '.tmp');
  for (let i = 0; i < 200; i++) {
    if (existsSync(tmpRoot) && readdirSync(tmpRoot).some((d) => readdirSync(join(tmpRoot, d)).length > 0))
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(readdirSync(tmpRoot).length > 0, 'the first transcoder started the job');
  process.kill(-first.pid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!existsSync(join(media, 'lessons', 'crash1', 'v1')), 'nothing half-written is visible');
  assert.equal(results.length, 0);

  await startTranscoder();
  for (let i = 0; i < 600 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1500)); // a duplicate would arrive now
  assert.equal(results.length, 1, 'exactly one outcome');
  assert.equal(results[0]!.outcome, 'ready');
  const master = join(media, 'lessons', 'crash1', 'v1', 'web', 'master.m3u8');
  const { stderr } = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    join(media, 'lessons/crash1/v1/tv/720p/index.m3u8'),
    '-f',
    'null',
    '-',
  ]);
  assert.equal(stderr.trim(), '');
  assert.ok(existsSync(master));
  assert.deepEqual(readdirSync(tmpRoot), [], 'the dead attempt’s temp folder was cleared');
});
