// Live lesson lifecycle on the api: go live, where to watch, and the sfu's `live.ended` job turning the
// recording into a replay through the transcode queue (real mongod, redis-server, BullMQ).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startProcess } from '@sky/devkit';
import type { Lesson, LiveInfo, TranscodeJob } from '@sky/contracts';
import { QUEUES } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
/** What the sfu (and the transcoder) hold: their own connection to the same queues. */
let sfuQueues: JobQueues;
const as = (role: keyof TestApi['tokens']) => ({ authorization: `Bearer ${api.tokens[role]}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  api = await startTestApi({ SFU_PUBLIC_URL: 'https://sfu.example.edu' });
  sfuQueues = createJobQueues(api.redisUrl, api.prefix);
});
after(async () => {
  await sfuQueues.close();
  await api.close();
});

async function lesson(role: 'teacher' | 'admin' = 'teacher', title = '直播：认识分数'): Promise<Lesson> {
  const res = await api.app.http.inject({
    method: 'POST',
    url: '/api/lessons',
    headers: as(role),
    payload: { title, grade: 'p3', subject: '数学' },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Lesson>();
}

const goLive = (id: string, role: keyof TestApi['tokens'] = 'teacher') =>
  api.app.http.inject({ method: 'POST', url: `/api/lessons/${id}/live`, headers: as(role) });
const liveInfo = (id: string, role: keyof TestApi['tokens'] = 'student') =>
  api.app.http.inject({ url: `/api/lessons/${id}/live`, headers: as(role) });
const getLesson = async (id: string) =>
  (await api.app.http.inject({ url: `/api/lessons/${id}`, headers: as('teacher') })).json<Lesson>();

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) {
      const failed = await sfuQueues.queue(QUEUES.liveEvents).getFailed();
      const reasons = failed.map((j) => j.failedReason).join('; ');
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)} (failed live jobs: ${reasons})`);
    }
    await sleep(100);
  }
}

test('the owner teacher goes live: LiveInfo with the sfu and HLS addresses; the lesson says it is live', async () => {
  const l = await lesson();
  const before = await liveInfo(l.id);
  assert.equal(before.statusCode, 200, before.body);
  assert.equal(before.json<LiveInfo>().state, 'idle');

  const res = await goLive(l.id);
  assert.equal(res.statusCode, 201, res.body);
  const info = res.json<LiveInfo>();
  assert.equal(info.state, 'live');
  assert.equal(info.lessonId, l.id);
  assert.equal(info.teacherId, l.teacherId);
  assert.equal(info.sfuUrl, 'https://sfu.example.edu');
  assert.deepEqual(info.hls, {
    web: `/media/live/${l.id}/web/master.m3u8`,
    tv: `/media/live/${l.id}/tv/master.m3u8`,
  });
  assert.ok(Math.abs(Date.parse(info.startedAt!) - Date.now()) < 10_000);

  // any signed-in user may ask where to watch, and a student may open the live lesson's page
  const seen = await liveInfo(l.id, 'student');
  assert.equal(seen.statusCode, 200);
  assert.deepEqual(seen.json<LiveInfo>(), info);
  const asStudent = await api.app.http.inject({ url: `/api/lessons/${l.id}`, headers: as('student') });
  assert.equal(asStudent.statusCode, 200, 'a live lesson is visible to students');
  assert.deepEqual(asStudent.json<Lesson>().live, {
    state: 'live',
    teacherId: l.teacherId,
    startedAt: info.startedAt,
  });
  const list = await api.app.http.inject({ url: '/api/lessons?mine=true', headers: as('teacher') });
  assert.equal(list.json<{ items: Lesson[] }>().items.find((x) => x.id === l.id)?.live?.state, 'live');

  // a client that could not reach its sfu says which: with one node configured it is still the answer;
  // anything but a url is refused with the field named
  const hinted = await api.app.http.inject({
    url: `/api/lessons/${l.id}/live?unreachable=${encodeURIComponent('https://sfu.example.edu')}`,
    headers: as('student'),
  });
  assert.equal(hinted.statusCode, 200, hinted.body);
  assert.equal(hinted.json<LiveInfo>().sfuUrl, 'https://sfu.example.edu');
  const bad = await api.app.http.inject({
    url: `/api/lessons/${l.id}/live?unreachable=not-a-node`,
    headers: as('student'),
  });
  assert.equal(bad.statusCode, 400);
  assert.ok(
    bad.json<{ errors?: { path: string }[] }>().errors?.some((e) => e.path === 'querystring.unreachable'),
    bad.body,
  );

  // twice → 409, and only one of two simultaneous clicks wins
  assert.equal((await goLive(l.id)).statusCode, 409);
  const other = await lesson();
  const both = await Promise.all([goLive(other.id), goLive(other.id, 'admin')]);
  assert.deepEqual(both.map((r) => r.statusCode).sort(), [201, 409]);
});

