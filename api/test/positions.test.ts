// Where a signed-in viewer stopped in a lesson is kept per user on the server, so that any browser of
// theirs resumes there and nobody else's does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lesson, Problem } from '@sky/contracts';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
let ready: string;
let draft: string;

before(async () => {
  api = await startTestApi();
  const create = async (title: string) => {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/lessons',
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
      payload: { title, grade: 'p3', subject: '数学' },
    });
    return res.json<Lesson>().id;
  };
  ready = await create('可以看的课');
  draft = await create('草稿');
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: ready,
    master: `lessons/${ready}/v1/master.m3u8`,
    tvMaster: `lessons/${ready}/v1/tv.m3u8`,
    durationSec: 600,
  });
});
after(async () => {
  await api?.close();
});

const as = (role: 'student' | 'family' | 'teacher') => ({ authorization: `Bearer ${api.tokens[role]}` });
const position = (lessonId: string) => `/api/me/positions/${lessonId}`;

test('a viewer’s position is theirs: saved, read back, and 0 for anyone else', async () => {
  const saved = await api.app.http.inject({
    method: 'PUT',
    url: position(ready),
    headers: as('student'),
    payload: { positionSec: 42.5 },
  });
  assert.equal(saved.statusCode, 200, saved.body);
  const mine = await api.app.http.inject({ url: position(ready), headers: as('student') });
  assert.equal(mine.statusCode, 200, mine.body);
  assert.equal(mine.json<{ positionSec: number }>().positionSec, 42.5);
  const theirs = await api.app.http.inject({ url: position(ready), headers: as('family') });
  assert.equal(theirs.json<{ positionSec: number }>().positionSec, 0);
  // a later save replaces it
  await api.app.http.inject({
    method: 'PUT',
    url: position(ready),
    headers: as('student'),
    payload: { positionSec: 61 },
  });
  const again = await api.app.http.inject({ url: position(ready), headers: as('student') });
  assert.equal(again.json<{ positionSec: number }>().positionSec, 61);
});

test('positions need a sign-in, a lesson the viewer may see, and a sane number', async () => {
  assert.equal((await api.app.http.inject({ url: position(ready) })).statusCode, 401);
  const onDraft = await api.app.http.inject({
    method: 'PUT',
    url: position(draft),
    headers: as('student'),
    payload: { positionSec: 3 },
  });
  assert.equal(onDraft.statusCode, 404, onDraft.body);
  const missing = await api.app.http.inject({
    method: 'PUT',
    url: position('0123456789abcdef01234567'),
    headers: as('student'),
    payload: { positionSec: 3 },
  });
  assert.equal(missing.statusCode, 404, missing.body);
  for (const payload of [{ positionSec: -1 }, { positionSec: '12' }, { positionSec: 5, extra: 1 }, {}]) {
    const res = await api.app.http.inject({
      method: 'PUT',
      url: position(ready),
      headers: as('student'),
      payload,
    });
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
    assert.ok(
      res.json<Problem>().errors?.some((e) => e.path.startsWith('body')),
      `${JSON.stringify(payload)}: ${res.body}`,
    );
  }
  const badId = await api.app.http.inject({ url: position('not-an-id'), headers: as('student') });
  assert.equal(badId.statusCode, 400);
});
