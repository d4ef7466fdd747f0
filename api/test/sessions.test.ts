// Sessions that can be ended (issue 15): refresh-token families, logout, disable/delete, sign out
// everywhere, login throttling, and the web client's refresh cookie.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessGrant, Problem, PublicUser, TokenPair } from '@sky/contracts';
import { io as ioClient } from 'socket.io-client';
import { PASSWORD, startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
let base: string;
before(async () => {
  api = await startTestApi();
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(() => api.close());

let serial = 0;
/** A fresh user of its own, so each test owns its sessions and throttle counters. */
async function newUser(role: 'student' | 'teacher' | 'admin' = 'teacher'): Promise<PublicUser> {
  serial += 1;
  return api.app.services.users.create({
    username: `u${serial}.${role}.${api.prefix}`,
    password: PASSWORD,
    displayName: `user ${serial}`,
    role,
    ...(role === 'student' ? { grade: 'p3' as const } : {}),
  });
}

const refresh = (refreshToken: string) =>
  api.app.http.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });
const me = (accessToken: string) =>
  api.app.http.inject({ url: '/api/me', headers: { authorization: `Bearer ${accessToken}` } });
const asAdmin = (method: 'POST' | 'DELETE', url: string, token = api.tokens.admin) =>
  api.app.http.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
const loginFrom = (username: string, password: string, remoteAddress: string) =>
  api.app.http.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    remoteAddress,
  });

describe('refresh-token families', () => {
  test('reusing a rotated refresh token ends the whole sign-in, the thief’s newer tokens included', async () => {
    const user = await newUser();
    const victim = await api.login(user.username);
    const other = await api.login(user.username); // another device: a different sign-in

    // The thief steals the victim's refresh token and rotates it first.
    const stolen = await refresh(victim.refreshToken);
    assert.equal(stolen.statusCode, 200);
    const thief = stolen.json<TokenPair>();

    // The victim's app then presents the already-rotated token: reuse.
    const reused = await refresh(victim.refreshToken);
    assert.equal(reused.statusCode, 401);

    assert.equal((await refresh(thief.refreshToken)).statusCode, 401, 'the thief’s rotated token is dead');
    assert.equal((await me(thief.accessToken)).statusCode, 401, 'the thief’s access token is dead');
    assert.equal((await me(victim.accessToken)).statusCode, 401, 'every access token of the family');
    // The other sign-in is not touched.
    assert.equal((await me(other.accessToken)).statusCode, 200);
    assert.equal((await refresh(other.refreshToken)).statusCode, 200);
  });

  test('logout ends its own sign-in (refresh and access token), and only that one', async () => {
    const user = await newUser();
    const a = await api.login(user.username);
    const b = await api.login(user.username);
    const out = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refreshToken: a.refreshToken },
    });
    assert.equal(out.statusCode, 204);
    assert.equal((await refresh(a.refreshToken)).statusCode, 401);
    assert.equal((await me(a.accessToken)).statusCode, 401);
    assert.equal((await me(b.accessToken)).statusCode, 200);
  });

  test('logout with the right id and a wrong secret ends nothing', async () => {
    const user = await newUser();
    const pair = await api.login(user.username);
    const [id] = pair.refreshToken.split('.');
    const forged = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refreshToken: `${id}.wrong` },
    });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.json<Problem>().code, 'UNAUTHENTICATED');
    assert.equal((await me(pair.accessToken)).statusCode, 200);
    assert.equal((await refresh(pair.refreshToken)).statusCode, 200, 'the real session still refreshes');
  });
});