test('who may go live: 404 unknown, 403 students and other teachers, admins may; 409 with a video; 401 signed out', async () => {
  const l = await lesson('admin', '管理员的课');
  assert.equal((await goLive('0123456789abcdef01234567')).statusCode, 404);
  assert.equal((await goLive('not-an-id')).statusCode, 400);
  assert.equal((await goLive(l.id, 'student')).statusCode, 403);
  const otherTeacher = await goLive(l.id, 'teacher');
  assert.equal(otherTeacher.statusCode, 403);
  assert.match(otherTeacher.body, /teacher or an admin/);
  assert.equal((await liveInfo('0123456789abcdef01234567')).statusCode, 404);
  const anon = await api.app.http.inject({ url: `/api/lessons/${l.id}/live` });
  assert.equal(anon.statusCode, 401);

  const withVideo = await lesson();
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: withVideo.id,
    master: `lessons/${withVideo.id}/v1/web/master.m3u8`,
    tvMaster: `lessons/${withVideo.id}/v1/tv/master.m3u8`,
    durationSec: 30,
  });
  const conflict = await goLive(withVideo.id);
  assert.equal(conflict.statusCode, 409);
  assert.match(conflict.body, /already has a video/);
  const byAdmin = await goLive(l.id, 'admin');
  assert.equal(byAdmin.statusCode, 201);
  assert.equal(byAdmin.json<LiveInfo>().teacherId, l.teacherId);
});

test('live.ended from the sfu: lesson ended + processing, one replay transcode queued (idempotent), then ready', async () => {
  const l = await lesson();
  const started = (await goLive(l.id)).json<LiveInfo>();
  const endedAt = new Date().toISOString();
  const recording = `live/${l.id}/recording/recording.mp4`;
  const job = { lessonId: l.id, recording, startedAt: started.startedAt!, endedAt };
  await sfuQueues.enqueue('live.ended', job);

  const ended = await until(
    'the lesson to end',
    () => getLesson(l.id),
    (x) => x.live?.state === 'ended',
  );
  assert.equal(ended.status, 'processing');
  assert.deepEqual(ended.live, {
    state: 'ended',
    teacherId: l.teacherId,
    startedAt: started.startedAt,
    endedAt,
  });
  const info = (await liveInfo(l.id)).json<LiveInfo>();
  assert.equal(info.state, 'ended');
  assert.equal(info.endedAt, endedAt);
  assert.equal((await goLive(l.id)).statusCode, 409, 'an ended lesson cannot go live again');

  const transcode = sfuQueues.queue(QUEUES.transcode);
  const queued = await until(
    'the replay transcode job',
    () => transcode.getJob(`replay-${l.id}`),
    (j) => j !== undefined,
  );
  assert.equal(queued!.name, 'transcode.vod');
  assert.equal(queued!.opts.priority, 1, 'replays go before uploads');
  const payload = queued!.data as TranscodeJob;
  assert.equal(payload.lessonId, l.id);
  assert.equal(payload.source, recording);
  assert.equal(payload.kind, 'replay');
  assert.equal(payload.requestedBy, l.teacherId);
  assert.match(payload.outputDir, new RegExp(`^lessons/${l.id}/replay-[0-9a-z]+$`));

  // a re-delivered job changes nothing and queues no second transcode
  const countReplays = async () =>
    (await transcode.getJobs(['waiting', 'prioritized', 'active', 'delayed'])).filter(
      (j) => (j.data as TranscodeJob).lessonId === l.id,
    ).length;
  await sfuQueues.enqueue('live.ended', { ...job, endedAt: new Date(Date.now() + 5000).toISOString() });
  await until(
    'the re-delivery to be handled',
    () => sfuQueues.queue(QUEUES.liveEvents).getCompletedCount(),
    (n) => n >= 2,
  );
  assert.equal(await countReplays(), 1);
  assert.deepEqual((await getLesson(l.id)).live, ended.live, 'the first end time stands');

  // the transcoder's answer (same flow as uploads): the lesson page switches from live to replay
  await sfuQueues.enqueue('transcode.result', {
    outcome: 'ready',
    lessonId: l.id,
    master: `${payload.outputDir}/web/master.m3u8`,
    tvMaster: `${payload.outputDir}/tv/master.m3u8`,
    durationSec: 42,
  });
  const ready = await until(
    'the replay',
    () => getLesson(l.id),
    (x) => x.status === 'ready',
  );
  assert.equal(ready.playbackUrl, `/media/${payload.outputDir}/web/master.m3u8`);
  assert.equal(ready.live?.state, 'ended');
  // a late re-delivery after the replay is ready queues nothing and keeps it ready
  await transcode.obliterate({ force: true });
  await sfuQueues.enqueue('live.ended', job);
  await until(
    'the late re-delivery',
    () => sfuQueues.queue(QUEUES.liveEvents).getCompletedCount(),
    (n) => n >= 3,
  );
  assert.equal(await countReplays(), 0);
  assert.equal((await getLesson(l.id)).status, 'ready');
});

