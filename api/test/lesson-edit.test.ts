// Fixing lesson mistakes (issue 17): its teacher or an admin edits a lesson and deletes it, with its
// files and its queued transcodes; a lesson taught live or being transcoded is refused with a clear 409.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { QUEUES, type Lesson, type Problem } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { PASSWORD, startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
/** The same queues as the api's (same Redis, same prefix), as the transcoder sees them. */
let queues: JobQueues;
/** Another teacher's token: not this lesson's teacher. */
let otherTeacher: { token: string };

before(async () => {
  api = await startTestApi();
  queues = createJobQueues(api.redisUrl, api.prefix);
  await api.app.services.users.create({
    username: `other.teacher.${api.prefix}`,
    password: PASSWORD,
    displayName: '李老师',
    role: 'teacher',
  });
  otherTeacher = { token: (await api.login(`other.teacher.${api.prefix}`)).accessToken };
});
after(async () => {
  await queues?.close();
  await api?.close();
});

type Who = keyof TestApi['tokens'] | { token: string };
const auth = (who: Who) => ({
  authorization: `Bearer ${typeof who === 'string' ? api.tokens[who] : who.token}`,
});
const create = async (title: string, who: Who = 'teacher') => {
  const res = await api.app.http.inject({
    method: 'POST',
    url: '/api/lessons',
    headers: auth(who),
    payload: { title, grade: 'p3', subject: '数学', unit: '第一单元', description: '原来的简介' },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Lesson>();
};
const get = (id: string, who: Who = 'teacher') =>
  api.app.http.inject({ url: `/api/lessons/${id}`, headers: auth(who) });
const patch = (id: string, payload: unknown, who: Who = 'teacher') =>
  api.app.http.inject({
    method: 'PATCH',
    url: `/api/lessons/${id}`,
    headers: auth(who),
    payload: payload as object,
  });
const remove = (id: string, who: Who = 'teacher') =>
  api.app.http.inject({ method: 'DELETE', url: `/api/lessons/${id}`, headers: auth(who) });
const fieldsOf = (res: { json<T>(): T }) => (res.json<Problem>().errors ?? []).map((e) => e.path);
const markReady = (id: string) =>
  api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: id,
    master: `lessons/${id}/v1/web/master.m3u8`,
    tvMaster: `lessons/${id}/v1/tv/master.m3u8`,
    durationSec: 30,
  });
/** A file in the media store, as an upload, the transcoder or the live bridge would have left it. */
const put = (rel: string, text = 'x') => {
  mkdirSync(join(api.mediaDir, rel, '..'), { recursive: true });
  writeFileSync(join(api.mediaDir, rel), text);
};
const inStore = (rel: string) => existsSync(join(api.mediaDir, rel));
/** The lesson's jobs in the transcode queue that have not finished. */
const jobsOf = async (lessonId: string) => {
  const jobs = await queues
    .queue(QUEUES.transcode)
    .getJobs(['waiting', 'prioritized', 'delayed', 'paused', 'active']);
  return jobs.filter((j) => (j.data as { lessonId?: string }).lessonId === lessonId);
};

