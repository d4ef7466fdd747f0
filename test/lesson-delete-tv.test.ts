// A lesson the TV timetable airs is not deleted from under the channels (issue 17): on a real curriculum
// and gateway, deleting the api lesson a plan lesson links (vod_lesson_id) is a 409 naming the plan
// lesson, and nothing of it goes; with the curriculum unreachable, the api cannot tell and refuses (503).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LESSON_REFUSALS, type Problem } from '@sky/contracts';
import { freePort } from '@sky/devkit';
import { startTestApi } from '../api/test/helpers.js';
import { actorOf } from './fixtures.js';
import { p1MathPlan, startTvStack, type TvStack } from './tv-stack.js';

let stack: TvStack;
before(async () => {
  stack = await startTvStack({ plan: (id) => p1MathPlan(id, ['认识钟表', '认识整点']) });
});
after(() => stack?.close());

const remove = (api: TvStack['api'], id: string) =>
  api.app.http.inject({
    method: 'DELETE',
    url: `/api/lessons/${id}`,
    headers: { authorization: `Bearer ${api.tokens.admin}` },
  });

test('the lesson the timetable airs stays, with its media and its place on the channel', async () => {
  const res = await remove(stack.api, stack.lessonId);
  assert.equal(res.statusCode, 409, res.body);
  const problem = res.json<Problem>();
  assert.deepEqual(problem.errors, [
    { path: 'params.id', message: LESSON_REFUSALS.in_plan, rule: 'in_plan' },
  ]);
  assert.match(problem.detail, /p1-math-1, p1-math-2/);
  const lesson = await stack.api.app.http.inject({ url: `/api/public/lessons/${stack.lessonId}` });
  assert.equal(lesson.statusCode, 200, 'the lesson is still there');
  assert.ok(existsSync(join(stack.api.mediaDir, 'lessons', stack.lessonId)), 'and its media');
  const guide = await fetch(`${stack.base}/channels.m3u`);
  assert.equal(guide.status, 200);

  // A lesson no plan lesson airs goes as usual.
  const free = await stack.api.app.services.lessons.create(await actorOf(stack.api, 'teacher'), {
    title: '不在课表里的课',
    grade: 'p1',
    subject: '数学',
  });
  assert.equal((await remove(stack.api, free.id)).statusCode, 204);
});

test('with the curriculum unreachable, deleting is refused (503) and nothing goes', async () => {
  const api = await startTestApi({ CURRICULUM_URL: `http://127.0.0.1:${await freePort()}` });
  try {
    const lesson = await api.app.services.lessons.create(await actorOf(api, 'teacher'), {
      title: '课表说不清的课',
      grade: 'p2',
      subject: '语文',
    });
    const res = await remove(api, lesson.id);
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json<Problem>().code, 'DEPENDENCY_DOWN');
    const still = await api.app.http.inject({
      url: `/api/lessons/${lesson.id}`,
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
    });
    assert.equal(still.statusCode, 200);
  } finally {
    await api.close();
  }
});