test('a live lesson that recorded nothing ends as failed with the reason, and queues no transcode', async () => {
  const l = await lesson();
  const started = (await goLive(l.id)).json<LiveInfo>();
  await sfuQueues.enqueue('live.ended', {
    lessonId: l.id,
    recording: null,
    startedAt: started.startedAt!,
    endedAt: new Date().toISOString(),
  });
  const failed = await until(
    'the failure',
    () => getLesson(l.id),
    (x) => x.status === 'failed',
  );
  assert.equal(failed.live?.state, 'ended');
  assert.equal(failed.failureCode, 'NO_STREAMS');
  assert.match(failed.failureReason ?? '', /nothing was recorded/);
  assert.equal(await sfuQueues.queue(QUEUES.transcode).getJob(`replay-${l.id}`), undefined);
});

test('a malformed live.ended job fails without touching lessons', async () => {
  const q = sfuQueues.queue(QUEUES.liveEvents);
  const bad = await q.add('live.ended', { lessonId: 42 }, { attempts: 1 });
  const state = await until(
    'the job to fail',
    () => bad.getState(),
    (s) => s === 'failed',
  );
  assert.equal(state, 'failed');
  const failed = await q.getJob(bad.id!);
  assert.match(failed?.failedReason ?? '', /malformed live\.ended payload/);
});

test('a real recording becomes the replay: the transcoder process turns it into web and TV HLS, the lesson is ready', async () => {
  const l = await lesson('teacher', '直播回放：真实转码');
  const started = (await goLive(l.id)).json<LiveInfo>();
  // what the live bridge leaves behind: an H.264/AAC MP4 of the top rung, joined from its parts
  const recording = `live/${l.id}/recording/recording.mp4`;
  mkdirSync(join(api.mediaDir, `live/${l.id}/recording`), { recursive: true });
  await promisify(execFile)('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi'],
    ...['-i', 'sine=frequency=440:sample_rate=48000', '-t', '4', '-c:v', 'libx264', '-preset', 'veryfast'],
    ...['-g', '25', '-c:a', 'aac', '-movflags', '+faststart', join(api.mediaDir, recording)],
  ]);
  const root = join(import.meta.dirname, '..', '..');
  const transcoder = startProcess(
    'transcoder',
    process.execPath,
    ['--import', 'tsx', join(root, 'transcoder', 'src', 'main.ts')],
    {
      logFile: join(api.mediaDir, 'transcoder.log'),
      cwd: root,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        REDIS_URL: api.redisUrl,
        QUEUE_PREFIX: api.prefix,
        MEDIA_DIR: api.mediaDir,
        CONCURRENCY: '1',
        JWT_SECRET: 'test-secret-that-is-at-least-32-characters',
      },
    },
  );
  try {
    await sfuQueues.enqueue('live.ended', {
      lessonId: l.id,
      recording,
      startedAt: started.startedAt!,
      endedAt: new Date().toISOString(),
    });
    const ready = await until(
      'the replay transcode',
      () => getLesson(l.id),
      (x) => x.status === 'ready' || x.status === 'failed',
      180_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\n${readFileSync(join(api.mediaDir, 'transcoder.log'), 'utf8').slice(-2000)}`,
      );
    });
    assert.equal(ready.status, 'ready', ready.failureReason);
    assert.equal(ready.live?.state, 'ended');
    assert.ok(Math.abs((ready.durationSec ?? 0) - 4) < 0.5, `replay of ${ready.durationSec} s`);
    assert.match(
      ready.playbackUrl ?? '',
      new RegExp(`^/media/lessons/${l.id}/replay-[0-9a-z]+/web/master\\.m3u8$`),
    );
    const master = await api.app.http.inject({ url: ready.playbackUrl! });
    assert.equal(master.statusCode, 200);
    assert.match(master.body, /#EXT-X-STREAM-INF/);
    assert.ok(existsSync(join(api.mediaDir, ready.tvPlaybackUrl!.replace(/^\/media\//, ''))));
  } finally {
    await transcoder.stop();
  }
});