describe('editing a lesson', () => {
  test('its teacher corrects the title, description and unit; an empty one removes it', async () => {
    const lesson = await create('分数的初步认识（草稿）');
    const res = await patch(lesson.id, { title: '  分数的初步认识  ', description: '', unit: '第二单元' });
    assert.equal(res.statusCode, 200, res.body);
    const saved = (await get(lesson.id)).json<Lesson>();
    assert.equal(saved.title, '分数的初步认识');
    assert.equal(saved.description, undefined);
    assert.equal(saved.unit, '第二单元');
    assert.equal(saved.status, 'draft');
  });

  test('grade and subject move while a draft, and are fixed once published', async () => {
    const lesson = await create('认识钟表');
    const moved = await patch(lesson.id, { grade: 'p1', subject: '科学' });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.deepEqual([moved.json<Lesson>().grade, moved.json<Lesson>().subject], ['p1', '科学']);

    await markReady(lesson.id);
    const refused = await patch(lesson.id, { title: '认识钟表（新）', grade: 'p2' });
    assert.equal(refused.statusCode, 409);
    assert.deepEqual(fieldsOf(refused), ['body.grade']);
    assert.match(refused.json<Problem>().detail, /published or taught live/);
    const kept = (await get(lesson.id)).json<Lesson>();
    assert.deepEqual([kept.title, kept.grade], ['认识钟表', 'p1'], 'nothing of the refused edit was saved');
    // The same grade again is no move: the edit form sends every field.
    const titleOnly = await patch(lesson.id, { title: '认识钟表（新）', grade: 'p1', subject: '科学' });
    assert.equal(titleOnly.statusCode, 200, titleOnly.body);
    assert.equal(titleOnly.json<Lesson>().title, '认识钟表（新）');
  });

  test('bad input is named and changes nothing', async () => {
    const lesson = await create('古诗二首');
    for (const [payload, fields] of [
      [{ title: '' }, ['body.title']],
      [{ title: 'x'.repeat(121) }, ['body.title']],
      [{ grade: 'p13' }, ['body.grade']],
      [{ description: 'x'.repeat(2001) }, ['body.description']],
      [{ status: 'ready' }, ['body.status']],
      [{ teacherId: 'me' }, ['body.teacherId']],
      [{}, ['body']],
    ] as const) {
      const res = await patch(lesson.id, payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.deepEqual(fieldsOf(res), fields, JSON.stringify(payload));
    }
    const bad = await patch('12345', { title: '新' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(fieldsOf(bad), ['params.id']);
    assert.deepEqual((await get(lesson.id)).json<Lesson>(), lesson, 'the lesson is as it was');
  });

  test('only its teacher or an admin; another teacher is refused, a missing lesson is 404', async () => {
    const lesson = await create('两位数加法');
    for (const who of ['student', 'family', 'analyst'] as const)
      assert.equal((await patch(lesson.id, { title: '改' }, who)).statusCode, 403, who);
    const other = await patch(lesson.id, { title: '别人改的' }, otherTeacher);
    assert.equal(other.statusCode, 403);
    assert.match(other.json<Problem>().detail, /teacher or an admin/);
    const admin = await patch(lesson.id, { title: '管理员改的' }, 'admin');
    assert.equal(admin.statusCode, 200);
    assert.equal((await get(lesson.id)).json<Lesson>().title, '管理员改的');
    assert.equal((await patch('507f1f77bcf86cd799439011', { title: '改' })).statusCode, 404);
  });
});

describe('deleting a lesson', () => {
  test('a failed lesson goes with every file of it; other lessons’ files stay', async () => {
    const lesson = await create('上传失败的课');
    const keep = await create('别的课');
    await api.app.services.lessons.markFailed(lesson.id, 'NOT_MEDIA', 'not a readable media file');
    const files = [
      `uploads/${lesson.id}/a1.mp4`,
      `lessons/${lesson.id}/v1/web/master.m3u8`,
      `live/${lesson.id}/recording/part-0.mkv`,
    ];
    for (const f of [...files, `uploads/${keep.id}/b1.mp4`]) put(f);
    // tus uploads in progress: one of this lesson's, one of another's
    put('.uploads/up-mine', 'half a video');
    put('.uploads/up-mine.json', JSON.stringify({ id: 'up-mine', metadata: { lessonId: lesson.id } }));
    put('.uploads/up-other', 'half another');
    put('.uploads/up-other.json', JSON.stringify({ id: 'up-other', metadata: { lessonId: keep.id } }));

    const res = await remove(lesson.id);
    assert.equal(res.statusCode, 204, res.body);
    assert.equal((await get(lesson.id)).statusCode, 404);
    assert.equal((await get(lesson.id, 'admin')).statusCode, 404);
    for (const f of files) assert.equal(inStore(f), false, `${f} is gone`);
    for (const d of ['uploads', 'lessons', 'live']) assert.equal(inStore(`${d}/${lesson.id}`), false, d);
    assert.equal(inStore('.uploads/up-mine'), false);
    assert.equal(inStore('.uploads/up-mine.json'), false);
    for (const f of [`uploads/${keep.id}/b1.mp4`, '.uploads/up-other', '.uploads/up-other.json'])
      assert.equal(inStore(f), true, `${f} stays`);
    const list = await api.app.http.inject({
      url: '/api/lessons?mine=true&limit=100',
      headers: auth('teacher'),
    });
    assert.ok(!list.json<{ items: Lesson[] }>().items.some((l) => l.id === lesson.id), 'gone from the list');
    assert.equal((await remove(lesson.id)).statusCode, 404, 'twice is a 404');
  });

  test('a published lesson goes too: its playlists answer 404', async () => {
    const lesson = await create('已发布的课');
    await markReady(lesson.id);
    put(`lessons/${lesson.id}/v1/web/master.m3u8`, '#EXTM3U\n');
    const before = await api.app.http.inject({ url: `/media/lessons/${lesson.id}/v1/web/master.m3u8` });
    assert.equal(before.statusCode, 200);
    assert.equal((await remove(lesson.id, 'admin')).statusCode, 204);
    const media = await api.app.http.inject({ url: `/media/lessons/${lesson.id}/v1/web/master.m3u8` });
    assert.equal(media.statusCode, 404);
    assert.equal((await api.app.http.inject({ url: `/api/public/lessons/${lesson.id}` })).statusCode, 404);
  });

  test('a queued transcode is taken off the queue with it', async () => {
    const lesson = await create('排队转码的课');
    put(`uploads/${lesson.id}/c1.mp4`);
    const queued = await api.app.http.inject({
      method: 'POST',
      url: `/api/lessons/${lesson.id}/transcode`,
      headers: auth('teacher'),
      payload: { source: `uploads/${lesson.id}/c1.mp4` },
    });
    assert.equal(queued.statusCode, 202, queued.body);
    assert.equal((await jobsOf(lesson.id)).length, 1, 'a job waits for the transcoder');
    assert.equal((await remove(lesson.id)).statusCode, 204);
    assert.deepEqual(await jobsOf(lesson.id), [], 'no job of it is left to run');
    assert.equal(inStore(`uploads/${lesson.id}`), false);
  });

  test('while its video is being transcoded, or while it is taught live: 409, and nothing is lost', async () => {
    // A lesson whose transcode a worker has taken and is working on.
    const busy = await create('正在转码的课');
    put(`uploads/${busy.id}/d1.mp4`);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = () => {};
    const taken = new Promise<void>((resolve) => (started = resolve));
    const worker = queues.consume({
      'transcode.vod': async () => {
        started();
        await held;
      },
    });
    try {
      await api.app.http.inject({
        method: 'POST',
        url: `/api/lessons/${busy.id}/transcode`,
        headers: auth('teacher'),
        payload: { source: `uploads/${busy.id}/d1.mp4` },
      });
      await taken;
      const refused = await remove(busy.id);
      assert.equal(refused.statusCode, 409);
      assert.deepEqual(fieldsOf(refused), ['params.id']);
      assert.match(refused.json<Problem>().detail, /being transcoded right now/);
      assert.equal((await get(busy.id)).json<Lesson>().status, 'processing', 'the lesson stays');
      assert.equal(inStore(`uploads/${busy.id}/d1.mp4`), true, 'and its upload');
      assert.equal((await jobsOf(busy.id)).length, 1, 'and its running job');
      release();
      await new Promise((r) => setTimeout(r, 50));
      while ((await jobsOf(busy.id)).length > 0) await new Promise((r) => setTimeout(r, 50));
    } finally {
      release();
      await worker.close();
    }
    // Once the transcoder is done with it, it can go.
    assert.equal((await remove(busy.id)).statusCode, 204);

    const live = await create('直播课');
    const started2 = await api.app.http.inject({
      method: 'POST',
      url: `/api/lessons/${live.id}/live`,
      headers: auth('teacher'),
    });
    assert.equal(started2.statusCode, 201, started2.body);
    const liveRefused = await remove(live.id);
    assert.equal(liveRefused.statusCode, 409);
    assert.deepEqual(fieldsOf(liveRefused), ['params.id']);
    assert.match(liveRefused.json<Problem>().detail, /taught live/);
    assert.equal((await get(live.id)).statusCode, 200, 'the live lesson stays');
  });

  test('only its teacher or an admin', async () => {
    const lesson = await create('别人不能删的课');
    put(`uploads/${lesson.id}/e1.mp4`);
    for (const who of ['student', 'family', 'analyst'] as const)
      assert.equal((await remove(lesson.id, who)).statusCode, 403, who);
    assert.equal((await remove(lesson.id, otherTeacher)).statusCode, 403);
    assert.equal((await remove('nope')).statusCode, 400);
    assert.equal((await get(lesson.id)).statusCode, 200);
    assert.equal(inStore(`uploads/${lesson.id}/e1.mp4`), true, 'its files stay');
  });
});
