// Pairing a set-top box with a household (RFC 8628 device flow) over HTTP, on a real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  Device,
  DeviceCodeResponse,
  DeviceTokenError,
  DeviceTokenResponse,
  GradeId,
  Problem,
  Role,
} from '@sky/contracts';
import { registerProblemHandlers } from '@sky/contracts/http';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { useInfra, type TestInfra } from '@sky/devkit';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { redisDeviceStore } from '../src/adapters/device.store.js';
import { deviceRoutes } from '../src/http/device.routes.js';
import { DeviceService } from '../src/services/device.service.js';

const issuer = createTokenIssuer('test-secret-that-is-at-least-32-characters', 600);
const VERIFY_URI = 'https://sky.example.cn/pair';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

let infra: TestInfra;
let redis: Redis;
let app: FastifyInstance;
/** The service's clock (epoch seconds); tests only move it forward. */
let clock = Date.now() / 1000;

before(async () => {
  infra = await useInfra();
  redis = new Redis(infra.redisUrl);
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  const devices = new DeviceService(redisDeviceStore(redis, infra.prefix), {
    verificationUri: VERIFY_URI,
    now: () => clock,
  });
  await app.register(deviceRoutes, { devices, verifyUser: (t) => issuer.verify(t) });
  await app.ready();
});
after(async () => {
  await app.close();
  redis.disconnect();
  await infra.close();
});

let seq = 0;
/** A signed-in account of its own (the household is the account). */
function account(role: Role, grade?: GradeId) {
  const sub = `${infra.prefix}-${role}-${++seq}`;
  const token = issuer.sign({ sub, role, ...(grade ? { grade } : {}) });
  return { sub, auth: { authorization: `Bearer ${token}` } };
}
type Account = ReturnType<typeof account>;

