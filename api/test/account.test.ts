// Fixing account mistakes (issue 17): changing one's own password, an admin's password reset with a
// temporary password that must be replaced at the next sign-in, and the admin's user search and paging.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PasswordReset, Problem, PublicUser, TokenPair, UserList } from '@sky/contracts';
import { Types } from 'mongoose';
import { UserRepository } from '../src/adapters/users.repository.js';
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

  test('the temporary password works for 72 hours; unused by then it is refused, clearly, and a new reset helps', async () => {
    const user = await newUser();
    const before = Date.now();
    const res = await resetPassword(user.id);
    const { temporaryPassword, expiresAt, user: reset } = res.json<PasswordReset>();
    const ttlH = (Date.parse(expiresAt) - before) / 3_600_000;
    assert.ok(ttlH > 71.99 && ttlH <= 72.01, `expires in 72 h (${ttlH.toFixed(3)} h)`);
    assert.equal(reset.temporaryPasswordExpiresAt, expiresAt, 'the admin list can say until when');

    // 72 hours pass unused (the clock of the record, not of the machine, is what moves)
    await api.mongo
      .collection('users')
      .updateOne(
        { _id: new Types.ObjectId(user.id) },
        { $set: { temporaryPasswordExpiresAt: new Date(Date.now() - 1000) } },
      );
    const expired = await login(user.username, temporaryPassword);
    assert.equal(expired.statusCode, 403);
    assert.equal(expired.json<Problem>().code, 'TEMPORARY_PASSWORD_EXPIRED');
    assert.match(expired.json<Problem>().detail, /ask your school admin for a new one/);
    assert.doesNotMatch(expired.body, /accessToken|refreshToken/);
    const renewLate = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/login/new-password',
      payload: { username: user.username, password: temporaryPassword, newPassword: 'too late a phrase' },
      remoteAddress: address(),
    });
    assert.equal(renewLate.statusCode, 403, 'nor can it set a new password');
    assert.equal(renewLate.json<Problem>().code, 'TEMPORARY_PASSWORD_EXPIRED');
    const wrong = await login(user.username, 'not the temporary one');
    assert.equal(wrong.statusCode, 401, 'a wrong password learns nothing about the expiry');
    assert.equal(wrong.json<Problem>().code, 'INVALID_CREDENTIALS');

    // a new reset: the new temporary password works, must be changed, and then the account is as before
    const again = (await resetPassword(user.id)).json<PasswordReset>();
    const first = await login(user.username, again.temporaryPassword);
    assert.equal(first.json<Problem>().code, 'PASSWORD_CHANGE_REQUIRED');
    const renewed = await api.app.http.inject({
      method: 'POST',
      url: '/api/auth/login/new-password',
      payload: {
        username: user.username,
        password: again.temporaryPassword,
        newPassword: 'in time this once',
      },
      remoteAddress: address(),
    });
    assert.equal(renewed.statusCode, 200, renewed.body);
    assert.equal(renewed.json<TokenPair>().user.temporaryPasswordExpiresAt, undefined);
    const normal = await login(user.username, 'in time this once');
    assert.equal(normal.statusCode, 200, 'a normal sign-in from then on');
    assert.equal((await me(normal.json<TokenPair>().accessToken)).statusCode, 200);
    const stored = await api.mongo.collection('users').findOne({ _id: new Types.ObjectId(user.id) });
    assert.equal(stored?.['temporaryPasswordExpiresAt'], undefined, 'no expiry left behind');
    assert.equal(stored?.['mustChangePassword'], undefined);
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

  test('by the start of the name or username, in any case, with the role; regex characters are plain text', async () => {
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

  test('a search reads the search index, never every account, with or without a role, on any page', async () => {
    for (const q of [
      { q: word, limit: 50, offset: 0 },
      { q: word, limit: 50, offset: 100 },
      { q: `${word}同学1`, limit: 10, offset: 0, role: 'teacher' as const },
      { q: 'page4', limit: 5, offset: 0 },
    ]) {
      const stages = await api.app.services.users.listPlan(q);
      const names = stages.map((s) => s.stage);
      console.log(
        `[account] plan of ${JSON.stringify(q)}: ${stages.map((s) => s.stage + (s.indexName ? `(${s.indexName})` : '')).join(' > ')}`,
      );
      assert.ok(!names.includes('COLLSCAN'), `${JSON.stringify(q)}: ${names.join(' > ')}`);
      assert.ok(
        stages.some((s) => s.stage === 'IXSCAN' && s.indexName === 'searchKeys_1'),
        `${JSON.stringify(q)} reads searchKeys_1: ${JSON.stringify(stages)}`,
      );
    }
    // the database's own count of what it read: the matches, not the whole collection
    const explained = (await api.mongo
      .collection('users')
      .find({ searchKeys: /^page12/ })
      .hint({ searchKeys: 1 })
      .explain('executionStats')) as {
      executionStats: { totalDocsExamined: number; totalKeysExamined: number; nReturned: number };
    };
    const { nReturned, totalKeysExamined, totalDocsExamined } = explained.executionStats;
    console.log(
      `[account] /^page12/ among ${await api.mongo.collection('users').countDocuments()} accounts: ${nReturned} returned, ${totalKeysExamined} keys and ${totalDocsExamined} documents read`,
    );
    assert.equal(explained.executionStats.nReturned, 11, 'page12, page120…page129');
    assert.equal(explained.executionStats.totalDocsExamined, 11);
  });

  test('a Chinese name is found from a character inside it, a name from a word, a username from a part', async () => {
    const made = await api.app.services.users.create({
      username: `wang.xiaoming.${api.prefix}`,
      password: PASSWORD,
      displayName: `王小明${word}`,
      role: 'teacher',
    });
    const found = async (q: string) =>
      (await list(`q=${encodeURIComponent(q)}&limit=100`)).json<UserList>().items.map((u) => u.id);
    assert.ok((await found(`小明${word}`)).includes(made.id), 'from inside the Chinese name');
    assert.ok((await found('xiaoming')).includes(made.id), 'from a part of the username');
    assert.ok((await found('WANG.XIAO')).includes(made.id), 'the username’s start, in any case');
    assert.ok(!(await found('iaoming')).includes(made.id), 'not from the middle of a Latin word');
    await api.app.services.users.delete(
      { sub: new Types.ObjectId().toHexString(), role: 'admin', typ: 'access' },
      made.id,
    );
  });

  test('accounts written before the search index are found once the api starts again', async () => {
    const id = new Types.ObjectId();
    await api.mongo.collection('users').insertOne({
      _id: id,
      username: `old.timer.${api.prefix}`,
      passwordHash: 'x',
      displayName: `旧账号${word}`,
      role: 'teacher',
      createdAt: new Date(),
    });
    assert.equal(
      (await list(`q=${encodeURIComponent(`old.timer.${api.prefix}`)}`)).json<UserList>().total,
      0,
    );
    await new UserRepository(api.mongo).init();
    const after = await list(`q=${encodeURIComponent(`账号${word}`)}`);
    assert.deepEqual(
      after.json<UserList>().items.map((u) => u.id),
      [id.toHexString()],
    );
    await api.mongo.collection('users').deleteOne({ _id: id });
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

describe('a family’s grade', () => {
  test('a family sets its child’s grade, which its account keeps; no one else sets theirs this way', async () => {
    const patch = (token: string, payload: unknown) =>
      api.app.http.inject({
        method: 'PATCH',
        url: '/api/me',
        headers: bearer(token),
        payload: payload as object,
      });
    const set = await patch(api.tokens.family, { grade: 'p5' });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal(set.json<PublicUser>().grade, 'p5');
    assert.equal((await me(api.tokens.family)).json<PublicUser>().grade, 'p5');
    const bad = await patch(api.tokens.family, { grade: 'p9' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(fieldsOf(bad), ['body.grade']);
    assert.equal((await patch(api.tokens.family, { grade: 'p5', role: 'admin' })).statusCode, 400);
    for (const role of ['student', 'teacher', 'admin'] as const)
      assert.equal((await patch(api.tokens[role], { grade: 'p1' })).statusCode, 403, role);
    assert.equal((await me(api.tokens.student)).json<PublicUser>().grade, 'p3', 'the student’s is unchanged');
  });
});
