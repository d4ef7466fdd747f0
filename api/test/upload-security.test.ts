// Uploads and media as an attacker uses them (issue 15): active content on the app's origin, private raw
// files, another teacher's upload, server paths in failure reasons, two uploads finishing on one lesson.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Lesson, Problem } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { generateSampleVideo } from '@sky/devkit';
import { DetailedError, Upload } from 'tus-js-client';
import { PASSWORD, startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
let base: string;
let files: string;
let video: Buffer;
let otherTeacher: string;
let queues: JobQueues;

before(async () => {
  api = await startTestApi({ UPLOAD_MAX_BYTES: String(20 * 1024 * 1024) });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  files = mkdtempSync(join(tmpdir(), 'sky-upload-security-'));
  await generateSampleVideo(join(files, 'lesson.mp4'), { seconds: 3, width: 320, height: 240, fps: 25 });
  video = readFileSync(join(files, 'lesson.mp4'));
  await api.app.services.users.create({
    username: `teacher2.${api.prefix}`,
    password: PASSWORD,
    displayName: 'teacher B',
    role: 'teacher',
  });
  otherTeacher = (await api.login(`teacher2.${api.prefix}`)).accessToken;
  queues = createJobQueues(api.redisUrl, api.prefix);
});
after(async () => {
  await queues.close();
  await api.close();
  rmSync(files, { recursive: true, force: true });
});

async function newLesson(token = api.tokens.teacher): Promise<string> {
  const res = await api.app.http.inject({
    method: 'POST',
    url: '/api/lessons',
    headers: { authorization: `Bearer ${token}` },
    payload: { title: '安全测试', grade: 'p4', subject: '英语' },
  });
  assert.equal(res.statusCode, 201);
  return res.json<Lesson>().id;
}

const lesson = async (id: string) =>
  (
    await api.app.http.inject({
      url: `/api/lessons/${id}`,
      headers: { authorization: `Bearer ${api.tokens.admin}` },
    })
  ).json<Lesson>();

/** Waits until the lesson leaves `draft` (an upload finished and was checked). */
async function settle(id: string, from: Lesson['status'] = 'draft'): Promise<Lesson> {
  let l = await lesson(id);
  for (let i = 0; i < 100 && l.status === from; i++) {
    await new Promise((r) => setTimeout(r, 100));
    l = await lesson(id);
  }
  return l;
}

/** A tus upload; `create` only makes the upload (no bytes) and returns its URL. */
function upload(
  data: Buffer,
  meta: Record<string, string>,
  opts: { token?: string; url?: string; create?: boolean } = {},
) {
  return new Promise<string>((resolve, reject) => {
    const u: Upload = new Upload(data, {
      endpoint: `${base}/api/uploads`,
      ...(opts.url ? { uploadUrl: opts.url } : {}),
      chunkSize: 256 * 1024,
      retryDelays: [],
      metadata: meta,
      headers: { authorization: `Bearer ${opts.token ?? api.tokens.teacher}` },
      onUploadUrlAvailable() {
        if (opts.create) void u.abort().then(() => resolve(u.url!));
      },
      onSuccess: () => resolve(u.url!),
      onError: reject,
    });
    u.start();
  });
}

/** The stored upload files of a lesson, wherever in the media store the api keeps them. */
function storedUploads(id: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes(id)) out.push(p.slice(api.mediaDir.length + 1));
    }
  };
  walk(api.mediaDir);
  return out;
}

const SANDBOX = /default-src 'none'.*sandbox|sandbox.*default-src 'none'/;

test('an uploaded HTML or SVG page is never served from the media store, whatever folder it lands in', async () => {
  const page = Buffer.from('<html><script>alert(localStorage.getItem("sky.auth"))</script></html>');
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  for (const [name, data] of [
    ['intro.html', page],
    ['intro.svg', svg],
  ] as const) {
    const id = await newLesson();
    await upload(data, { lessonId: id, filename: name });
    const l = await settle(id);
    assert.equal(l.status, 'failed', `${name} is not media`);
    for (const rel of storedUploads(id)) {
      const res = await api.app.http.inject({ url: `/media/${rel}` });
      assert.equal(
        res.statusCode,
        404,
        `/media/${rel} → ${res.statusCode} ${String(res.headers['content-type'])}`,
      );
      assert.ok(!res.body.includes('<script>'), `/media/${rel} answered the page`);
    }
  }
  // Even inside a lesson's public output folder, only the types the transcoder writes are served.
  const out = join(api.mediaDir, 'lessons', '65f000000000000000000001', 'v1');
  mkdirSync(out, { recursive: true });
  for (const f of ['x.html', 'x.svg', 'x.js', 'x.xml', 'x.htm', 'x.json', 'x'])
    writeFileSync(join(out, f), page);
  for (const f of ['x.html', 'x.svg', 'x.js', 'x.xml', 'x.htm', 'x.json', 'x']) {
    const res = await api.app.http.inject({ url: `/media/lessons/65f000000000000000000001/v1/${f}` });
    assert.equal(res.statusCode, 404, `${f} → ${res.statusCode} ${String(res.headers['content-type'])}`);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', `${f}: nosniff on the 404 too`);
  }
});