/** A box or phone on an address of its own, so per-address limits stay within one test. */
function from() {
  const remoteAddress = `10.${Math.floor(++seq / 250)}.${seq % 250}.7`;
  const inject = (o: InjectOptions) => app.inject({ remoteAddress, ...o });
  return {
    inject,
    requestCode: async (name?: string) => {
      const res = await inject({
        method: 'POST',
        url: '/device/code',
        ...(name ? { payload: { name } } : {}),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<DeviceCodeResponse>();
    },
    poll: (deviceCode: string) =>
      inject({
        method: 'POST',
        url: '/device/token',
        payload: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode },
      }),
    approve: (who: Account, userCode: string, name?: string) =>
      inject({
        method: 'POST',
        url: '/device/approve',
        headers: who.auth,
        payload: { user_code: userCode, ...(name ? { name } : {}) },
      }),
    list: async (who: Account) => {
      const res = await inject({ url: '/devices', headers: who.auth });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<Device[]>();
    },
    me: (token: string) => inject({ url: '/device/me', headers: { authorization: `Bearer ${token}` } }),
  };
}

const flowError = (res: { statusCode: number; json<T>(): T }) => {
  assert.equal(res.statusCode, 400);
  return res.json<DeviceTokenError>().error;
};

/** Code → approval by `who` → the box's token. */
async function pair(who: Account, name?: string) {
  const box = from();
  const code = await box.requestCode(name);
  const approved = await box.approve(who, code.user_code);
  assert.equal(approved.statusCode, 200, approved.body);
  clock += code.interval;
  const res = await box.poll(code.device_code);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<DeviceTokenResponse>();
}

describe('pairing a box', () => {
  test('the box shows a code, a family member confirms it, the box gets its token once', async () => {
    const family = account('family');
    const box = from();
    const code = await box.requestCode('客厅电视');
    assert.match(code.user_code, USER_CODE);
    assert.equal(code.verification_uri, VERIFY_URI);
    assert.equal(code.verification_uri_complete, `${VERIFY_URI}?code=${code.user_code}`);
    assert.equal(code.expires_in, 600);
    assert.equal(code.interval, 5);

    assert.equal(flowError(await box.poll(code.device_code)), 'authorization_pending');

    // Typed on a phone: lower case, a space instead of the dash.
    const approved = await box.approve(family, code.user_code.toLowerCase().replace('-', ' '));
    assert.equal(approved.statusCode, 200, approved.body);
    const device = approved.json<Device>();
    assert.equal(device.householdId, family.sub);
    assert.equal(device.name, '客厅电视');

    clock += 5;
    const res = await box.poll(code.device_code);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const token = res.json<DeviceTokenResponse>();
    assert.match(token.access_token, /^stb_[\w-]{43}$/);
    assert.equal(token.token_type, 'Bearer');
    assert.equal(token.device.id, device.id);

    const me = await box.me(token.access_token);
    assert.equal(me.statusCode, 200, me.body);
    const seen = me.json<Device>();
    assert.equal(seen.householdId, family.sub);
    // A family account has no grade of its own: every grade.
    assert.deepEqual(seen.grades, []);
    assert.ok(seen.lastSeenAt);
    const byQuery = await box.inject({ url: `/device/me?token=${token.access_token}` });
    assert.equal(byQuery.json<Device>().id, device.id);

    clock += 5;
    assert.equal(flowError(await box.poll(code.device_code)), 'invalid_grant');
    assert.deepEqual(
      (await box.list(family)).map((d) => d.id),
      [device.id],
    );
  });

  test("a student's box is bound to the student's grade", async () => {
    const student = account('student', 'j2');
    const { device } = await pair(student);
    assert.equal(device.householdId, student.sub);
    assert.deepEqual(device.grades, ['j2']);
  });

  test('an RFC 8628 client posting forms is understood', async () => {
    const box = from();
    const res = await box.inject({ method: 'POST', url: '/device/code' });
    assert.equal(res.statusCode, 200, res.body);
    const code = res.json<DeviceCodeResponse>();
    const poll = await box.inject({
      method: 'POST',
      url: '/device/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: code.device_code,
      }).toString(),
    });
    assert.equal(flowError(poll), 'authorization_pending');
  });

  test('a box polling faster than the interval is told to slow down, and the interval grows', async () => {
    const box = from();
    const code = await box.requestCode();
    assert.equal(flowError(await box.poll(code.device_code)), 'authorization_pending');
    clock += 1;
    const slow = await box.poll(code.device_code);
    assert.equal(flowError(slow), 'slow_down');
    assert.match(slow.json<DeviceTokenError>().error_description, /10 seconds/);
    clock += 5;
    assert.equal(flowError(await box.poll(code.device_code)), 'slow_down', 'the interval is now 10 s');
    clock += 15;
    assert.equal(flowError(await box.poll(code.device_code)), 'authorization_pending');
  });

  test('a code past its 10 minutes is expired for the box and unknown to the phone', async () => {
    const family = account('family');
    const box = from();
    const code = await box.requestCode();
    clock += 601;
    assert.equal(flowError(await box.poll(code.device_code)), 'expired_token');
    const res = await box.approve(family, code.user_code);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<Problem>().code, 'NOT_FOUND');
    assert.equal(res.json<Problem>().detail, 'the code is wrong or has expired');
    assert.deepEqual(await box.list(family), []);
  });

  test('"not my TV": a declined code tells the box access_denied and cannot be approved later', async () => {
    const family = account('family');
    const box = from();
    const code = await box.requestCode();
    const denied = await box.inject({
      method: 'POST',
      url: '/device/deny',
      headers: family.auth,
      payload: { user_code: code.user_code },
    });
    assert.equal(denied.statusCode, 204, denied.body);
    assert.equal(flowError(await box.poll(code.device_code)), 'access_denied');
    assert.equal((await box.approve(family, code.user_code)).statusCode, 404);
  });

  test('an unknown device code is invalid_grant', async () => {
    assert.equal(flowError(await from().poll('not-a-code-we-gave')), 'invalid_grant');
  });

  test('a code confirmed once cannot be confirmed again', async () => {
    const box = from();
    const code = await box.requestCode();
    assert.equal((await box.approve(account('family'), code.user_code)).statusCode, 200);
    const again = await box.approve(account('family'), code.user_code);
    assert.equal(again.statusCode, 404);
  });
});

describe('who may pair', () => {
  for (const role of ['teacher', 'analyst', 'admin'] as const) {
    test(`${role}: cannot pair a household TV, and the code keeps waiting`, async () => {
      const box = from();
      const code = await box.requestCode();
      const res = await box.approve(account(role), code.user_code);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<Problem>().code, 'FORBIDDEN');
      assert.equal(flowError(await box.poll(code.device_code)), 'authorization_pending');
    });
  }

  test('approving needs a valid account token', async () => {
    const box = from();
    const code = await box.requestCode();
    const anon = await box.inject({
      method: 'POST',
      url: '/device/approve',
      payload: { user_code: code.user_code },
    });
    assert.equal(anon.statusCode, 401);
    const forged = await box.inject({
      method: 'POST',
      url: '/device/approve',
      headers: { authorization: 'Bearer not.a.jwt' },
      payload: { user_code: code.user_code },
    });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.json<Problem>().code, 'UNAUTHENTICATED');
  });
});

