// The thin end-to-end path through the platform, on real parts only: mongod, redis-server, BullMQ,
// ffmpeg, the api serving the built web client, and Debian's Chromium playing the lesson with hls.js.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  redisTarget,
  type Lesson,
  type QueueTicket,
  type TokenPair,
  type TranscodeProgress,
} from '@sky/contracts';
import { io as ioClient } from 'socket.io-client';
import { Upload } from 'tus-js-client';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { logOptions } from '@sky/contracts/http';
import { generateSampleVideo, launchChromium, type TestInfra, testLogger, useInfra } from '@sky/devkit';
import type { Connection } from 'mongoose';
import { connectMongo } from '@sky/contracts/mongo';
import { createMediaProbe } from '../api/src/adapters/media-probe.js';
import { passwords } from '../api/src/adapters/password.js';
import { createApp as createApi, type ApiApp } from '../api/src/app.js';
import { loadConfig as apiConfig } from '../api/src/config.js';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { createApp as createTranscoder } from '../transcoder/src/app.js';
import { composeStorage } from '../transcoder/src/compose.js';
import { loadConfig as transcoderConfig } from '../transcoder/src/config.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results');
const run = promisify(execFile);

let infra: TestInfra;
let media: string;
let mongo: Connection;
let apiQueues: JobQueues;
let trQueues: JobQueues;
let api: ApiApp;
let transcoder: Awaited<ReturnType<typeof createTranscoder>>;
let base: string;

before(async () => {
  infra = await useInfra();
  media = mkdtempSync(join(tmpdir(), 'sky-e2e-media-'));
  mkdirSync(SHOTS, { recursive: true });
  await generateSampleVideo(join(media, 'samples', 'e2e.mp4'), {
    seconds: 20,
    width: 1280,
    height: 720,
    fps: 25,
  });

  const aCfg = apiConfig({
    MONGODB_URI: infra.mongoUri,
    REDIS_URL: infra.redisUrl,
    QUEUE_PREFIX: infra.prefix,
    JWT_SECRET: 'e2e-secret-that-is-at-least-32-characters!',
    MEDIA_DIR: media,
    WEB_DIST_DIR: join(ROOT, 'web-client', 'dist'),
    PORT: '0',
  });
  mongo = await connectMongo(aCfg.MONGODB_URI);
  apiQueues = createJobQueues(redisTarget(aCfg, 'queue'), aCfg.QUEUE_PREFIX);
  api = await createApi({
    config: aCfg,
    logger: testLogger('api', logOptions('api', 'info')),
    mongo,
    queues: apiQueues,
    passwords,
    probe: createMediaProbe({ ffprobe: 'ffprobe', ffmpeg: 'ffmpeg' }),
    version: 'e2e',
  });
  await api.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const tCfg = transcoderConfig({
    JWT_SECRET: 'e2e-secret-that-is-at-least-32-characters!',
    REDIS_URL: infra.redisUrl,
    QUEUE_PREFIX: infra.prefix,
    MEDIA_DIR: media,
    CONCURRENCY: '1',
  });
  trQueues = createJobQueues(redisTarget(tCfg, 'queue'), tCfg.QUEUE_PREFIX);
  transcoder = await createTranscoder({
    config: tCfg,
    logger: testLogger('transcoder', logOptions('transcoder', 'info')),
    queues: trQueues,
    ffmpeg: createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    ...(await composeStorage(tCfg)),
    version: 'e2e',
  });

  for (const [username, role] of [
    ['teacher.e2e', 'teacher'],
    ['student.e2e', 'student'],
  ] as const) {
    await api.services.users.create({
      username,
      password: 'e2e-password-123',
      displayName: role === 'teacher' ? '端到端老师' : '端到端学生',
      role,
      ...(role === 'student' ? { grade: 'p3' as const } : {}),
    });
  }
});

after(async () => {
  await transcoder?.close();
  await api?.close();
  await Promise.all([apiQueues?.close(), trQueues?.close()]);
  await mongo?.dropDatabase();
  await mongo?.close();
  await infra?.close();
  rmSync(media, { recursive: true, force: true });
});

