import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lesson, LessonList } from '@sky/contracts';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
const as = (role: keyof TestApi['tokens']) => ({ authorization: `Bearer ${api.tokens[role]}` });

before(async () => {
  api = await startTestApi();
  const make = async (role: 'teacher' | 'admin', title: string, grade: string, subject: string) =>
    (
      await api.app.http.inject({
        method: 'POST',
        url: '/api/lessons',
        headers: as(role),
        payload: { title, grade, subject },
      })
    ).json<Lesson>();
  await make('teacher', '分数的初步认识', 'p3', '数学');
  await make('teacher', '古诗二首（一）', 'p3', '语文');
  await make('admin', '分数的加法 (a+b)*c', 'p5', '数学');
  const ready = await make('teacher', '认识钟表', 'p3', '数学');
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: ready.id,
    master: `lessons/${ready.id}/v1/web/master.m3u8`,
    tvMaster: `lessons/${ready.id}/v1/tv/master.m3u8`,
    durationSec: 30,
  });
});
after(() => api.close());

const list = async (query: string, role: keyof TestApi['tokens'] = 'teacher') => {
  const res = await api.app.http.inject({ url: `/api/lessons?${query}`, headers: as(role) });
  assert.equal(res.statusCode, 200, res.body);
  return res
    .json<LessonList>()
    .items.map((l) => l.title)
    .sort();
};

test('search finds Chinese titles by any part, and regex characters are plain text', async () => {
  assert.deepEqual(await list(`q=${encodeURIComponent('分数')}`), ['分数的初步认识', '分数的加法 (a+b)*c']);
  assert.deepEqual(await list(`q=${encodeURIComponent('(a+b)*')}`), ['分数的加法 (a+b)*c']);
  assert.deepEqual(await list(`q=${encodeURIComponent('.*')}`), []);
});

test('browse by grade and subject; a teacher’s own lessons; the teacher’s name on each', async () => {
  assert.deepEqual(await list(`grade=p3&subject=${encodeURIComponent('数学')}`), [
    '分数的初步认识',
    '认识钟表',
  ]);
  assert.deepEqual(await list('mine=true'), ['分数的初步认识', '古诗二首（一）', '认识钟表']);
  const one = await api.app.http.inject({ url: '/api/lessons?mine=true&limit=1', headers: as('teacher') });
  assert.equal(one.json<LessonList>().items[0]?.teacherName, 'teacher');
});

test('students only ever see ready lessons, whatever they ask for', async () => {
  assert.deepEqual(await list('status=draft', 'student'), ['认识钟表']);
  assert.deepEqual(await list(`q=${encodeURIComponent('分数')}`, 'student'), []);
});

test('bad list queries are named', async () => {
  const res = await api.app.http.inject({
    url: `/api/lessons?q=${'x'.repeat(51)}&mine=yes`,
    headers: as('teacher'),
  });
  assert.equal(res.statusCode, 400);
  assert.deepEqual(
    res
      .json<{ errors: { path: string }[] }>()
      .errors.map((e) => e.path)
      .sort(),
    ['querystring.mine', 'querystring.q'],
  );
});

test('browse grade → subject → unit: units in textbook order, lessons of one unit; viewers only see units with ready lessons', async () => {
  const make = async (title: string, unit: string) =>
    (
      await api.app.http.inject({
        method: 'POST',
        url: '/api/lessons',
        headers: as('teacher'),
        payload: { title, grade: 'p4', subject: '语文', unit },
      })
    ).json<Lesson>();
  const first = await make('观潮', '第一单元');
  await make('走月亮', '第一单元');
  await make('古诗三首', '第十单元');
  await make('爬山虎的脚', '第二单元');
  assert.equal(first.unit, '第一单元');
  const units = await api.app.http.inject({
    url: `/api/lessons/units?grade=p4&subject=${encodeURIComponent('语文')}`,
    headers: as('teacher'),
  });
  assert.deepEqual(units.json(), ['第一单元', '第二单元', '第十单元']);
  assert.deepEqual(await list(`grade=p4&unit=${encodeURIComponent('第一单元')}`), ['观潮', '走月亮']);
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: first.id,
    master: `lessons/${first.id}/v1/web/master.m3u8`,
    tvMaster: `lessons/${first.id}/v1/tv/master.m3u8`,
    durationSec: 30,
  });
  const forStudent = await api.app.http.inject({
    url: `/api/lessons/units?grade=p4&subject=${encodeURIComponent('语文')}`,
    headers: as('student'),
  });
  assert.deepEqual(forStudent.json(), ['第一单元']);
  const bad = await api.app.http.inject({ url: '/api/lessons/units?grade=p4', headers: as('student') });
  assert.equal(bad.statusCode, 400);
});