describe('admins end sessions: disable, enable, sign out everywhere, delete', () => {
  test('disabling a user ends every session at once and refuses their logins; enabling lets them back', async () => {
    const user = await newUser('student');
    const a = await api.login(user.username);
    const b = await api.login(user.username);
    // A live Q&A socket of theirs is disconnected too.
    const socket = ioClient(`${base}/qa`, {
      transports: ['websocket'],
      auth: { token: a.accessToken },
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));

    const res = await asAdmin('POST', `/api/users/${user.id}/disable`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<PublicUser>().disabled, true);

    assert.equal(await gone, 'io server disconnect');
    for (const s of [a, b]) {
      assert.equal((await me(s.accessToken)).statusCode, 401);
      assert.equal((await refresh(s.refreshToken)).statusCode, 401);
    }
    const login = await loginFrom(user.username, PASSWORD, '198.51.100.10');
    assert.equal(login.statusCode, 403);
    assert.match(login.json<Problem>().detail, /disabled/);
    // A disabled account keeps its connection refused too.
    const again = ioClient(`${base}/qa`, {
      transports: ['websocket'],
      auth: { token: a.accessToken },
      reconnection: false,
      forceNew: true,
    });
    const refused = await new Promise<Error>((resolve) => again.once('connect_error', resolve));
    again.close();
    assert.match(refused.message, /ended|not valid/);

    const listed = await api.app.http.inject({
      url: '/api/users?role=student&limit=100',
      headers: { authorization: `Bearer ${api.tokens.admin}` },
    });
    assert.equal(listed.json<{ items: PublicUser[] }>().items.find((u) => u.id === user.id)?.disabled, true);

    const enabled = await asAdmin('POST', `/api/users/${user.id}/enable`);
    assert.equal(enabled.statusCode, 200);
    assert.equal(enabled.json<PublicUser>().disabled, undefined);
    const back = await api.login(user.username);
    assert.equal((await me(back.accessToken)).statusCode, 200);
    assert.equal((await me(a.accessToken)).statusCode, 401, 'old sessions stay ended');
  });

  test('an admin signs a user out everywhere; the user can sign in again', async () => {
    const user = await newUser();
    const a = await api.login(user.username);
    const b = await api.login(user.username);
    assert.equal((await asAdmin('POST', `/api/users/${user.id}/sign-out`)).statusCode, 204);
    for (const s of [a, b]) {
      assert.equal((await me(s.accessToken)).statusCode, 401);
      assert.equal((await refresh(s.refreshToken)).statusCode, 401);
    }
    const next = await api.login(user.username);
    assert.equal((await me(next.accessToken)).statusCode, 200);
  });

  test('a user signs themselves out everywhere', async () => {
    const user = await newUser('student');
    const a = await api.login(user.username);
    const b = await api.login(user.username);
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/logout-all',
      headers: { authorization: `Bearer ${a.accessToken}` },
    });
    assert.equal(res.statusCode, 204);
    for (const s of [a, b]) {
      assert.equal((await me(s.accessToken)).statusCode, 401);
      assert.equal((await refresh(s.refreshToken)).statusCode, 401);
    }
  });

  test('deleting a teacher ends their sessions and keeps their lessons (admins manage them)', async () => {
    const user = await newUser('teacher');
    const pair = await api.login(user.username);
    const lesson = await api.app.http.inject({
      method: 'POST',
      url: '/api/lessons',
      headers: { authorization: `Bearer ${pair.accessToken}` },
      payload: { title: '将被保留的课', grade: 'p2', subject: '语文' },
    });
    assert.equal(lesson.statusCode, 201);
    const lessonId = lesson.json<{ id: string }>().id;

    assert.equal((await asAdmin('DELETE', `/api/users/${user.id}`)).statusCode, 204);
    assert.equal((await me(pair.accessToken)).statusCode, 401);
    assert.equal((await refresh(pair.refreshToken)).statusCode, 401);
    assert.equal((await loginFrom(user.username, PASSWORD, '198.51.100.11')).statusCode, 401);
    const kept = await api.app.http.inject({
      url: `/api/lessons/${lessonId}`,
      headers: { authorization: `Bearer ${api.tokens.admin}` },
    });
    assert.equal(kept.statusCode, 200);
    assert.equal((await asAdmin('DELETE', `/api/users/${user.id}`)).statusCode, 404);
  });

  test('only admins, never on themselves, and bad ids are named', async () => {
    const user = await newUser();
    for (const role of ['student', 'family', 'teacher', 'analyst'] as const) {
      const res = await asAdmin('POST', `/api/users/${user.id}/disable`, api.tokens[role]);
      assert.equal(res.statusCode, 403);
    }
    const self = (await me(api.tokens.admin)).json<PublicUser>();
    for (const [method, url] of [
      ['POST', `/api/users/${self.id}/disable`],
      ['DELETE', `/api/users/${self.id}`],
    ] as const) {
      const res = await asAdmin(method, url);
      assert.equal(res.statusCode, 409);
      assert.equal(res.json<Problem>().code, 'CONFLICT');
    }
    const bad = await asAdmin('POST', '/api/users/not-an-id/disable');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(
      bad.json<Problem>().errors?.map((e) => e.path),
      ['params.id'],
    );
    const missing = await asAdmin('POST', '/api/users/0123456789abcdef01234567/sign-out');
    assert.equal(missing.statusCode, 404);
  });
});

