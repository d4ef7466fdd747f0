// Fixing account mistakes (issue 17): changing one's own password, an admin's password reset with a
// temporary password that must be replaced at the next sign-in, and the admin's user search and paging.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PasswordReset, Problem, PublicUser, TokenPair, UserList } from '@sky/contracts';
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
/** A fresh user of its own, so each test owns its sessions, password and throttle counters. */
async function newUser(role: 'student' | 'teacher' = 'student'): Promise<PublicUser> {
  serial += 1;
  return api.app.services.users.create({
    username: `acct${serial}.${api.prefix}`,
    password: PASSWORD,
    displayName: `账号${serial}`,
    role,
    ...(role === 'student' ? { grade: 'p4' as const } : {}),
  });
}

/** Each test signs in from its own address, so the login throttle's counters are its own. */
const address = () => `198.51.100.${serial}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const me = (accessToken: string) => api.app.http.inject({ url: '/api/me', headers: bearer(accessToken) });
const refresh = (refreshToken: string) =>
  api.app.http.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });
const login = (username: string, password: string) =>
  api.app.http.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    remoteAddress: address(),
  });
const changePassword = (token: string, payload: unknown) =>
  api.app.http.inject({
    method: 'POST',
    url: '/api/auth/password',
    headers: bearer(token),
    payload: payload as object,
    remoteAddress: address(),
  });
const resetPassword = (id: string, token = api.tokens.admin) =>
  api.app.http.inject({ method: 'POST', url: `/api/users/${id}/password-reset`, headers: bearer(token) });
const fieldsOf = (res: { json<T>(): T }) => (res.json<Problem>().errors ?? []).map((e) => e.path);

describe('changing one’s own password', () => {
  test('the other devices are signed out, this one stays; only the new password signs in', async () => {
    const user = await newUser();
    const laptop = await api.login(user.username);
    const phone = await api.login(user.username);
    // The phone's live Q&A connection ends with its sign-in.
    const socket = ioClient(`${base}/qa`, {
      transports: ['websocket'],
      auth: { token: phone.accessToken },
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));

    const next = 'a brand new phrase 17';
    const res = await changePassword(laptop.accessToken, { currentPassword: PASSWORD, newPassword: next });
    assert.equal(res.statusCode, 204, res.body);

    assert.equal(await gone, 'io server disconnect');
    assert.equal((await me(phone.accessToken)).statusCode, 401, 'the phone’s access token is refused');
    assert.equal((await refresh(phone.refreshToken)).statusCode, 401, 'and its refresh token');
    assert.equal((await me(laptop.accessToken)).statusCode, 200, 'the laptop stays signed in');
    const rotated = await refresh(laptop.refreshToken);
    assert.equal(rotated.statusCode, 200, 'and keeps refreshing');
    assert.equal((await me(rotated.json<TokenPair>().accessToken)).statusCode, 200);

    assert.equal((await login(user.username, PASSWORD)).statusCode, 401, 'the old password is dead');
    assert.equal((await login(user.username, next)).statusCode, 200, 'the new one works');
  });

  test('a wrong current password and every broken rule are named, and the password stays as it was', async () => {
    const user = await newUser();
    const { accessToken } = await api.login(user.username);
    // each refusal names its field, the rule broken and its bound: what the web client translates
    const cases: [unknown, string, RegExp, string, number?][] = [
      [
        { currentPassword: 'not it at all', newPassword: 'fine new phrase' },
        'body.currentPassword',
        /current/,
        'incorrect',
      ],
      [{ currentPassword: PASSWORD, newPassword: 'short' }, 'body.newPassword', /at least 8/, 'too_short', 8],
      [{ currentPassword: PASSWORD, newPassword: 'password123' }, 'body.newPassword', /too common/, 'common'],
      [{ currentPassword: PASSWORD, newPassword: '12345678' }, 'body.newPassword', /too common/, 'common'],
      [
        { currentPassword: PASSWORD, newPassword: 'x'.repeat(257) },
        'body.newPassword',
        /at most 256/,
        'too_long',
        256,
      ],
      [
        { currentPassword: PASSWORD, newPassword: `my ${user.username} pw` },
        'body.newPassword',
        /username/,
        'contains_username',
      ],
      [{ currentPassword: PASSWORD, newPassword: PASSWORD }, 'body.newPassword', /differ/, 'same_as_current'],
      [{ currentPassword: PASSWORD }, 'body.newPassword', /./, 'required'],
      [
        { currentPassword: PASSWORD, newPassword: 'fine new phrase', extra: 1 },
        'body.extra',
        /unknown/,
        'unknown',
      ],
    ];
    for (const [payload, field, message, rule, limit] of cases) {
      const res = await changePassword(accessToken, payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)}: ${res.body}`);
      const problem = res.json<Problem>();
      assert.deepEqual(fieldsOf(res), [field]);
      assert.match(problem.errors?.[0]?.message ?? '', message);
      assert.equal(problem.errors?.[0]?.rule, rule, field);
      assert.equal(problem.errors?.[0]?.limit, limit, field);
    }
    // Nothing changed: the old password signs in, and this session is still alive.
    assert.equal((await me(accessToken)).statusCode, 200);
    assert.equal((await login(user.username, PASSWORD)).statusCode, 200);
    // Signed out, nobody changes anybody's password.
    const anonymous = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/password',
      payload: { currentPassword: PASSWORD, newPassword: 'fine new phrase' },
    });
    assert.equal(anonymous.statusCode, 401);
  });

  test('guessing the current password with a stolen session is throttled like sign-in', async () => {
    const user = await newUser();
    const { accessToken } = await api.login(user.username);
    for (let i = 0; i < 5; i++) {
      const res = await changePassword(accessToken, {
        currentPassword: `guess number ${i}`,
        newPassword: 'fine new phrase',
      });
      assert.equal(res.statusCode, 400);
    }
    const blocked = await changePassword(accessToken, {
      currentPassword: PASSWORD,
      newPassword: 'fine new phrase',
    });
    assert.equal(blocked.statusCode, 429, 'even the right password waits now');
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.equal((await login(user.username, PASSWORD)).statusCode, 429, 'so does sign-in from there');
  });
});