test('every media type we write is served with its own type, nosniff and a sandboxing CSP', async () => {
  const vod = 'lessons/65f000000000000000000002/replay-abc';
  const live = 'live/65f000000000000000000003';
  const cases: [string, string][] = [
    [`${vod}/web/master.m3u8`, 'application/vnd.apple.mpegurl'],
    [`${vod}/web/720p/init.mp4`, 'video/mp4'],
    [`${vod}/web/720p/seg_00000.m4s`, 'video/iso.segment'],
    [`${vod}/tv/360p/seg_00000.ts`, 'video/mp2t'],
    [`${vod}/poster.jpg`, 'image/jpeg'],
    [`${vod}/storyboard.jpg`, 'image/jpeg'],
    [`${vod}/storyboard.vtt`, 'text/vtt'],
    [`${live}/web/720p/index.m3u8`, 'application/vnd.apple.mpegurl'],
    [`${live}/web/720p/init_0.mp4`, 'video/mp4'],
    [`${live}/web/720p/seg_0_00001.m4s`, 'video/iso.segment'],
    [`${live}/tv/360p/seg_00001.ts`, 'video/mp2t'],
  ];
  for (const [rel] of cases) {
    mkdirSync(join(api.mediaDir, rel, '..'), { recursive: true });
    writeFileSync(join(api.mediaDir, rel), '<script>alert(1)</script>');
  }
  for (const [rel, type] of cases) {
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await api.app.http.inject({ method, url: `/media/${rel}` });
      assert.equal(res.statusCode, 200, `${method} ${rel}`);
      assert.equal(res.headers['content-type']?.toString().split(';')[0], type, rel);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', `${rel}: nosniff`);
      assert.match(String(res.headers['content-security-policy']), SANDBOX, `${rel}: sandbox CSP`);
      assert.equal(res.headers['access-control-allow-origin'], '*', `${rel}: still playable cross-origin`);
    }
  }
});

test('raw uploads, live recordings and files outside the lesson outputs are never public', async () => {
  const id = await newLesson();
  await upload(video, { lessonId: id, filename: 'lesson.mp4' });
  assert.equal((await settle(id)).status, 'processing', 'a valid upload queues its transcode');
  const stored = storedUploads(id);
  assert.equal(stored.length, 1, `one stored upload: ${stored.join(', ')}`);
  // what is public today under /media, and where the same file would be if it were
  const rec = join(api.mediaDir, 'live', id, 'recording');
  mkdirSync(rec, { recursive: true });
  copyFileSync(join(files, 'lesson.mp4'), join(rec, 'recording.mp4'));
  writeFileSync(join(rec, 'part_0.ts'), 'raw');
  mkdirSync(join(api.mediaDir, 'samples'), { recursive: true });
  copyFileSync(join(files, 'lesson.mp4'), join(api.mediaDir, 'samples', 'demo.mp4'));
  for (const rel of [
    ...stored,
    `uploads/${id}/${stored[0]!.split('/').pop()!}`,
    `live/${id}/recording/recording.mp4`,
    `live/${id}/recording/part_0.ts`,
    'samples/demo.mp4',
  ]) {
    for (const url of [`/media/${rel}`, `/media/${rel.replaceAll('/', '%2F')}`, `/media/./${rel}`]) {
      const res = await api.app.http.inject({ url });
      assert.equal(res.statusCode, 404, `${url} → ${res.statusCode} ${String(res.headers['content-type'])}`);
    }
  }
});

