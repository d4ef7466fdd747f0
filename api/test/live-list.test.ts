// A grade's lessons on the air, as a student's home asks for them (`GET /api/lessons?grade=…&live=live`):
// only lessons being taught live now, of that grade; students see them although they are drafts, and
// none of the drafts that are not live (real mongod, redis-server).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lesson, LessonList } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
let sfuQueues: JobQueues;
const as = (role: keyof TestApi['tokens']) => ({ authorization: `Bearer ${api.tokens[role]}` });

before(async () => {
  api = await startTestApi();
  sfuQueues = createJobQueues(api.redisUrl, api.prefix);
});
after(async () => {
  await sfuQueues.close();
  await api.close();
});

async function draft(title: string, grade = 'p3'): Promise<Lesson> {
  const res = await api.app.http.inject({
    method: 'POST',
    url: '/api/lessons',
    headers: as('teacher'),
    payload: { title, grade, subject: '数学' },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Lesson>();
}

async function goLive(id: string): Promise<void> {
  const res = await api.app.http.inject({
    method: 'POST',
    url: `/api/lessons/${id}/live`,
    headers: as('teacher'),
  });
  assert.equal(res.statusCode, 201, res.body);
}

const titles = async (query: string, role: keyof TestApi['tokens'] = 'student') => {
  const res = await api.app.http.inject({ url: `/api/lessons?${query}`, headers: as(role) });
  assert.equal(res.statusCode, 200, res.body);
  return res
    .json<LessonList>()
    .items.map((l) => l.title)
    .sort();
};

test('live=live lists the grade’s lessons on the air, to students too; drafts and other grades stay out', async () => {
  const onAir = await draft('三年级 直播：认识钟表');
  const alsoOnAir = await draft('三年级 直播：认识分数');
  await draft('三年级 草稿：还没开播');
  const otherGrade = await draft('四年级 直播：面积', 'p4');
  const ended = await draft('三年级 直播：已结束');
  for (const l of [onAir, alsoOnAir, otherGrade, ended]) await goLive(l.id);
  // the sfu's end of one of them: ended, its replay being made
  await sfuQueues.enqueue('live.ended', {
    lessonId: ended.id,
    recording: `live/${ended.id}/recording.webm`,
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    endedAt: new Date().toISOString(),
  });
  for (let i = 0; i < 100; i++) {
    const res = await api.app.http.inject({ url: `/api/lessons/${ended.id}`, headers: as('teacher') });
    if (res.json<Lesson>().live?.state === 'ended') break;
    await new Promise((r) => setTimeout(r, 100));
  }

  assert.deepEqual(await titles('grade=p3&live=live'), ['三年级 直播：认识分数', '三年级 直播：认识钟表']);
  // what a student's library shows is unchanged: ready lessons only, none of these
  assert.deepEqual(await titles('grade=p3'), []);
  // after the end: the lesson whose replay is coming, which a student may open
  assert.deepEqual(await titles('grade=p3&live=ended'), ['三年级 直播：已结束']);
  // staff see the same on-air list (the draft of the studio is not on it)
  assert.deepEqual(await titles('grade=p3&live=live', 'teacher'), [
    '三年级 直播：认识分数',
    '三年级 直播：认识钟表',
  ]);
  // every lesson listed opens for the student
  for (const l of [onAir, alsoOnAir, ended]) {
    const res = await api.app.http.inject({ url: `/api/lessons/${l.id}`, headers: as('student') });
    assert.equal(res.statusCode, 200, `${l.title}: ${res.body}`);
  }
  const bad = await api.app.http.inject({ url: '/api/lessons?live=yes', headers: as('student') });
  assert.equal(bad.statusCode, 400);
});
