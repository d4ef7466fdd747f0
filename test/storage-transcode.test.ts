// Transcoding with no shared folder: two transcoder processes, each with a private work folder, read the
// upload from S3 (a real Swift with s3api) and publish there. One is killed with SIGKILL mid-encode; the
// other finishes the job: one completion, every rung listed and decodable from what S3 holds.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseMediaPlaylist, type TranscodeResult } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import type { MediaStorage } from '@sky/contracts/storage';
import { freePort, generateSampleVideo, useInfra, waitForPort, type TestInfra } from '@sky/devkit';
import { startS3, type S3Stack } from './s3-stack.ts';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', 'transcoder', 'dist', 'src', 'main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let infra: TestInfra;
let s3: S3Stack;
let bucket: string;
let store: MediaStorage;
let queues: JobQueues;
let dir: string;
const results: TranscodeResult[] = [];
const children: ChildProcess[] = [];

interface Worker {
  child: ChildProcess;
  workDir: string;
  port: number;
}

async function startTranscoder(name: string, workDir: string): Promise<Worker> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...s3.env(bucket),
    REDIS_URL: infra.redisUrl,
    QUEUE_PREFIX: infra.prefix,
    WORK_DIR: workDir,
    PORT: String(port),
    LOG_LEVEL: 'info',
    JWT_SECRET: 'storage-test-secret-at-least-32-characters',
    X264_PRESET: 'ultrafast',
    CONCURRENCY: '1',
    LOCK_DURATION_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
  };
  delete env['MEDIA_DIR']; // no shared folder: the store is the only thing the workers share
  const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [MAIN], {
    detached: true, // its own process group, so kill -9 of the group takes its ffmpeg too
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  children.push(child);
  await waitForPort(port, 60_000);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200, `${name} is healthy: ${await health.text()}`);
  return { child, workDir, port };
}

/** How many bytes `w`'s attempt has encoded so far (its intermediate file). */
function encodedBytes(w: Worker): number {
  for (const attempt of existsSync(w.workDir) ? readdirSync(w.workDir) : []) {
    const file = join(w.workDir, attempt, 'encoded.mkv');
    if (existsSync(file)) return statSync(file).size;
  }
  return 0;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sky-storage-transcode-'));
  [infra, s3] = await Promise.all([useInfra(), startS3()]);
  console.log(`swift + s3api up in ${s3.startSec.toFixed(2)} s`);
  bucket = await s3.createBucket(`sky-${infra.prefix}`);
  store = s3.store(bucket);
  const sample = await generateSampleVideo(join(dir, 'upload.mp4'), {
    seconds: 24,
    width: 1280,
    height: 720,
    fps: 25,
  });
  await store.putFile('uploads/s3kill/upload.mp4', sample);
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
  await queues?.close();
  await infra?.close();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('two transcoders, no shared folder: one killed mid-encode, the other publishes the lesson to S3 once', async () => {
  const t0 = performance.now();
  const workers = await Promise.all([
    startTranscoder('transcoder-a', join(dir, 'work-a')),
    startTranscoder('transcoder-b', join(dir, 'work-b')),
  ]);
  await queues.enqueue('transcode.vod', {
    lessonId: 's3kill',
    source: 'uploads/s3kill/upload.mp4',
    outputDir: 'lessons/s3kill/v1',
    requestedBy: 'test',
    kind: 'upload',
  });
  let victim: Worker | undefined;
  for (let i = 0; i < 1200 && !victim; i++) {
    // well into the encode (the whole intermediate is some 20 MB), not at its first byte
    victim = workers.find((w) => encodedBytes(w) > 2_000_000);
    if (!victim) await sleep(100);
  }
  assert.ok(victim, 'a transcoder fetched the upload from S3 and began encoding');
  const survivor = workers.find((w) => w !== victim)!;
  process.kill(-victim.child.pid!, 'SIGKILL');
  const killedBytes = encodedBytes(victim);
  const killedAt = performance.now();
  await sleep(300);
  assert.equal(await store.head('lessons/s3kill/v1/web/master.m3u8'), undefined, 'no master before the end');
  assert.equal(results.length, 0);

  for (let i = 0; i < 2400 && results.length === 0; i++) await sleep(200);
  const doneAt = performance.now();
  await sleep(2000); // a duplicate completion would arrive now
  const completions: number = results.length;
  assert.equal(completions, 1, 'exactly one completion');
  const result = results[0]!;
  assert.equal(result.outcome, 'ready');
  assert.ok(result.outcome === 'ready' && result.master === 'lessons/s3kill/v1/web/master.m3u8');

  // Everything back from S3 into a folder of our own, then decoded rung by rung.
  const objects = await store.list('lessons/s3kill/v1');
  const local = join(dir, 'fetched');
  for (const o of objects) {
    const file = join(local, o.key);
    mkdirSync(dirname(file), { recursive: true });
    const got = await store.get(o.key);
    const chunks: Buffer[] = [];
    for await (const c of got!.body) chunks.push(c as Buffer);
    await writeFile(file, Buffer.concat(chunks));
  }
  const root = join(local, 'lessons/s3kill/v1');
  let segments = 0;
  const rungs: string[] = [];
  for (const packaging of ['web', 'tv']) {
    const lines = (await readFile(join(root, packaging, 'master.m3u8'), 'utf8')).split('\n');
    const listed = lines.filter((l, i) => lines[i - 1]?.startsWith('#EXT-X-STREAM-INF')).map((l) => l.trim());
    const present = readdirSync(join(root, packaging), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${d.name}/index.m3u8`)
      .sort();
    assert.deepEqual([...listed].sort(), present, `the ${packaging} master lists every rung`);
    for (const rung of listed) {
      const playlist = join(root, packaging, rung);
      const segs = parseMediaPlaylist(await readFile(playlist, 'utf8'));
      for (const s of segs) assert.ok(existsSync(join(dirname(playlist), s.uri)), `${rung}: ${s.uri} in S3`);
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', playlist, '-f', 'null', '-']);
      assert.equal(stderr.trim(), '', `${packaging}/${rung} decodes`);
      segments += segs.length;
      rungs.push(`${packaging}/${rung}`);
    }
  }
  assert.ok(objects.some((o) => o.key.endsWith('poster.jpg')));
  assert.equal(
    (await store.head('lessons/s3kill/v1/web/master.m3u8'))?.contentType,
    'application/vnd.apple.mpegurl',
  );

  // The survivor removed its own attempt's folder; the dead attempt's folder was left to its own host's next
  // process, which sweeps it at start (nobody else's retry deleted it).
  assert.deepEqual(readdirSync(survivor.workDir), []);
  assert.equal(
    readdirSync(victim.workDir).length,
    1,
    'the killed attempt’s folder was not touched by the retry',
  );
  const restarted = await startTranscoder('transcoder-a2', victim.workDir);
  assert.deepEqual(readdirSync(restarted.workDir), [], 'a new process on that folder swept the dead attempt');

  console.log(
    `kill→completion ${((doneAt - killedAt) / 1000).toFixed(1)} s, total ${((doneAt - t0) / 1000).toFixed(1)} s; ` +
      `${segments} segments decoded from S3 over ${rungs.length} rungs (${rungs.join(', ')}); ` +
      `${objects.length} objects; completions ${completions}; killed at ${killedBytes} bytes encoded`,
  );
});