test('another teacher cannot transcode teacher A’s upload or live recording into their own lesson', async () => {
  const a = await newLesson();
  await upload(video, { lessonId: a, filename: 'lesson.mp4' });
  assert.equal((await settle(a)).status, 'processing');
  const [source] = storedUploads(a);
  const rec = join(api.mediaDir, 'live', a, 'recording');
  mkdirSync(rec, { recursive: true });
  copyFileSync(join(files, 'lesson.mp4'), join(rec, 'recording.mp4'));

  const b = await newLesson(otherTeacher);
  for (const src of [source!, `live/${a}/recording/recording.mp4`, `uploads/${a}/x.mp4`]) {
    const res = await api.app.http.inject({
      method: 'POST',
      url: `/api/lessons/${b}/transcode`,
      headers: { authorization: `Bearer ${otherTeacher}` },
      payload: { source: src },
    });
    assert.equal(res.statusCode, 403, `${src} → ${res.statusCode} ${res.body}`);
    const p = res.json<Problem>();
    assert.equal(p.code, 'FORBIDDEN');
    assert.deepEqual(
      p.errors?.map((e) => e.path),
      ['body.source'],
    );
  }
  assert.equal((await lesson(b)).status, 'draft', 'B’s lesson queued nothing');
  // A teacher still transcodes from the shared sample library into their own lesson.
  mkdirSync(join(api.mediaDir, 'samples'), { recursive: true });
  copyFileSync(join(files, 'lesson.mp4'), join(api.mediaDir, 'samples', 'b.mp4'));
  const own = await api.app.http.inject({
    method: 'POST',
    url: `/api/lessons/${b}/transcode`,
    headers: { authorization: `Bearer ${otherTeacher}` },
    payload: { source: 'samples/b.mp4' },
  });
  assert.equal(own.statusCode, 202, own.body);
  // and neither B's upload to A's lesson, nor B's live room on A's lesson
  await assert.rejects(upload(video, { lessonId: a, filename: 'x.mp4' }, { token: otherTeacher }), /403/);
  const room = await api.app.http.inject({
    method: 'POST',
    url: `/api/lessons/${await newLesson()}/live`,
    headers: { authorization: `Bearer ${otherTeacher}` },
  });
  assert.equal(room.statusCode, 403);
});

test('a failed upload’s reason, and a failed transcode’s, name no path on the server', async () => {
  const id = await newLesson();
  await upload(Buffer.from('第一课 笔记\n'.repeat(500)), { lessonId: id, filename: 'notes.mp4' });
  const l = await settle(id);
  assert.equal(l.status, 'failed');
  assert.equal(l.failureCode, 'NOT_MEDIA');
  assert.ok(!l.failureReason?.includes(api.mediaDir), `reason: ${l.failureReason}`);
  assert.doesNotMatch(l.failureReason ?? '', /\/[\w.-]+\//, `reason: ${l.failureReason}`);
  assert.match(l.failureReason ?? '', /not a readable media file/);

  // the transcoder's reasons (a probe error names the file it read; ffmpeg names its output folder)
  const t = await newLesson();
  await queues.enqueue('transcode.result', {
    outcome: 'failed',
    lessonId: t,
    code: 'TRANSCODE_FAILED',
    reason:
      'transcoding failed: ffmpeg failed: ffmpeg exited with code 1 (/srv/sky/media/.tmp/abc-1/web/720p/init.mp4: No space left on device; C:\\media\\x.mp4 too)',
  });
  let f = await lesson(t);
  for (let i = 0; i < 100 && f.status !== 'failed'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    f = await lesson(t);
  }
  assert.equal(f.status, 'failed');
  assert.doesNotMatch(f.failureReason ?? '', /\/srv|[/\\]media[/\\]|C:\\/, `reason: ${f.failureReason}`);
  assert.match(f.failureReason ?? '', /No space left on device/, 'the cause stays readable');
});

test('a second upload finishing on one lesson gets a 409 naming the lesson, and the first is kept', async () => {
  const id = await newLesson();
  // both uploads start while the lesson is a draft (two tabs, or a retry from another device)
  const first = await upload(video, { lessonId: id, filename: 'first.mp4' }, { create: true });
  const second = await upload(video, { lessonId: id, filename: 'second.mp4' }, { create: true });
  await upload(video, { lessonId: id, filename: 'first.mp4' }, { url: first });
  assert.equal((await settle(id)).status, 'processing');
  const kept = storedUploads(id).filter((p) => !p.includes('.uploads'));

  const err = await upload(video, { lessonId: id, filename: 'second.mp4' }, { url: second }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DetailedError, `the second upload was refused: ${String(err)}`);
  const status = err.originalResponse?.getStatus();
  const body = err.originalResponse?.getBody() ?? '';
  assert.equal(status, 409, `second upload → ${status} ${body}`);
  const p = JSON.parse(body) as Problem;
  assert.equal(p.code, 'CONFLICT');
  assert.deepEqual(
    p.errors?.map((e) => e.path),
    ['metadata.lessonId'],
  );
  // the first upload is what the lesson processes, on disk as it was
  const l = await lesson(id);
  assert.equal(l.status, 'processing');
  assert.deepEqual(
    storedUploads(id).filter((p) => !p.includes('.uploads')),
    kept,
  );
  for (const rel of kept) assert.deepEqual(readFileSync(join(api.mediaDir, rel)), video);
});
