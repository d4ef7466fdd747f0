// The api serving packaged lessons from S3 (a real Swift with s3api): a lesson the transcoder's service
// published to the bucket plays over the api's /media with ffmpeg, byte ranges answer 206 as players and
// I-frame playlists need, and the bucket's private objects stay 404 as in the folder.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { MediaStorage } from '@sky/contracts/storage';
import { redisTarget, type Lesson } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { createJobQueues } from '@sky/contracts/queue';
import { generateSampleVideo, testLogger } from '@sky/devkit';
import { Upload } from 'tus-js-client';
import { createTusS3Store } from '../api/src/adapters/tus-s3.js';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { HlsService } from '../transcoder/src/services/hls.service.js';
import { createApp as createTranscoder } from '../transcoder/src/app.js';
import { composeStorage } from '../transcoder/src/compose.js';
import { loadConfig as transcoderConfig } from '../transcoder/src/config.js';
import { startS3, type S3Stack } from './s3-stack.ts';

const run = promisify(execFile);
let s3: S3Stack;
let store: MediaStorage;
let api: TestApi;
let base: string;
let work: string;
let bucket: string;
const segment = randomBytes(10_000);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sky-api-s3-'));
  s3 = await startS3();
  bucket = await s3.createBucket(`sky-${randomBytes(4).toString('hex')}`);
  store = s3.store(bucket);
  api = await startTestApi({}, { lessonStore: store, uploadBucket: createTusS3Store(s3.settings(bucket)) });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  await store.putBytes('lessons/l1/v1/tv/720p/seg_00000.ts', segment);
  await store.putBytes('uploads/l1/raw.mp4', randomBytes(100));
});
after(async () => {
  await api?.close();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A transcoder in this process on the bucket, with no media folder, as a deployment with S3 runs it. */
async function startS3Transcoder() {
  const tCfg = transcoderConfig({
    ...s3.env(bucket),
    REDIS_URL: api.redisUrl,
    QUEUE_PREFIX: api.prefix,
    JWT_SECRET: 'test-secret-that-is-at-least-32-characters',
    WORK_DIR: join(work, 'transcoder-work'),
    X264_PRESET: 'ultrafast',
    CONCURRENCY: '1',
  });
  assert.equal(tCfg.MEDIA_DIR, undefined);
  const queues = createJobQueues(redisTarget(tCfg, 'queue'), tCfg.QUEUE_PREFIX);
  const app = await createTranscoder({
    config: tCfg,
    logger: testLogger('transcoder', logOptions('transcoder', 'info')),
    queues,
    ffmpeg: createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    ...(await composeStorage(tCfg)),
    version: 'test',
  });
  return {
    async close() {
      await app.close();
      await queues.close();
    },
  };
}

async function waitReady(id: string): Promise<Lesson> {
  const headers = { authorization: `Bearer ${api.tokens.teacher}` };
  let lesson = (await (await fetch(`${base}/api/lessons/${id}`, { headers })).json()) as Lesson;
  for (let i = 0; i < 480 && lesson.status !== 'ready' && lesson.status !== 'failed'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    lesson = (await (await fetch(`${base}/api/lessons/${id}`, { headers })).json()) as Lesson;
  }
  return lesson;
}

test('a lesson published to S3 by the transcoder plays through the api’s /media', async () => {
  const source = await generateSampleVideo(join(work, 'src', 'lesson.mp4'), {
    seconds: 6,
    width: 640,
    height: 360,
    fps: 25,
  });
  await store.putFile('uploads/l2/lesson.mp4', source);
  const hls = new HlsService(
    createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    store,
    join(work, 'attempts'),
    'ultrafast',
  );
  const result = await hls.package(
    {
      lessonId: 'l2',
      source: 'uploads/l2/lesson.mp4',
      outputDir: 'lessons/l2/v1',
      requestedBy: 'test',
      kind: 'upload',
    },
    'a1',
  );
  assert.equal(result.outcome, 'ready');
  const master = await fetch(`${base}/media/lessons/l2/v1/web/master.m3u8`);
  assert.equal(master.status, 200);
  assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.match(await master.text(), /#EXT-X-STREAM-INF/);
  // ffmpeg as the player: the master, every rung's playlist, init and segments, all over HTTP from S3
  for (const playlist of ['web/master.m3u8', 'tv/master.m3u8']) {
    const { stderr } = await run('ffmpeg', [
      '-v',
      'error',
      '-i',
      `${base}/media/lessons/l2/v1/${playlist}`,
      '-map',
      '0',
      '-f',
      'null',
      '-',
    ]);
    assert.equal(stderr.trim(), '', `${playlist} decodes over the api`);
  }
  const poster = await fetch(`${base}/media/lessons/l2/v1/poster.jpg`);
  assert.equal(poster.headers.get('content-type'), 'image/jpeg');
  assert.equal(poster.headers.get('cache-control'), 'public, max-age=31536000, immutable');
});

test('byte ranges: 206 with Content-Range, a suffix range, 416 beyond the end, HEAD with the length', async () => {
  const url = `${base}/media/lessons/l1/v1/tv/720p/seg_00000.ts`;
  const whole = await fetch(url);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), segment);
  const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 100-199/10000');
  assert.equal(part.headers.get('content-type'), 'video/mp2t');
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), segment.subarray(100, 200));
  const tail = await fetch(url, { headers: { range: 'bytes=-50' } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), segment.subarray(9950));
  const beyond = await fetch(url, { headers: { range: 'bytes=20000-' } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), 'bytes */10000');
  const head = await fetch(url, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '10000');
  assert.equal(head.headers.get('x-content-type-options'), 'nosniff');
  assert.match(head.headers.get('content-security-policy') ?? '', /sandbox/);
});

