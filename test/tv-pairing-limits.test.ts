// Pairing limits that hold per person (issue 15): the web's /pair page reaches the TV gateway through the
// api (/api/tv, @fastify/http-proxy). The gateway must see each client's own address — the api forwards
// it, the gateway believes it from the api only — and wrong codes from some accounts must never lock out
// a family typing its right code. Real api (mongod, redis-server) and real gateway, both over HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DeviceCodeResponse, Problem } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { freePort, type TestInfra, testLogger, useInfra } from '@sky/devkit';
import { Redis } from 'ioredis';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { createApp as createGateway } from '../tv-gateway/src/app.js';
import { loadConfig } from '../tv-gateway/src/config.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';
const tokens = createTokenIssuer(SECRET, 600);

let api: TestApi;
let infra: TestInfra;
let gateway: Awaited<ReturnType<typeof createGateway>>;
const conns: Redis[] = [];
let cacheDir: string;

before(async () => {
  const port = await freePort();
  api = await startTestApi({ TV_GATEWAY_URL: `http://127.0.0.1:${port}` });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const apiUrl = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  infra = await useInfra();
  cacheDir = mkdtempSync(join(tmpdir(), 'sky-tv-cache-'));
  const redis = () => {
    const c = new Redis(infra.redisUrl);
    conns.push(c);
    return c;
  };
  gateway = await createGateway({
    config: loadConfig({
      API_URL: apiUrl,
      CURRICULUM_URL: `http://127.0.0.1:${await freePort()}`,
      REDIS_URL: infra.redisUrl,
      REDIS_PREFIX: infra.prefix,
      JWT_SECRET: SECRET,
      CACHE_DIR: cacheDir,
      LOG_LEVEL: 'silent',
    }),
    logger: testLogger('tv-gateway', logOptions('tv-gateway', 'info')),
    version: 'test',
    redis: redis(),
    subscriber: redis(),
    verifyUser: (t) => tokens.verify(t),
  });
  await gateway.http.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await gateway.close();
  for (const c of conns) c.disconnect();
  await infra.close();
  await api.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

let seq = 0;
const account = (role: 'family' | 'student' = 'family') =>
  `Bearer ${tokens.sign({ sub: `${infra.prefix}-${role}-${++seq}`, role })}`;
const wrong = (i: number) => `BBBB-BB${'CDFGHJKLMNPQRSTVWXZ'[i % 19]}${'CDFGHJKLMNPQRSTVWXZ'[(i / 19) | 0]}`;

/** Through the api, as the web's /pair page, from a client at `address` (the api's trusted proxy says so). */
const viaApi = (address: string, url: string, authorization?: string, payload?: object) =>
  api.app.http.inject({
    method: 'POST',
    url: `/api/tv${url}`,
    headers: { 'x-forwarded-for': address, ...(authorization ? { authorization } : {}) },
    ...(payload ? { payload } : {}),
  });
const boxCode = async () => {
  const res = await gateway.http.inject({
    method: 'POST',
    url: '/device/code',
    remoteAddress: `192.0.2.${++seq % 250}`,
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<DeviceCodeResponse>();
};

test('35 wrong codes from 7 accounts through /api/tv do not lock out a family with a valid code', async () => {
  const guessers = '198.51.100.7';
  const answers = new Map<number, number>();
  for (let a = 0; a < 7; a++) {
    const guesser = account('student');
    for (let i = 0; i < 5; i++) {
      const res = await viaApi(guessers, '/device/approve', guesser, { user_code: wrong(a * 5 + i) });
      answers.set(res.statusCode, (answers.get(res.statusCode) ?? 0) + 1);
    }
  }
  // wrong (404) until the address's budget is spent, then held back (429)
  assert.deepEqual([...answers.keys()].sort(), [404, 429]);
  // a family elsewhere in the city
  const elsewhere = await boxCode();
  const res = await viaApi('203.0.113.5', '/device/approve', account(), { user_code: elsewhere.user_code });
  assert.equal(res.statusCode, 200, `family elsewhere: ${res.body}`);
  // and a family behind the guessers' own address (a school's or a carrier's NAT)
  const nat = await boxCode();
  const same = await viaApi(guessers, '/device/approve', account(), { user_code: nat.user_code });
  assert.equal(same.statusCode, 200, `family behind the same address: ${same.body}`);
  // the guessers themselves stay locked out, and an account that keeps missing there is held back
  const tired = account('student');
  assert.equal((await viaApi(guessers, '/device/approve', tired, { user_code: wrong(100) })).statusCode, 404);
  const held = await viaApi(guessers, '/device/approve', tired, { user_code: wrong(101) });
  assert.equal(held.statusCode, 429);
  assert.equal(held.json<Problem>().code, 'RATE_LIMITED');
});

test('the per-address code limit holds per client address through /api/tv, not for everyone at once', async () => {
  for (let i = 0; i < 20; i++) {
    const res = await viaApi('198.51.100.20', '/device/code');
    assert.equal(res.statusCode, 200, `code ${i + 1}: ${res.body}`);
  }
  const over = await viaApi('198.51.100.20', '/device/code');
  assert.equal(over.statusCode, 429, 'the busy address is limited');
  const other = await viaApi('198.51.100.21', '/device/code');
  assert.equal(other.statusCode, 200, `another address is not: ${other.body}`);
});

test('a client’s own X-Forwarded-For is not believed: only the api’s (a trusted hop) is', async () => {
  // through the api: the client's header is replaced by the address the api saw (untrusted here)
  const spoofing = (i: number) =>
    api.app.http.inject({
      method: 'POST',
      url: '/api/tv/device/code',
      remoteAddress: '192.0.2.200',
      headers: { 'x-forwarded-for': `198.51.100.${100 + i}` },
    });
  for (let i = 0; i < 20; i++) assert.equal((await spoofing(i)).statusCode, 200);
  assert.equal((await spoofing(20)).statusCode, 429, 'a new forged address per request does not help');
  // straight to the gateway from an address it does not trust
  const direct = (i: number) =>
    gateway.http.inject({
      method: 'POST',
      url: '/device/code',
      remoteAddress: '192.0.2.201',
      headers: { 'x-forwarded-for': `198.51.100.${150 + i}` },
    });
  for (let i = 0; i < 20; i++) assert.equal((await direct(i)).statusCode, 200);
  assert.equal((await direct(20)).statusCode, 429);
});
