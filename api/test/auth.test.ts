import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Problem, TokenPair } from '@sky/contracts';
import { PASSWORD, startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
before(async () => {
  api = await startTestApi();
});
after(() => api.close());

describe('login and tokens', () => {
  test('a user logs in, sees who they are, refreshes once, and the old refresh token is dead', async () => {
    const pair = await api.login(`teacher.${api.prefix}`);
    assert.equal(pair.user.role, 'teacher');
    const me = await api.app.http.inject({
      url: '/api/me',
      headers: { authorization: `Bearer ${pair.accessToken}` },
    });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json<{ username: string }>().username, `teacher.${api.prefix}`);

    const refreshed = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: pair.refreshToken },
    });
    assert.equal(refreshed.statusCode, 200);
    assert.notEqual(refreshed.json<TokenPair>().refreshToken, pair.refreshToken);

    const reused = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: pair.refreshToken },
    });
    assert.equal(reused.statusCode, 401);
    assert.equal(reused.json<Problem>().code, 'UNAUTHENTICATED');
  });

  test('a wrong password and an unknown user get the same 401', async () => {
    for (const username of [`teacher.${api.prefix}`, 'nobody.at.all']) {
      const res = await api.app.http.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username, password: `${PASSWORD}x` },
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(res.json<Problem>().code, 'INVALID_CREDENTIALS');
    }
  });

  test('logout kills the refresh token', async () => {
    const pair = await api.login(`student.${api.prefix}`);
    const out = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refreshToken: pair.refreshToken },
    });
    assert.equal(out.statusCode, 204);
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: pair.refreshToken },
    });
    assert.equal(res.statusCode, 401);
  });

  test('a forged or tampered token is refused', async () => {
    const t = api.tokens.student;
    const [h, p, s] = t.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${s}`;
    const res = await api.app.http.inject({
      url: '/api/users',
      headers: { authorization: `Bearer ${forged}` },
    });
    assert.equal(res.statusCode, 401);
  });
});

describe('role guard', () => {
  const cases: { method: 'GET' | 'POST'; url: string; payload?: object; allowed: string[] }[] = [
    { method: 'GET', url: '/api/users', allowed: ['admin'] },
    {
      method: 'POST',
      url: '/api/users',
      payload: { username: 'x', password: 'y', displayName: 'z', role: 'student' },
      allowed: ['admin'],
    },
    {
      method: 'POST',
      url: '/api/lessons',
      payload: { title: 't', grade: 'p1', subject: '数学' },
      allowed: ['teacher', 'admin'],
    },
    {
      method: 'POST',
      url: '/api/lessons/000000000000000000000000/transcode',
      payload: { source: 'samples/x.mp4' },
      allowed: ['teacher', 'admin'],
    },
  ];
  for (const c of cases) {
    test(`${c.method} ${c.url}: 401 without a token, 403 for every role but ${c.allowed.join('/')}`, async () => {
      const anon = await api.app.http.inject({
        method: c.method,
        url: c.url,
        ...(c.payload ? { payload: c.payload } : {}),
      });
      assert.equal(anon.statusCode, 401);
      for (const [role, token] of Object.entries(api.tokens)) {
        const res = await api.app.http.inject({
          method: c.method,
          url: c.url,
          headers: { authorization: `Bearer ${token}` },
          ...(c.payload ? { payload: c.payload } : {}),
        });
        if (c.allowed.includes(role)) assert.notEqual(res.statusCode, 403, `${role} should pass the guard`);
        else {
          assert.equal(res.statusCode, 403, `${role} should be refused`);
          assert.equal(res.json<Problem>().code, 'FORBIDDEN');
        }
      }
    });
  }

  test('every signed-in role may list lessons; nobody anonymous', async () => {
    assert.equal((await api.app.http.inject({ url: '/api/lessons' })).statusCode, 401);
    for (const token of Object.values(api.tokens)) {
      const res = await api.app.http.inject({
        url: '/api/lessons',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.statusCode, 200);
    }
  });

  test('a teacher may not transcode another teacher’s lesson', async () => {
    const auth = { authorization: `Bearer ${api.tokens.admin}` };
    const lesson = await api.app.http.inject({
      method: 'POST',
      url: '/api/lessons',
      headers: auth,
      payload: { title: '管理员的课', grade: 'p2', subject: '语文' },
    });
    assert.equal(lesson.statusCode, 201);
    const res = await api.app.http.inject({
      method: 'POST',
      url: `/api/lessons/${lesson.json<{ id: string }>().id}/transcode`,
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
      payload: { source: 'samples/x.mp4' },
    });
    assert.equal(res.statusCode, 403);
  });
});

describe('bad input → 400 problem+json naming the field', () => {
  const post = (url: string, body: string, token = api.tokens.admin) =>
    api.app.http.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });

  test('malformed JSON', async () => {
    const res = await post('/api/lessons', '{"title": "x",');
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    const p = res.json<Problem>();
    assert.equal(p.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      p.errors?.map((e) => e.path),
      ['body'],
    );
  });

  test('unknown fields are named', async () => {
    const res = await post(
      '/api/lessons',
      JSON.stringify({ title: 'x', grade: 'p1', subject: '数学', teacherId: 'me', isAdmin: true }),
    );
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res
        .json<Problem>()
        .errors?.map((e) => e.path)
        .sort(),
      ['body.isAdmin', 'body.teacherId'],
    );
  });

  test('too-long strings and wrong enums are named', async () => {
    const res = await post(
      '/api/lessons',
      JSON.stringify({ title: '长'.repeat(121), grade: 'p13', subject: '数学' }),
    );
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res
        .json<Problem>()
        .errors?.map((e) => e.path)
        .sort(),
      ['body.grade', 'body.title'],
    );
  });

  test('a student without a grade, and a short password, are refused with both fields', async () => {
    const res = await post(
      '/api/users',
      JSON.stringify({ username: 'kid.one', password: 'short', displayName: '小孩', role: 'student' }),
    );
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res
        .json<Problem>()
        .errors?.map((e) => e.path)
        .sort(),
      ['body.grade', 'body.password'],
    );
    const res2 = await post(
      '/api/users',
      JSON.stringify({
        username: 'kid.one',
        password: 'long-enough-1',
        displayName: '小孩',
        role: 'student',
      }),
    );
    assert.equal(res2.statusCode, 400);
    assert.deepEqual(
      res2.json<Problem>().errors?.map((e) => e.path),
      ['body.grade'],
    );
  });

  test('a bad id and a bad query parameter', async () => {
    const auth = { authorization: `Bearer ${api.tokens.teacher}` };
    const byId = await api.app.http.inject({ url: '/api/lessons/../../etc', headers: auth });
    assert.ok([400, 404].includes(byId.statusCode));
    const bad = await api.app.http.inject({ url: '/api/lessons/12345', headers: auth });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(
      bad.json<Problem>().errors?.map((e) => e.path),
      ['params.id'],
    );
    const q = await api.app.http.inject({ url: '/api/lessons?limit=5000', headers: auth });
    assert.equal(q.statusCode, 400);
    assert.deepEqual(
      q.json<Problem>().errors?.map((e) => e.path),
      ['querystring.limit'],
    );
  });

  test('a body over the limit gets 413', async () => {
    const res = await post(
      '/api/lessons',
      JSON.stringify({ title: 'x', grade: 'p1', subject: 'x', description: 'y'.repeat(2_000_000) }),
    );
    assert.equal(res.statusCode, 413);
    assert.equal(res.json<Problem>().code, 'PAYLOAD_TOO_LARGE');
  });

  test('a duplicate username is a 409, and nothing is half-created', async () => {
    const body = JSON.stringify({
      username: `dup.${api.prefix}`,
      password: 'long-enough-1',
      displayName: 'D',
      role: 'analyst',
    });
    assert.equal((await post('/api/users', body)).statusCode, 201);
    const again = await post('/api/users', body);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<Problem>().code, 'CONFLICT');
  });
});