describe('login throttling', () => {
  test('after 5 wrong guesses the 6th is refused even with the right password; others are unaffected', async () => {
    const target = await newUser();
    const bystander = await newUser();
    const ip = '203.0.113.7';
    for (let i = 0; i < 5; i++) {
      const res = await loginFrom(target.username, `guess-${i}`, ip);
      assert.equal(res.statusCode, 401, `guess ${i + 1}`);
    }
    const blocked = await loginFrom(target.username, PASSWORD, ip);
    assert.equal(blocked.statusCode, 429);
    assert.match(String(blocked.headers['content-type']), /application\/problem\+json/);
    assert.equal(blocked.json<Problem>().code, 'RATE_LIMITED');
    const retryAfter = Number(blocked.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 900, `Retry-After ${String(blocked.headers['retry-after'])}`);

    // Another account from the same address, and the same account from another address, still sign in.
    assert.equal((await loginFrom(bystander.username, PASSWORD, ip)).statusCode, 200);
    assert.equal((await loginFrom(target.username, PASSWORD, '203.0.113.8')).statusCode, 200);
  });

  test('a successful login resets the per-account counter', async () => {
    const user = await newUser();
    const ip = '203.0.113.20';
    for (let i = 0; i < 4; i++) assert.equal((await loginFrom(user.username, 'nope', ip)).statusCode, 401);
    assert.equal((await loginFrom(user.username, PASSWORD, ip)).statusCode, 200);
    for (let i = 0; i < 4; i++) assert.equal((await loginFrom(user.username, 'nope', ip)).statusCode, 401);
    assert.equal((await loginFrom(user.username, PASSWORD, ip)).statusCode, 200);
  });

  test('one address guessing across many accounts is stopped too', async () => {
    const ip = '203.0.113.30';
    let status = 0;
    let tries = 0;
    // Spraying: a different (unknown) username each time, so no per-account counter fills.
    while (tries < 200) {
      tries += 1;
      status = (await loginFrom(`spray${tries}.${api.prefix}`, 'password1', ip)).statusCode;
      if (status !== 401) break;
    }
    assert.equal(status, 429);
    assert.equal(tries, 101, 'the per-address limit is 100 failures');
    const user = await newUser();
    assert.equal((await loginFrom(user.username, PASSWORD, '203.0.113.31')).statusCode, 200);
  });
});

describe('the web client’s refresh cookie', () => {
  const cookieOf = (setCookie: string | string[] | undefined) => {
    const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    return all.find((c) => c.startsWith('sky_refresh='));
  };

  test('login with refreshTokenIn=cookie: an httpOnly SameSite=Strict cookie on /api/auth, no token in the body', async () => {
    const user = await newUser('student');
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: user.username, password: PASSWORD, refreshTokenIn: 'cookie' },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json<AccessGrant & { refreshToken?: string }>();
    assert.equal(body.refreshToken, undefined);
    const cookie = cookieOf(res.headers['set-cookie']);
    assert.ok(cookie, 'a sky_refresh cookie is set');
    assert.match(cookie, /; HttpOnly/i);
    assert.match(cookie, /; SameSite=Strict/i);
    assert.match(cookie, /; Path=\/api\/auth(;|$)/);
    assert.doesNotMatch(cookie, /; Secure/i, 'plain http in tests: no Secure');
    const token = /^sky_refresh=([^;]+)/.exec(cookie)?.[1] ?? '';

    // The cookie alone refreshes (rotating the cookie), and logs out.
    const next = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: {},
      cookies: { sky_refresh: decodeURIComponent(token) },
    });
    assert.equal(next.statusCode, 200);
    assert.equal(next.json<{ refreshToken?: string }>().refreshToken, undefined);
    const rotated = cookieOf(next.headers['set-cookie']);
    assert.ok(rotated && !rotated.startsWith(`sky_refresh=${token};`));
    const rotatedToken = decodeURIComponent(/^sky_refresh=([^;]+)/.exec(rotated)?.[1] ?? '');
    assert.equal((await me(next.json<AccessGrant>().accessToken)).statusCode, 200);

    const out = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: {},
      cookies: { sky_refresh: rotatedToken },
    });
    assert.equal(out.statusCode, 204);
    assert.match(cookieOf(out.headers['set-cookie']) ?? '', /Expires=Thu, 01 Jan 1970|Max-Age=0/);
    assert.equal((await refresh(rotatedToken)).statusCode, 401);
  });

  test('behind https the cookie is Secure; without a cookie or body token refresh is a clear 401', async () => {
    const user = await newUser('student');
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      // The loopback proxy (trusted by default) says the browser came over https.
      headers: { 'x-forwarded-proto': 'https' },
      payload: { username: user.username, password: PASSWORD, refreshTokenIn: 'cookie' },
    });
    assert.equal(res.statusCode, 200);
    assert.match(cookieOf(res.headers['set-cookie']) ?? '', /; Secure/i);
    const none = await api.app.http.inject({ method: 'POST', url: '/api/auth/refresh', payload: {} });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json<Problem>().code, 'UNAUTHENTICATED');
  });
});
