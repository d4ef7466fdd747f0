// tus uploads with media on S3 (a real Swift with s3api) and two api processes, as a deployment behind a
// balancer runs them: an upload begun through one process is resumed through the other where it stopped
// (its parts are in the bucket, not on either machine), and a PATCH stalled on one process gives way to
// the teacher's retry on the other (the upload's lock is in Redis and its holder is asked to let go).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Lesson } from '@sky/contracts';
import { Upload } from 'tus-js-client';
import { createTusS3Store } from '../api/src/adapters/tus-s3.js';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { startS3, type S3Stack } from './s3-stack.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
/** Under S3's 5 MiB least part: the first PATCH waits in `<key>.part`, the second makes a part of both. */
const CHUNK = 3 * MiB;

let s3: S3Stack;
let bucket: string;
let api: TestApi;
let replica: Awaited<ReturnType<TestApi['replica']>>;
let urlA: string;
let work: string;
let file: Buffer;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sky-uploads-s3-'));
  // a real lesson file of about 12 MB: four chunks, two S3 parts
  const path = join(work, 'lesson.mp4');
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi'],
    ...['-i', 'sine=frequency=440', '-t', '7', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0'],
    ...['-c:a', 'aac', '-shortest', '-movflags', '+faststart', path],
  ]);
  file = readFileSync(path);
  s3 = await startS3();
  bucket = await s3.createBucket(`sky-up-${randomBytes(4).toString('hex')}`);
  const media = () => ({
    lessonStore: s3.store(bucket),
    uploadBucket: createTusS3Store(s3.settings(bucket)),
  });
  api = await startTestApi({}, media());
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  urlA = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  replica = await api.replica(media());
});
after(async () => {
  await replica?.close();
  await api?.close();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function newLesson(title: string): Promise<Lesson> {
  const res = await fetch(`${urlA}/api/lessons`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.tokens.teacher}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title, grade: 'p3', subject: '数学' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Lesson;
}

async function lessonNow(id: string): Promise<Lesson> {
  const res = await fetch(`${urlA}/api/lessons/${id}`, {
    headers: { authorization: `Bearer ${api.tokens.teacher}` },
  });
  return (await res.json()) as Lesson;
}

/**
 * tus-js-client as the teacher's page runs it, from `endpoint` or resuming `uploadUrl`. With `stopAfter`,
 * the connection "drops" once that many bytes are acknowledged: `stopped` then settles with the upload's URL.
 */
function tusUpload(
  lessonId: string,
  at: { endpoint: string } | { uploadUrl: string },
  stopAfter = Infinity,
): { done: Promise<void>; stopped: Promise<string> } {
  let upload!: Upload;
  let stop!: (url: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const done = new Promise<void>((resolve, reject) => {
    upload = new Upload(file, {
      ...at,
      chunkSize: CHUNK,
      retryDelays: [200, 500, 1000, 2000],
      metadata: { lessonId, filename: '第一课.mp4' },
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
      onChunkComplete: (_size, sent) => {
        if (sent >= stopAfter) void upload.abort().then(() => stop(upload.url!));
      },
      onSuccess: () => resolve(),
      onError: reject,
    });
    upload.start();
  });
  return { done, stopped };
}

/** The bytes the bucket holds under a lesson's uploads, by key. */
async function bucketUploads(lessonId: string) {
  const store = s3.store(bucket);
  return Promise.all(
    (await store.list(`uploads/${lessonId}`)).map(async (o) => {
      const got = await store.get(o.key);
      const chunks: Buffer[] = [];
      for await (const c of got!.body as AsyncIterable<Buffer>) chunks.push(c);
      return { key: o.key, bytes: Buffer.concat(chunks) };
    }),
  );
}

/** Files left in an api's media folder (uploads in progress would be in `.uploads`). */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test('an upload begun through one api process resumes through another where it stopped, and lands whole in the bucket', async () => {
  const lesson = await newLesson('断点续传');
  // two chunks through A, then the connection "drops"
  const urlOnA = await tusUpload(lesson.id, { endpoint: `${urlA}/api/uploads` }, 2 * CHUNK).stopped;
  assert.ok(urlOnA.startsWith(`${urlA}/api/uploads/`), urlOnA);
  const urlOnB = urlOnA.replace(urlA, replica.url);

  // B knows how far A got: the bytes are in the bucket (a part and the pending tail), not on A's disk
  const head = await fetch(urlOnB, {
    method: 'HEAD',
    headers: { authorization: `Bearer ${api.tokens.teacher}`, 'tus-resumable': '1.0.0' },
  });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('upload-offset')), 2 * CHUNK, 'offset as A left it, read on B');
  assert.deepEqual(filesIn(api.mediaDir), [], 'nothing of the upload on A’s disk');

  const second = tusUpload(lesson.id, { uploadUrl: urlOnB });
  await second.done;
  const kept = await bucketUploads(lesson.id);
  assert.match(kept[0]?.key ?? '', new RegExp(`^uploads/${lesson.id}/[a-f0-9-]{36}\\.mp4$`));
  assert.deepEqual(
    kept.map((o) => o.key),
    [Buffer.from(urlOnA.split('/').pop()!, 'base64url').toString()],
    'one object: the upload, at its lesson’s key (no .info or .part left)',
  );
  assert.equal(sha(kept[0]!.bytes), sha(file), 'the bucket holds the file byte for byte');
  assert.deepEqual([...filesIn(api.mediaDir), ...filesIn(replica.mediaDir)], [], 'and neither api’s disk');
  const now = await lessonNow(lesson.id);
  assert.equal(now.status, 'processing', now.failureReason ?? 'queued for the transcoders');
  console.log(
    `[uploads-s3] ${(file.length / MiB).toFixed(1)} MiB: ${(2 * CHUNK) / MiB} MiB through A, the rest through B; ` +
      `HEAD on B said ${Number(head.headers.get('upload-offset')) / MiB} MiB; bucket object sha256 matches`,
  );
});

test('a PATCH stalled on one process gives way to the retry on the other within seconds (the lock is shared)', async () => {
  const lesson = await newLesson('卡住的连接');
  // create the upload through A, then start a PATCH on A that sends 1 MiB and stalls, its socket open
  const urlOnA = await tusUpload(lesson.id, { endpoint: `${urlA}/api/uploads` }, CHUNK).stopped;
  const offset = Number(
    (
      await fetch(urlOnA, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${api.tokens.teacher}`, 'tus-resumable': '1.0.0' },
      })
    ).headers.get('upload-offset'),
  );
  const stalled = request(urlOnA, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${api.tokens.teacher}`,
      'tus-resumable': '1.0.0',
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
      'content-length': String(file.length - offset),
    },
  });
  let gaveWayAt = 0;
  const stalledEnded = new Promise<string>((resolve) => {
    stalled.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        gaveWayAt = performance.now();
        resolve(`answered ${res.statusCode}`);
      });
    });
    stalled.on('error', (err) => {
      gaveWayAt = performance.now();
      resolve(`closed (${err.message})`);
    });
  });
  stalled.write(file.subarray(offset, offset + MiB));
  await new Promise((r) => setTimeout(r, 1000)); // A holds the upload's lock now

  const t0 = performance.now();
  const retry = tusUpload(lesson.id, { uploadUrl: urlOnA.replace(urlA, replica.url) });
  await retry.done;
  const tookSec = (performance.now() - t0) / 1000;
  const stalledSaid = await Promise.race([
    stalledEnded,
    new Promise<string>((r) => setTimeout(() => r('open'), 5000)),
  ]);
  stalled.destroy();
  assert.notEqual(stalledSaid, 'open', 'A ended the stalled PATCH when B asked for the lock');
  // tus gives a request it asks to stop 3 s to drain (lockDrainTimeout); a lock never asked for would
  // hold B's requests for the 30 s lock timeout
  const gaveWaySec = (gaveWayAt - t0) / 1000;
  assert.ok(gaveWaySec < 5, `A let go of the upload ${gaveWaySec.toFixed(1)} s after B began`);
  assert.ok(tookSec < 25, `the retry on B finished ${tookSec.toFixed(1)} s after it began`);
  const kept = await bucketUploads(lesson.id);
  assert.equal(kept.length, 1);
  assert.equal(sha(kept[0]!.bytes), sha(file), 'the bucket holds the file byte for byte');
  assert.equal((await lessonNow(lesson.id)).status, 'processing');
  console.log(
    `[uploads-s3] stalled PATCH on A ${stalledSaid} ${gaveWaySec.toFixed(2)} s after B began; ` +
      `the upload finished through B in ${tookSec.toFixed(2)} s`,
  );
});

test('bad uploads are refused before anything reaches the bucket: metadata named, foreign ids unknown', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const before = (await s3.store(bucket).list('uploads')).length;
  const post = await fetch(`${replica.url}/api/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${api.tokens.teacher}`,
      'tus-resumable': '1.0.0',
      'upload-length': '1000',
      'upload-metadata': `filename ${b64('x.mp4')},lessonId ${b64('../../lessons/x')}`,
    },
  });
  assert.equal(post.status, 400);
  assert.match(await post.text(), /metadata\.lessonId/);
  // an id that is not one of ours (another prefix of the bucket) is not an upload
  for (const id of ['lessons/l1/v1/master.m3u8', `uploads/${'a'.repeat(24)}/../../x`]) {
    const head = await fetch(`${replica.url}/api/uploads/${Buffer.from(id).toString('base64url')}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${api.tokens.teacher}`, 'tus-resumable': '1.0.0' },
    });
    assert.equal(head.status, 404, id);
  }
  assert.equal((await s3.store(bucket).list('uploads')).length, before, 'nothing stored');
});