describe('brute force', () => {
  const wrong = (i: number) => `BBBB-BBB${'CDFGHJKLMNPQRSTVWXZ'[i]}`;

  test('five wrong codes, then the account is locked out even with the right code; others are not', async () => {
    const phone = from();
    const box = from();
    const code = await box.requestCode();
    const guesser = account('family');
    for (let i = 0; i < 5; i++) {
      const res = await phone.approve(guesser, wrong(i));
      assert.equal(res.statusCode, 404, `try ${i + 1}`);
    }
    const locked = await phone.approve(guesser, code.user_code);
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(locked.json<Problem>().code, 'RATE_LIMITED');
    assert.equal(flowError(await box.poll(code.device_code)), 'authorization_pending');

    const other = await phone.approve(account('family'), code.user_code);
    assert.equal(other.statusCode, 200, other.body);
  });

  test('a correct code does not count as a miss', async () => {
    const phone = from();
    const family = account('family');
    for (let i = 0; i < 4; i++) assert.equal((await phone.approve(family, wrong(i))).statusCode, 404);
    for (let i = 0; i < 3; i++) {
      const code = await from().requestCode();
      assert.equal((await phone.approve(family, code.user_code)).statusCode, 200);
    }
    assert.equal((await phone.approve(family, wrong(5))).statusCode, 404);
    assert.equal((await phone.approve(family, wrong(6))).statusCode, 429);
  });

  test('thirty misses from one address hold back accounts that miss there, never a family’s right code', async () => {
    const phone = from();
    for (let a = 0; a < 6; a++) {
      const guesser = account('student', 'p5');
      for (let i = 0; i < 5; i++) assert.equal((await phone.approve(guesser, wrong(i))).statusCode, 404);
    }
    // a family behind the same address (a school's NAT) typing its right code gets in
    const code = await from().requestCode();
    assert.equal((await phone.approve(account('family'), code.user_code)).statusCode, 200);
    // another account guessing there: its first miss is its own, then the address's budget holds it
    const next = account('student', 'p5');
    assert.equal((await phone.approve(next, wrong(0))).statusCode, 404);
    assert.equal((await phone.approve(next, wrong(1))).statusCode, 429);
    const later = await from().requestCode();
    assert.equal((await phone.approve(next, later.user_code)).statusCode, 429);
    assert.equal((await from().approve(account('family'), later.user_code)).statusCode, 200);
  });

  test('a box asking for codes more than 20 times a minute is refused', async () => {
    const box = from();
    for (let i = 0; i < 20; i++) await box.requestCode();
    const res = await box.inject({ method: 'POST', url: '/device/code' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.json<Problem>().code, 'RATE_LIMITED');
    await from().requestCode();
  });
});

describe('household devices', () => {
  test("one family cannot see or remove another family's TV, and that TV keeps working", async () => {
    const a = account('family');
    const b = account('family');
    const tvA = await pair(a, '客厅电视');
    const tvB = await pair(b, '卧室电视');
    const phone = from();

    assert.deepEqual(
      (await phone.list(a)).map((d) => d.name),
      ['客厅电视'],
    );
    assert.deepEqual(
      (await phone.list(b)).map((d) => d.name),
      ['卧室电视'],
    );
    const removeB = await phone.inject({
      method: 'DELETE',
      url: `/devices/${tvB.device.id}`,
      headers: a.auth,
    });
    assert.equal(removeB.statusCode, 404);
    // The same answer as for a device that does not exist at all.
    const removeNone = await phone.inject({
      method: 'DELETE',
      url: '/devices/00000000-0000-0000-0000-000000000000',
      headers: a.auth,
    });
    assert.equal(removeNone.statusCode, 404);
    assert.equal(removeNone.json<Problem>().detail, removeB.json<Problem>().detail);

    assert.equal((await phone.me(tvB.access_token)).statusCode, 200);
    assert.equal((await phone.list(b)).length, 1);
    assert.equal((await phone.me(tvA.access_token)).statusCode, 200);
  });

  test('a removed TV loses access at once', async () => {
    const family = account('family');
    const tv = await pair(family);
    const phone = from();
    assert.equal((await phone.me(tv.access_token)).statusCode, 200);
    const removed = await phone.inject({
      method: 'DELETE',
      url: `/devices/${tv.device.id}`,
      headers: family.auth,
    });
    assert.equal(removed.statusCode, 204);
    const me = await phone.me(tv.access_token);
    assert.equal(me.statusCode, 401);
    assert.equal(me.json<Problem>().code, 'UNAUTHENTICATED');
    assert.deepEqual(await phone.list(family), []);
  });

  test('a TV removed after approval but before it picked up its token is denied', async () => {
    const family = account('family');
    const box = from();
    const code = await box.requestCode();
    const device = (await box.approve(family, code.user_code)).json<Device>();
    await box.inject({ method: 'DELETE', url: `/devices/${device.id}`, headers: family.auth });
    assert.equal(flowError(await box.poll(code.device_code)), 'access_denied');
  });

  test('a TV is seen at most once a minute', async () => {
    const tv = await pair(account('family'));
    const box = from();
    const first = (await box.me(tv.access_token)).json<Device>().lastSeenAt;
    clock += 30;
    assert.equal((await box.me(tv.access_token)).json<Device>().lastSeenAt, first);
    clock += 30;
    const later = (await box.me(tv.access_token)).json<Device>().lastSeenAt;
    assert.ok(first && later && Date.parse(later) - Date.parse(first) === 60_000, `${first} → ${later}`);
  });

  test('/device/me without a valid device token is 401', async () => {
    const box = from();
    assert.equal((await box.inject({ url: '/device/me' })).statusCode, 401);
    assert.equal((await box.me('stb_forged')).statusCode, 401);
    // An account token is not a device token.
    const family = account('family');
    assert.equal((await box.inject({ url: '/device/me', headers: family.auth })).statusCode, 401);
  });

  test('teachers have no household devices', async () => {
    const res = await from().inject({ url: '/devices', headers: account('teacher').auth });
    assert.equal(res.statusCode, 403);
  });

  test('the codes and tokens themselves are never stored', async () => {
    const box = from();
    const code = await box.requestCode();
    await box.approve(account('family'), code.user_code);
    clock += 5;
    const token = (await box.poll(code.device_code)).json<DeviceTokenResponse>().access_token;
    const keys = await redis.keys(`${infra.prefix}:*`);
    assert.ok(keys.length > 0);
    const secrets = [code.device_code, code.user_code.replace('-', ''), token];
    for (const k of keys) {
      const type = await redis.type(k);
      const values =
        type === 'string'
          ? [await redis.get(k)]
          : type === 'hash'
            ? Object.values(await redis.hgetall(k))
            : type === 'set'
              ? await redis.smembers(k)
              : [];
      for (const s of secrets) {
        assert.ok(!k.includes(s), `${k} holds a secret`);
        assert.ok(!values.some((v) => v?.includes(s)), `${k} holds a secret`);
      }
    }
  });
});

describe('bad input is answered with the field at fault', () => {
  const problemOf = (res: { statusCode: number; headers: Record<string, unknown>; json<T>(): T }) => {
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    return res.json<Problem & Partial<DeviceTokenError>>();
  };
  const paths = (p: Problem) => (p.errors ?? []).map((e) => e.path);

  test('approve: a code of the wrong length, an unknown field', async () => {
    const phone = from();
    const family = account('family');
    const short = problemOf(await phone.approve(family, 'BCD-FG'));
    assert.deepEqual(paths(short), ['body.user_code']);
    assert.equal(short.errors?.[0]?.message, 'the code has 8 letters');
    const extra = problemOf(
      await phone.inject({
        method: 'POST',
        url: '/device/approve',
        headers: family.auth,
        payload: { user_code: 'BCDFGHJK', household: 'someone-else' },
      }),
    );
    assert.deepEqual(paths(extra), ['body.household']);
  });

  test('approve: no account is 401 before the body is looked at', async () => {
    const res = await from().inject({ method: 'POST', url: '/device/approve', payload: { user_code: 1 } });
    assert.equal(res.statusCode, 401);
  });

  test('code: an empty name', async () => {
    const p = problemOf(await from().inject({ method: 'POST', url: '/device/code', payload: { name: ' ' } }));
    assert.deepEqual(paths(p), ['body.name']);
  });

  test('token: a wrong grant type is a problem an OAuth client also reads as invalid_request', async () => {
    const p = problemOf(
      await from().inject({
        method: 'POST',
        url: '/device/token',
        payload: { grant_type: 'password', device_code: 'x' },
      }),
    );
    assert.deepEqual(paths(p), ['body.grant_type']);
    assert.equal(p.code, 'VALIDATION_FAILED');
    assert.equal(p.error, 'invalid_request');
  });

  test('token: a parameter given twice in a form', async () => {
    const p = problemOf(
      await from().inject({
        method: 'POST',
        url: '/device/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload:
          'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=a&device_code=b',
      }),
    );
    assert.deepEqual(paths(p), ['body.device_code']);
  });

  test('remove: a malformed device id', async () => {
    const p = problemOf(
      await from().inject({ method: 'DELETE', url: '/devices/a%20b', headers: account('family').auth }),
    );
    assert.deepEqual(paths(p), ['params.id']);
  });
});
