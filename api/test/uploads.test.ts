// Resumable uploads (tus) against the real api, and what happens to files that are not lessons.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Lesson } from '@sky/contracts';
import { generateSampleVideo } from '@sky/devkit';
import { Upload } from 'tus-js-client';
import { startTestApi, type TestApi } from './helpers.js';

const run = promisify(execFile);
let api: TestApi;
let base: string;
let files: string;

before(async () => {
  api = await startTestApi({ UPLOAD_MAX_BYTES: String(20 * 1024 * 1024) });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  files = mkdtempSync(join(tmpdir(), 'sky-uploads-'));
  await generateSampleVideo(join(files, 'lesson.mp4'), { seconds: 8, width: 1280, height: 720, fps: 25 });
});
after(async () => {
  await api.close();
  rmSync(files, { recursive: true, force: true });
});

async function newLesson(token = api.tokens.teacher): Promise<string> {
  const res = await api.app.http.inject({
    method: 'POST',
    url: '/api/lessons',
    headers: { authorization: `Bearer ${token}` },
    payload: { title: '上传测试', grade: 'p4', subject: '英语' },
  });
  return res.json<Lesson>().id;
}

const lesson = async (id: string) =>
  (
    await api.app.http.inject({
      url: `/api/lessons/${id}`,
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
    })
  ).json<Lesson>();

function upload(
  data: Buffer,
  meta: Record<string, string>,
  opts: { token?: string; url?: string; stopAt?: number } = {},
) {
  return new Promise<{ url: string | null; stopped: boolean }>((resolve, reject) => {
    const u: Upload = new Upload(data, {
      endpoint: `${base}/api/uploads`,
      ...(opts.url ? { uploadUrl: opts.url } : {}),
      chunkSize: 256 * 1024,
      retryDelays: [],
      metadata: meta,
      headers: { authorization: `Bearer ${opts.token ?? api.tokens.teacher}` },
      onProgress(sent, total) {
        if (opts.stopAt !== undefined && sent / total >= opts.stopAt) {
          void u.abort().then(() => resolve({ url: u.url, stopped: true }));
        }
      },
      onSuccess: () => resolve({ url: u.url, stopped: false }),
      onError: reject,
    });
    u.start();
  });
}

async function settle(id: string): Promise<Lesson> {
  let l = await lesson(id);
  for (let i = 0; i < 100 && l.status === 'draft'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    l = await lesson(id);
  }
  return l;
}

test('an upload interrupted at ~50 % resumes where it stopped and completes byte for byte', async () => {
  const id = await newLesson();
  const data = readFileSync(join(files, 'lesson.mp4'));
  const first = await upload(data, { lessonId: id, filename: 'lesson.mp4' }, { stopAt: 0.5 });
  assert.ok(first.stopped && first.url);
  const head = await fetch(`${base}${new URL(first.url, base).pathname}`, {
    method: 'HEAD',
    headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${api.tokens.teacher}` },
  });
  const offset = Number(head.headers.get('upload-offset'));
  assert.ok(
    offset >= data.length * 0.4 && offset < data.length,
    `server kept ${offset} of ${data.length} bytes`,
  );
  assert.equal((await lesson(id)).status, 'draft');

  const second = await upload(data, { lessonId: id, filename: 'lesson.mp4' }, { url: first.url });
  assert.equal(second.stopped, false);
  const l = await settle(id);
  assert.equal(l.status, 'processing', 'a valid upload queues its transcode');
  const stored = readdirSync(join(api.mediaDir, 'uploads', id));
  assert.equal(stored.length, 1);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(join(api.mediaDir, 'uploads', id, stored[0]!))), sha(data));
});

test('zero-byte, text renamed .mp4, random bytes and truncated files end as failed lessons with their reason', async () => {
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    join(files, 'lesson.mp4'),
    '-c',
    'copy',
    '-movflags',
    '0',
    join(files, 'moov-at-end.mp4'),
  ]);
  const whole = readFileSync(join(files, 'moov-at-end.mp4'));
  const cases: [string, Buffer, string][] = [
    ['empty.mp4', Buffer.alloc(0), 'EMPTY_FILE'],
    ['notes.mp4', Buffer.from('第一课 笔记\n'.repeat(500)), 'NOT_MEDIA'],
    ['noise.mp4', Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251)), 'NOT_MEDIA'],
    ['truncated.mp4', whole.subarray(0, Math.floor(whole.length / 2)), 'NOT_MEDIA'],
  ];
  for (const [name, data, code] of cases) {
    const id = await newLesson();
    await upload(data, { lessonId: id, filename: name });
    const l = await settle(id);
    assert.equal(l.status, 'failed', `${name} → failed`);
    assert.equal(l.failureCode, code, `${name} → ${code}`);
    assert.ok(l.failureReason && l.failureReason.length > 5);
  }
});

test('an audio-only recording is accepted', async () => {
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=330:duration=5',
    '-c:a',
    'aac',
    join(files, 'voice.m4a'),
  ]);
  const id = await newLesson();
  await upload(readFileSync(join(files, 'voice.m4a')), { lessonId: id, filename: 'voice.m4a' });
  assert.equal((await settle(id)).status, 'processing');
});

test('students, other teachers’ lessons, bad metadata and oversized files are refused', async () => {
  const data = Buffer.alloc(1024, 1);
  const id = await newLesson();
  await assert.rejects(
    upload(data, { lessonId: id, filename: 'x.mp4' }, { token: api.tokens.student }),
    /403/,
  );
  const adminsLesson = await newLesson(api.tokens.admin);
  await assert.rejects(upload(data, { lessonId: adminsLesson, filename: 'x.mp4' }), /403/);
  await assert.rejects(upload(data, { lessonId: 'nope', filename: 'x.mp4' }), /400/);
  await assert.rejects(upload(Buffer.alloc(21 * 1024 * 1024), { lessonId: id, filename: 'big.mp4' }), /413/);
  assert.equal((await lesson(id)).status, 'draft', 'nothing changed on the lesson');
});