test('private and missing objects are 404, as from the folder; live HLS comes from the bucket too', async () => {
  for (const path of [
    '/media/uploads/l1/raw.mp4',
    '/media/lessons/l1/v1/none.ts',
    '/media/lessons/l1/v1/%2e%2e/%2e%2e/%2e%2e/uploads/l1/raw.mp4',
    '/media/lessons/l1/v1/tv/720p/seg_00000.exe',
  ]) {
    const r = await fetch(`${base}${path}`);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  }
  // the sfu's spool folder is not what viewers read: only what the bridge stored in the bucket
  mkdirSync(join(api.mediaDir, 'live', 'x1', 'web'), { recursive: true });
  writeFileSync(join(api.mediaDir, 'live', 'x1', 'web', 'spool.m3u8'), '#EXTM3U\n');
  assert.equal((await fetch(`${base}/media/live/x1/web/spool.m3u8`)).status, 404);
  await store.putBytes('live/x1/web/index.m3u8', '#EXTM3U\n');
  const live = await fetch(`${base}/media/live/x1/web/index.m3u8`);
  assert.equal(live.status, 200);
  assert.equal(live.headers.get('cache-control'), 'public, max-age=0, s-maxage=1');
  assert.equal(await live.text(), '#EXTM3U\n');
});

test('S3 end to end: a tus upload goes to the bucket, a transcoder with no media folder packages it, the api plays it, deleting the lesson empties its prefixes', async () => {
  const transcoder = await startS3Transcoder();
  try {
    const token = api.tokens.teacher;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = (await (
      await fetch(`${base}/api/lessons`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: 'S3 课', grade: 'p3', subject: '数学' }),
      })
    ).json()) as Lesson;
    const file = await generateSampleVideo(join(work, 'upload.mp4'), {
      seconds: 6,
      width: 640,
      height: 360,
      fps: 25,
    });
    await new Promise<void>((resolve, reject) => {
      new Upload(readFileSync(file), {
        endpoint: `${base}/api/uploads`,
        chunkSize: 512 * 1024,
        metadata: { lessonId: created.id, filename: 'lesson.mp4' },
        headers: { authorization: `Bearer ${token}` },
        onSuccess: () => resolve(),
        onError: reject,
      }).start();
    });
    const uploads = await store.list(`uploads/${created.id}`);
    assert.equal(uploads.length, 1, 'the finished upload is in the bucket');
    assert.ok(!existsSync(join(api.mediaDir, 'uploads', created.id)), 'and not left in the api’s folder');
    const lesson = await waitReady(created.id);
    assert.equal(lesson.status, 'ready', lesson.failureReason);
    for (const url of [lesson.playbackUrl!, lesson.tvPlaybackUrl!]) {
      const { stderr } = await run('ffmpeg', [
        '-v',
        'error',
        '-i',
        `${base}${url}`,
        '-map',
        '0',
        '-f',
        'null',
        '-',
      ]);
      assert.equal(stderr.trim(), '', `${url} decodes over the api from S3`);
    }
    assert.ok((await store.list(`lessons/${created.id}`)).length > 20);
    const del = await fetch(`${base}/api/lessons/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(del.status === 204 || del.status === 200, `delete answered ${del.status}`);
    assert.deepEqual(await store.list(`lessons/${created.id}`), []);
    assert.deepEqual(await store.list(`uploads/${created.id}`), []);
  } finally {
    await transcoder.close();
  }
});

test('S3: a live lesson’s recording (left by the sfu in the media folder) is copied to the bucket and becomes the replay', async () => {
  const teacher = { authorization: `Bearer ${api.tokens.teacher}`, 'content-type': 'application/json' };
  const created = (await (
    await fetch(`${base}/api/lessons`, {
      method: 'POST',
      headers: teacher,
      body: JSON.stringify({ title: '直播回放 S3', grade: 'p3', subject: '数学' }),
    })
  ).json()) as Lesson;
  const live = await fetch(`${base}/api/lessons/${created.id}/live`, {
    method: 'POST',
    headers: teacher,
    body: '{}',
  });
  assert.ok(live.ok, `go live answered ${live.status}: ${await live.clone().text()}`);
  const { startedAt } = (await live.json()) as { startedAt: string };
  const recording = `live/${created.id}/recording/recording.mp4`;
  await generateSampleVideo(join(api.mediaDir, recording), { seconds: 4, width: 640, height: 360, fps: 25 });
  const transcoder = await startS3Transcoder();
  const sfuQueues = createJobQueues(api.redisUrl, api.prefix);
  try {
    await sfuQueues.enqueue('live.ended', {
      lessonId: created.id,
      recording,
      startedAt,
      endedAt: new Date().toISOString(),
    });
    const lesson = await waitReady(created.id);
    assert.equal(lesson.status, 'ready', lesson.failureReason);
    assert.ok(await store.head(recording), 'the recording is in the bucket');
    const { stderr } = await run('ffmpeg', [
      '-v',
      'error',
      '-i',
      `${base}${lesson.playbackUrl!}`,
      '-f',
      'null',
      '-',
    ]);
    assert.equal(stderr.trim(), '', 'the replay decodes over the api from S3');
  } finally {
    await sfuQueues.close();
    await transcoder.close();
  }
});