async function call<T>(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

test('teacher → lesson → transcode job → HLS → ready in Mongo → a student plays it in Chromium', async () => {
  const login = await call<TokenPair>('POST', '/api/auth/login', undefined, {
    username: 'teacher.e2e',
    password: 'e2e-password-123',
  });
  assert.equal(login.status, 200);
  const token = login.json.accessToken;

  const created = await call<Lesson>('POST', '/api/lessons', token, {
    title: '端到端示例课',
    grade: 'p3',
    subject: '数学',
  });
  assert.equal(created.status, 201);
  assert.equal(created.json.status, 'draft');

  // The teacher's page follows the lesson over socket.io and sees transcoding progress live.
  const progress: TranscodeProgress[] = [];
  const socket = ioClient(`${base}/lessons`, { auth: { token }, transports: ['websocket'] });
  socket.on('lesson:progress', (p: TranscodeProgress) => progress.push(p));
  const watched = await socket.timeout(5000).emitWithAck('lesson:watch', { lessonId: created.json.id });
  assert.deepEqual(watched, { ok: true, data: { lessonId: created.json.id } });

  const queued = await call<Lesson>('POST', `/api/lessons/${created.json.id}/transcode`, token, {
    source: 'samples/e2e.mp4',
  });
  assert.equal(queued.status, 202);
  assert.equal(queued.json.status, 'processing');

  let lesson = queued.json;
  for (let i = 0; i < 240 && lesson.status === 'processing'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    lesson = (await call<Lesson>('GET', `/api/lessons/${created.json.id}`, token)).json;
  }
  assert.equal(lesson.status, 'ready', `lesson ended as ${lesson.status}: ${lesson.failureReason ?? ''}`);
  for (let i = 0; i < 20 && progress.at(-1)?.percent !== 100; i++)
    await new Promise((r) => setTimeout(r, 100));
  socket.disconnect();
  assert.ok(progress.length >= 2, `progress events: ${progress.length}`);
  assert.equal(progress.at(-1)?.percent, 100);
  assert.ok(
    progress.every((p, i) => i === 0 || p.percent >= progress[i - 1]!.percent),
    'progress never goes back',
  );
  assert.ok(lesson.playbackUrl?.endsWith('/master.m3u8'));
  assert.ok(Math.abs((lesson.durationSec ?? 0) - 20) < 0.5, `duration ${lesson.durationSec}`);

  const stored = await mongo.collection('lessons').findOne({ title: '端到端示例课' });
  assert.equal(stored?.['status'], 'ready');

  const master = await fetch(`${base}${lesson.playbackUrl}`);
  assert.equal(master.status, 200);
  assert.match(master.headers.get('content-type') ?? '', /mpegurl/);
  const text = await master.text();
  // 720p source: 720p, 540p, 360p, 234p and the audio-only rung
  assert.equal((text.match(/#EXT-X-STREAM-INF/g) ?? []).length, 5, text);
  assert.ok(lesson.tvPlaybackUrl?.endsWith('/tv/master.m3u8'));
  const tv = await (await fetch(`${base}${lesson.tvPlaybackUrl}`)).text();
  assert.match(tv, /^#EXTM3U\n#EXT-X-VERSION:3\n/);
  assert.equal((await fetch(`${base}${lesson.posterUrl}`)).headers.get('content-type'), 'image/jpeg');

  const probe = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,height',
    '-of',
    'json',
    `${base}${lesson.playbackUrl}`,
  ]);
  const streams = (JSON.parse(probe.stdout) as { streams: { codec_type: string; height?: number }[] })
    .streams;
  assert.deepEqual(
    [...new Set(streams.filter((s) => s.height).map((s) => s.height))].sort((a, b) => a! - b!),
    [234, 360, 540, 720],
  );
  assert.ok(streams.some((s) => s.codec_type === 'audio'));

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/login`);
    await page.getByTestId('login-username').fill('student.e2e');
    await page.getByTestId('login-password').fill('e2e-password-123');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('lesson-card').filter({ hasText: '端到端示例课' }).click();
    await page.waitForSelector('#player');
    await page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('#player')!;
      v.muted = true;
      return v.play().catch(() => undefined);
    });
    await page.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('#player')?.currentTime ?? 0) > 2,
      undefined,
      {
        timeout: 30_000,
      },
    );
    const played = await page.evaluate(
      () => document.querySelector<HTMLVideoElement>('#player')!.currentTime,
    );
    assert.ok(played > 2, `video time advanced to ${played}s`);
    await page.screenshot({ path: join(SHOTS, 'e2e-lesson-playing.png') });

    // The quality menu switches rungs: the lowest one decodes at 234 lines, the top one at 720.
    const quality = page.getByTestId('quality');
    const options = await quality.locator('option').allInnerTexts();
    assert.deepEqual(options.slice(1), ['720p', '540p', '360p', '234p']);
    for (const [label, height] of [
      ['234p', 234],
      ['720p', 720],
    ] as const) {
      await quality.selectOption({ label });
      await page.waitForFunction(
        (h) => document.querySelector<HTMLVideoElement>('#player')?.videoHeight === h,
        height,
        {
          timeout: 20_000,
        },
      );
    }
    await page.getByTestId('speed').selectOption({ label: '1.5×' });
    assert.equal(
      await page.evaluate(() => document.querySelector<HTMLVideoElement>('#player')!.playbackRate),
      1.5,
    );
    assert.match(await page.locator('main').innerText(), /端到端老师/);

    // Seek previews: the storyboard thumbnail of the moment under the pointer; a click seeks there.
    const bar = page.getByTestId('seek-bar');
    const box = (await bar.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.getByTestId('seek-thumb').waitFor();
    await page.screenshot({ path: join(SHOTS, 'e2e-seek-preview.png') });
    await page.mouse.click(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('#player')?.currentTime ?? 0) >= 12,
    );
    await page.waitForTimeout(300);

    // Back later: the lesson resumes where the student stopped.
    await page.reload();
    await page.getByTestId('resumed').waitFor({ timeout: 30_000 });
    const resumed = await page.evaluate(
      () => document.querySelector<HTMLVideoElement>('#player')!.currentTime,
    );
    assert.ok(resumed >= 11, `resumed at ${resumed}s`);
  } finally {
    await browser.dispose();
  }
});

test('a text file renamed .mp4 ends as a failed lesson with the reason, and the queue goes on', async () => {
  writeFileSync(join(media, 'samples', 'notes.mp4'), '这不是视频 — just lesson notes\n'.repeat(50));
  const token = (
    await call<TokenPair>('POST', '/api/auth/login', undefined, {
      username: 'teacher.e2e',
      password: 'e2e-password-123',
    })
  ).json.accessToken;
  const created = await call<Lesson>('POST', '/api/lessons', token, {
    title: '坏文件',
    grade: 'p3',
    subject: '语文',
  });
  const queued = await call<Lesson>('POST', `/api/lessons/${created.json.id}/transcode`, token, {
    source: 'samples/notes.mp4',
  });
  assert.equal(queued.status, 202);
  let lesson = queued.json;
  for (let i = 0; i < 120 && lesson.status === 'processing'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    lesson = (await call<Lesson>('GET', `/api/lessons/${created.json.id}`, token)).json;
  }
  assert.equal(lesson.status, 'failed');
  assert.match(lesson.failureReason ?? '', /not a readable media file/);
  assert.equal(lesson.playbackUrl, undefined);

  const missing = await call<{ code: string }>('POST', `/api/lessons/${created.json.id}/transcode`, token, {
    source: 'samples/nothing-here.mp4',
  });
  assert.equal(missing.status, 404);
  const escape = await call<{ errors: { path: string }[] }>(
    'POST',
    `/api/lessons/${created.json.id}/transcode`,
    token,
    {
      source: '../../etc/passwd',
    },
  );
  assert.equal(escape.status, 400);
  assert.deepEqual(
    escape.json.errors.map((e) => e.path),
    ['body.source'],
  );
});

test('the lessons socket refuses students, forged tokens, and other teachers’ lessons', async () => {
  await api.services.users.create({
    username: 'student.sock',
    password: 'e2e-password-123',
    displayName: 's',
    role: 'student',
    grade: 'p1',
  });
  const student = (
    await call<TokenPair>('POST', '/api/auth/login', undefined, {
      username: 'student.sock',
      password: 'e2e-password-123',
    })
  ).json.accessToken;
  for (const token of [student, 'forged.token.value']) {
    const s = ioClient(`${base}/lessons`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    const err = await new Promise<Error & { data?: { code?: string } }>((resolve) =>
      s.on('connect_error', resolve),
    );
    assert.ok(['FORBIDDEN', 'UNAUTHENTICATED'].includes(err.data?.code ?? ''), err.message);
    s.close();
  }
  const teacher = (
    await call<TokenPair>('POST', '/api/auth/login', undefined, {
      username: 'teacher.e2e',
      password: 'e2e-password-123',
    })
  ).json.accessToken;
  const s = ioClient(`${base}/lessons`, {
    auth: { token: teacher },
    transports: ['websocket'],
    reconnection: false,
  });
  const bad = await s.timeout(5000).emitWithAck('lesson:watch', { lessonId: '../../etc' });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'VALIDATION_FAILED');
  const missing = await s.timeout(5000).emitWithAck('lesson:watch', { lessonId: '0123456789abcdef01234567' });
  assert.equal(missing.error.code, 'NOT_FOUND');
  s.close();
});

test('the queue UI on the transcoder is for admins only', async () => {
  const tokenOf = async (username: string) =>
    (await call<TokenPair>('POST', '/api/auth/login', undefined, { username, password: 'e2e-password-123' }))
      .json.accessToken;
  await api.services.users.create({
    username: 'admin.e2e',
    password: 'e2e-password-123',
    displayName: 'a',
    role: 'admin',
  });
  const ui = transcoder.http;
  assert.equal((await ui.inject({ url: '/queues' })).statusCode, 401);
  const teacher = await tokenOf('teacher.e2e');
  // the one-use ticket comes from the api, for admins only; an access token in the URL opens nothing
  assert.equal((await call('POST', '/api/status/queue-ticket', teacher)).status, 403);
  assert.equal(
    (await ui.inject({ url: '/queues', headers: { authorization: `Bearer ${teacher}` } })).statusCode,
    403,
  );
  const admin = await tokenOf('admin.e2e');
  assert.equal((await ui.inject({ url: `/queues/login?token=${admin}` })).statusCode, 401);
  assert.equal((await ui.inject({ url: `/queues/login?ticket=${admin}` })).statusCode, 401);
  const { ticket } = (await call<QueueTicket>('POST', '/api/status/queue-ticket', admin)).json;
  const login = await ui.inject({ url: `/queues/login?ticket=${encodeURIComponent(ticket)}` });
  assert.equal(login.statusCode, 302);
  assert.equal(
    (await ui.inject({ url: `/queues/login?ticket=${encodeURIComponent(ticket)}` })).statusCode,
    401,
    'a ticket opens the queue UI once',
  );
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  assert.match(String(login.headers['set-cookie']), /HttpOnly/);
  const page = await ui.inject({ url: '/queues', headers: { cookie } });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<html/i);
  const list = await ui.inject({ url: '/queues/api/queues', headers: { cookie } });
  assert.equal(list.statusCode, 200);
  const names = (list.json<{ queues: { name: string }[] }>().queues ?? []).map((q) => q.name);
  assert.ok(names.includes('transcode') && names.includes('transcode-results'), names.join(','));
});

test('a 1080p file uploaded with tus becomes both packagings: fMP4 with 1080p for the web, TS v3 ≤ 720p for TV', async () => {
  const token = (
    await call<TokenPair>('POST', '/api/auth/login', undefined, {
      username: 'teacher.e2e',
      password: 'e2e-password-123',
    })
  ).json.accessToken;
  const created = await call<Lesson>('POST', '/api/lessons', token, {
    title: '上传的1080p课',
    grade: 'p3',
    subject: '数学',
  });
  const file = await generateSampleVideo(join(media, 'incoming', 'class-1080p.mp4'), {
    seconds: 6,
    width: 1920,
    height: 1080,
    fps: 30,
  });
  await new Promise<void>((resolve, reject) => {
    new Upload(readFileSync(file), {
      endpoint: `${base}/api/uploads`,
      chunkSize: 512 * 1024,
      metadata: { lessonId: created.json.id, filename: 'class-1080p.mp4' },
      headers: { authorization: `Bearer ${token}` },
      onSuccess: () => resolve(),
      onError: reject,
    }).start();
  });
  let lesson = (await call<Lesson>('GET', `/api/lessons/${created.json.id}`, token)).json;
  for (let i = 0; i < 240 && lesson.status !== 'ready' && lesson.status !== 'failed'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    lesson = (await call<Lesson>('GET', `/api/lessons/${created.json.id}`, token)).json;
  }
  assert.equal(lesson.status, 'ready', lesson.failureReason);
  const web = await (await fetch(`${base}${lesson.playbackUrl}`)).text();
  assert.match(web, /RESOLUTION=1920x1080/);
  assert.equal((web.match(/#EXT-X-STREAM-INF/g) ?? []).length, 6);
  const tv = await (await fetch(`${base}${lesson.tvPlaybackUrl}`)).text();
  assert.match(tv, /^#EXTM3U\n#EXT-X-VERSION:3\n/);
  assert.ok(!tv.includes('1920x1080'));
  for (const url of [lesson.playbackUrl!, lesson.tvPlaybackUrl!]) {
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', `${base}${url}`, '-f', 'null', '-']);
    assert.equal(stderr.trim(), '', `${url} decodes`);
  }
});
