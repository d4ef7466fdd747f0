// REQUIRE_DEVICE_TOKEN: the lineup, guide and playlists then need a paired box's token.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DeviceCodeResponse, DeviceTokenResponse } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { type TestInfra, testLogger, useInfra } from '@sky/devkit';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';
const tokens = createTokenIssuer(SECRET, 600);
let infra: TestInfra;
const conns: Redis[] = [];
let app: Awaited<ReturnType<typeof createApp>>;

before(async () => {
  infra = await useInfra();
  const r = () => {
    const c = new Redis(infra.redisUrl);
    conns.push(c);
    return c;
  };
  app = await createApp({
    config: loadConfig({
      REDIS_URL: infra.redisUrl,
      REDIS_PREFIX: infra.prefix,
      JWT_SECRET: SECRET,
      REQUIRE_DEVICE_TOKEN: 'true',
      CACHE_DIR: mkdtempSync(join(tmpdir(), 'sky-tv-')),
      LOG_LEVEL: 'silent',
    }),
    logger: testLogger('tv-gateway', logOptions('tv-gateway', 'info')),
    version: 'test',
    redis: r(),
    subscriber: r(),
    verifyUser: (t) => tokens.verify(t),
    curriculum: {
      channels: async () => [
        { id: 'tv-p1', kind: 'tv', number: 1, zh: '空中课堂 一年级', en: 'P1', grades: ['p1'] },
      ],
      programme: async () => [],
      subjectNames: async () => new Map(),
      teacherNames: async () => new Map(),
      invalidate: () => {},
    },
    media: { lessonMedia: async () => undefined },
  });
});
after(async () => {
  await app.close();
  for (const c of conns) c.disconnect();
  await infra.close();
});

test('without a device token the lineup is refused; a paired box’s token opens it, a revoked one no longer', async () => {
  for (const url of ['/channels.m3u', '/guide.xml', '/channels/tv-p1.m3u8', '/api/channels']) {
    const res = await app.http.inject({ url });
    assert.equal(res.statusCode, 401, `${url} without a token`);
  }
  assert.equal((await app.http.inject({ url: '/channels.m3u?token=stb_guessed' })).statusCode, 401);
  // the same routes spelled otherwise: percent-encoded, doubled or dotted segments
  for (const url of [
    '/%63hannels.m3u',
    '/%67uide.xml',
    '/channels/tv%2Dp1.m3u8',
    '/api/%63hannels',
    '//channels.m3u',
  ]) {
    const res = await app.http.inject({ url });
    assert.ok(res.statusCode === 401 || res.statusCode === 404, `${url} without a token: ${res.statusCode}`);
  }

  const code = (
    await app.http.inject({ method: 'POST', url: '/device/code', payload: {} })
  ).json<DeviceCodeResponse>();
  const family = tokens.sign({ sub: 'family-a', role: 'family', grade: 'p1' });
  const ok = await app.http.inject({
    method: 'POST',
    url: '/device/approve',
    headers: { authorization: `Bearer ${family}` },
    payload: { user_code: code.user_code },
  });
  assert.equal(ok.statusCode, 200, ok.body);
  const granted = (
    await app.http.inject({
      method: 'POST',
      url: '/device/token',
      payload: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: code.device_code },
    })
  ).json<DeviceTokenResponse>();
  const m3u = await app.http.inject({ url: `/channels.m3u?token=${granted.access_token}` });
  assert.equal(m3u.statusCode, 200);
  assert.match(m3u.body, new RegExp(`tv-p1\\.m3u8\\?token=${granted.access_token}`));
  const bearer = await app.http.inject({
    url: '/channels/tv-p1.m3u8',
    headers: { authorization: `Bearer ${granted.access_token}` },
  });
  assert.equal(bearer.statusCode, 200);

  const del = await app.http.inject({
    method: 'DELETE',
    url: `/devices/${granted.device.id}`,
    headers: { authorization: `Bearer ${family}` },
  });
  assert.equal(del.statusCode, 204);
  assert.equal(
    (await app.http.inject({ url: `/channels.m3u?token=${granted.access_token}` })).statusCode,
    401,
  );
});