describe('an admin resets a password', () => {
  test('the user’s sessions end; the temporary password only lets them choose a new one, once', async () => {
    const user = await newUser();
    const a = await api.login(user.username);
    const b = await api.login(user.username);

    const res = await resetPassword(user.id);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store', 'no cache keeps the password');
    const { temporaryPassword, user: after } = res.json<PasswordReset>();
    assert.match(temporaryPassword, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    assert.equal(after.mustChangePassword, true);
    for (const s of [a, b]) {
      assert.equal((await me(s.accessToken)).statusCode, 401, 'every session ended');
      assert.equal((await refresh(s.refreshToken)).statusCode, 401);
    }
    const listed = await api.app.http.inject({
      url: `/api/users?q=${encodeURIComponent(user.username)}`,
      headers: bearer(api.tokens.admin),
    });
    assert.equal(listed.json<UserList>().items[0]?.mustChangePassword, true, 'the admin list says so');

    assert.equal((await login(user.username, PASSWORD)).statusCode, 401, 'the old password is dead');
    const plain = await login(user.username, temporaryPassword);
    assert.equal(plain.statusCode, 403);
    assert.equal(plain.json<Problem>().code, 'PASSWORD_CHANGE_REQUIRED');
    assert.doesNotMatch(plain.body, /accessToken|refreshToken/, 'no session from a temporary password');

    const renew = (newPassword: string, password = temporaryPassword) =>
      api.app.http.inject({
        method: 'POST',
        url: '/api/auth/login/new-password',
        payload: { username: user.username, password, newPassword },
        remoteAddress: address(),
      });
    const weak = await renew('qwertyuiop');
    assert.equal(weak.statusCode, 400);
    assert.deepEqual(fieldsOf(weak), ['body.newPassword']);
    assert.equal(weak.json<Problem>().errors?.[0]?.rule, 'common');
    const same = await renew(temporaryPassword);
    assert.equal(same.statusCode, 400);
    assert.deepEqual(fieldsOf(same), ['body.newPassword']);
    assert.equal(same.json<Problem>().errors?.[0]?.rule, 'same_as_current');
    assert.equal((await renew('my own phrase again', 'a wrong one')).statusCode, 401);

    const renewed = await renew('my own phrase again');
    assert.equal(renewed.statusCode, 200, renewed.body);
    const session = renewed.json<TokenPair>();
    assert.equal(session.user.mustChangePassword, undefined);
    assert.equal((await me(session.accessToken)).statusCode, 200);
    assert.equal(
      (await login(user.username, temporaryPassword)).statusCode,
      401,
      'the temporary one is spent',
    );
    assert.equal((await renew('yet another phrase')).statusCode, 401, 'and cannot be used again');
    assert.equal((await login(user.username, 'my own phrase again')).statusCode, 200);
  });

  test('only admins, never on themselves, and bad or unknown ids are named', async () => {
    const user = await newUser();
    for (const role of ['teacher', 'student', 'family', 'analyst'] as const)
      assert.equal((await resetPassword(user.id, api.tokens[role])).statusCode, 403, role);
    const admin = (await me(api.tokens.admin)).json<PublicUser>();
    const self = await resetPassword(admin.id);
    assert.equal(self.statusCode, 409);
    assert.match(self.json<Problem>().detail, /account page/);
    assert.equal((await me(api.tokens.admin)).statusCode, 200, 'the admin is still signed in');
    assert.equal((await resetPassword('507f1f77bcf86cd799439011')).statusCode, 404);
    const bad = await resetPassword('nope');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(fieldsOf(bad), ['params.id']);
    // None of that touched the user.
    assert.equal((await login(user.username, PASSWORD)).statusCode, 200);
  });

  test('a new account’s password follows the same rules, the field named', async () => {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/users',
      headers: bearer(api.tokens.admin),
      payload: { username: 'lin.xiao', password: 'lin.xiao.2024', displayName: '林晓', role: 'teacher' },
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(fieldsOf(res), ['body.password']);
    assert.match(res.json<Problem>().errors?.[0]?.message ?? '', /username/);
    assert.equal(res.json<Problem>().errors?.[0]?.rule, 'contains_username');
  });
});

describe('the admin’s user list: search and pages past 100', () => {
  // 130 accounts whose names share a word no other account has.
  const word = `页${Date.now().toString(36)}`;
  let made: PublicUser[] = [];
  before(async () => {
    const specs = Array.from({ length: 130 }, (_, i) => ({
      username: `page${i}.${api.prefix}`,
      password: PASSWORD,
      displayName: `${word}同学${i}`,
      role: i % 10 === 0 ? ('teacher' as const) : ('student' as const),
      ...(i % 10 === 0 ? {} : { grade: 'p2' as const }),
    }));
    made = [];
    for (let i = 0; i < specs.length; i += 10)
      made.push(...(await Promise.all(specs.slice(i, i + 10).map((s) => api.app.services.users.create(s)))));
  });

  const list = (query: string) =>
    api.app.http.inject({ url: `/api/users?${query}`, headers: bearer(api.tokens.admin) });

  test('three pages of 50 hold all 130 matches once each, with the total', async () => {
    const seen: string[] = [];
    for (const offset of [0, 50, 100]) {
      const res = await list(`q=${encodeURIComponent(word)}&limit=50&offset=${offset}`);
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json<UserList>();
      assert.equal(page.total, 130);
      assert.equal(page.items.length, offset === 100 ? 30 : 50);
      seen.push(...page.items.map((u) => u.id));
    }
    assert.equal(new Set(seen).size, 130, 'no one twice');
    assert.deepEqual([...seen].sort(), made.map((u) => u.id).sort(), 'no one missed');
    // newest first: the first page opens with the last batch created
    assert.ok(made.slice(-10).some((u) => u.id === seen[0]));
    assert.ok(made.slice(0, 10).some((u) => u.id === seen.at(-1)));
  });

  test('by a part of the name or username, in any case, with the role; regex characters are plain text', async () => {
    const one = await list(`q=${encodeURIComponent(`${word}同学17`)}`);
    assert.deepEqual(
      one.json<UserList>().items.map((u) => u.displayName),
      [`${word}同学17`],
    );
    const byUsername = await list(`q=${encodeURIComponent(`PAGE42.${api.prefix}`.toUpperCase())}`);
    assert.deepEqual(
      byUsername.json<UserList>().items.map((u) => u.username),
      [`page42.${api.prefix}`],
    );
    const teachers = await list(`q=${encodeURIComponent(word)}&role=teacher&limit=100`);
    assert.equal(teachers.json<UserList>().total, 13);
    assert.ok(teachers.json<UserList>().items.every((u) => u.role === 'teacher'));
    const regex = await list(`q=${encodeURIComponent('.*')}`);
    assert.equal(regex.statusCode, 200);
    assert.equal(regex.json<UserList>().total, 0, '“.*” matches only a literal “.*”');
  });

  test('bad queries are named and the list is unchanged', async () => {
    for (const [query, field] of [
      ['limit=101', 'querystring.limit'],
      ['offset=-1', 'querystring.offset'],
      [`q=${encodeURIComponent('a\u0000b')}`, 'querystring.q'],
      [`q=${'x'.repeat(51)}`, 'querystring.q'],
      ['role=king', 'querystring.role'],
      ['sort=name', 'querystring.sort'],
    ] as const) {
      const res = await list(query);
      assert.equal(res.statusCode, 400, query);
      assert.deepEqual(fieldsOf(res), [field], query);
    }
    assert.equal((await list(`q=${encodeURIComponent(word)}`)).json<UserList>().total, 130);
    assert.equal(await list('limit=5').then((r) => r.statusCode), 200);
    const forbidden = await api.app.http.inject({ url: '/api/users', headers: bearer(api.tokens.teacher) });
    assert.equal(forbidden.statusCode, 403);
  });
});
