// Fuzzing as an attacker would: every route of the api, the curriculum and the tv-gateway (read from the
// apps themselves, so a new route is fuzzed without touching this file) with fuzzed path segments, query
// strings and bodies under every role, and every /qa socket event with fuzzed payloads. Seeded (FUZZ_SEED
// replays a run) and bounded. No answer may be a 5xx or carry a stack frame, an exception's name or a path
// of this machine, and every app must still answer a real request afterwards.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as contracts from '@sky/contracts';
import { QA_REQUESTS } from '@sky/contracts';
import { fieldNames, fuzzArbitraries, fuzzSeed, leakIn, routesOf, sampleOf, fc } from '@sky/devkit';
import { io as ioClient, type Socket } from 'socket.io-client';
import { PASSWORD } from '../api/test/helpers.js';
import { p1MathPlan, startTvStack, type TvStack } from './tv-stack.js';

const HTTP_INPUTS = 10_500;
const SOCKET_INPUTS = 2_100;
/** Requests in flight at once: enough to keep the apps busy, few enough for a 2-core runner. */
const PARALLEL = 8;
const seed = fuzzSeed();
const STATIC_FILE = /\.(js|mjs|css|map|svg|png|jpg|ico|woff2?|html|webmanifest|txt)$/;

let stack: TvStack;
let deviceToken: string;
const ROOT = join(import.meta.dirname, '..');
const TV_UI_DIR = join(ROOT, 'web-client', 'dist', 'tv');

before(async () => {
  assert.ok(existsSync(join(TV_UI_DIR, 'index.html')), `build the TV UI first (${TV_UI_DIR})`);
  stack = await startTvStack({
    plan: (id) => p1MathPlan(id, ['认识钟表']),
    gatewayEnv: { TV_UI_DIR },
    apiEnv: { WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') },
  });
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${stack.base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const code = (await (await post('/device/code', { name: 'fuzz' })).json()) as {
    device_code: string;
    user_code: string;
  };
  assert.equal(
    (await post('/device/approve', { user_code: code.user_code }, stack.api.tokens.family)).status,
    200,
  );
  const token = await post('/device/token', {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code: code.device_code,
  });
  deviceToken = ((await token.json()) as { access_token: string }).access_token;
});
after(() => stack?.close());

/** Where this run's files live: an answer naming any of them tells an attacker about the server. */
const serverPaths = () => [ROOT, tmpdir(), stack.api.mediaDir, process.cwd(), '/root/', '/home/'];

/** A path segment as sent: percent-encoded (a lone surrogate as its UTF-8 bytes would be), or as it is. */
function segment(s: string): string {
  if (/^[\w.%-]*$/.test(s)) return s;
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
  }
}

/** One request on its own connection. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // the server answered (a 413) and closed before the whole body was sent: the answer was read
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
      reject(err);
    });
    req.end(body);
  });
}

interface Finding {
  what: string;
  status: number;
  problem: string;
}

test(`${HTTP_INPUTS} fuzzed requests over every route of the api, curriculum and tv-gateway: no 5xx, no leak`, async () => {
  const origin = (http: { server: { address(): unknown } }) =>
    `http://127.0.0.1:${(http.server.address() as { port: number }).port}`;
  const apps = [
    { name: 'api', http: stack.api.app.http, origin: stack.web },
    { name: 'curriculum', http: stack.curriculum.http, origin: origin(stack.curriculum.http) },
    { name: 'tv-gateway', http: stack.gateway.http, origin: stack.base },
  ];
  // the built pages and assets and the media store are files, not JSON routes (the header test reads them)
  const routes = apps.flatMap((a) =>
    routesOf(a.http.printRoutes({ commonPrefix: false }))
      .filter((r) => !r.url.includes('*') && !STATIC_FILE.test(r.url))
      .map((r) => ({ ...r, app: a })),
  );
  assert.ok(routes.length >= 60, `routes found: ${routes.length}`);

  const words = {
    fields: fieldNames(contracts),
    ids: [stack.lessonId, '507f1f77bcf86cd799439011', 'p1', 'p1-1', 'math', '2026-11-23', '1'],
  };
  const arb = fuzzArbitraries(words);
  const tokens = [
    undefined,
    ...Object.values(stack.api.tokens),
    deviceToken,
    'garbage',
    `${stack.api.tokens.admin}x`,
  ];
  const request = fc.record({
    route: fc.integer({ min: 0, max: routes.length - 1 }),
    segments: fc.array(arb.segment, { minLength: 4, maxLength: 4 }),
    query: arb.query,
    body: arb.body,
    token: fc.integer({ min: 0, max: tokens.length - 1 }),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    ),
  });
  const inputs = sampleOf(request, HTTP_INPUTS, seed);

  const findings: Finding[] = [];
  const byStatus = new Map<number, number>();
  const covered = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const input = inputs[next++]!;
      const route = routes[input.route]!;
      let i = 0;
      const url =
        route.url.replace(/:[A-Za-z_]+/g, () => segment(input.segments[i++ % 4]!)) +
        (input.query.length ? `?${new URLSearchParams(input.query).toString()}` : '');
      const token = tokens[input.token];
      const withBody = route.method !== 'GET' && route.method !== 'DELETE';
      const what = `${route.app.name} ${route.method} ${url.slice(0, 200)}`;
      // over real sockets, one connection each: the parsers, proxies and limits an attacker meets (a
      // reused connection the server closed after refusing a body would fail the next request instead)
      const res = await send(
        `${route.app.origin}${url}`,
        route.method,
        {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(withBody && input.contentType ? { 'content-type': input.contentType } : {}),
        },
        withBody ? input.body : undefined,
      ).catch((err: Error) => {
        findings.push({ what, status: 0, problem: `no answer: ${err.message}` });
        return undefined;
      });
      if (!res) continue;
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
      covered.add(`${route.app.name} ${route.method} ${route.url} ${res.statusCode}`);
      if (res.statusCode >= 500)
        findings.push({ what, status: res.statusCode, problem: res.body.slice(0, 300) });
      const leak = leakIn(res.body, serverPaths()) ?? leakIn(JSON.stringify(res.headers), serverPaths());
      if (leak) findings.push({ what, status: res.statusCode, problem: leak });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  const reached = new Set([...covered].map((c) => c.split(' ').slice(0, 3).join(' '))).size;
  console.log(
    `[fuzz] seed ${seed}: ${inputs.length} requests over ${routes.length} routes (${reached} reached); ` +
      `answers ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}; ` +
      `beyond validation (2xx/403/404/409) on ${[...covered].filter((c) => /\s(2\d\d|403|404|409)$/.test(c)).length} route×status pairs`,
  );
  assert.deepEqual(findings.slice(0, 20), [], `seed ${seed}: ${findings.length} findings`);
  // every app still serves a real request
  assert.equal((await stack.api.app.http.inject({ url: '/api/public/lessons' })).statusCode, 200);
  assert.equal((await stack.gateway.http.inject({ url: '/channels.m3u' })).statusCode, 200);
});

test(`${SOCKET_INPUTS} fuzzed /qa socket events (known and unknown names, any payload, with and without ack): error acks only`, async () => {
  const url = `${stack.web}/qa`;
  const arb = fuzzArbitraries({
    fields: fieldNames(contracts),
    ids: [stack.lessonId, '507f1f77bcf86cd799439011', 'q1', '0'],
  });
  const names = Object.keys(QA_REQUESTS);
  const input = fc.record({
    event: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...names) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    ),
    args: fc.oneof(
      fc.array(arb.value, { maxLength: 3 }),
      // shaped like the real requests, with fuzzed values: these get past the schema to the rooms
      fc
        .record(
          {
            lessonId: fc.constantFrom(stack.lessonId, '507f1f77bcf86cd799439011', 'x'),
            questionId: arb.segment,
            text: arb.value,
            userId: arb.segment,
            seq: arb.value,
            answer: arb.value,
          },
          { requiredKeys: ['lessonId'] },
        )
        .map((o) => [o]),
    ),
    ack: fc.boolean(),
    who: fc.constantFrom(...(Object.keys(stack.api.tokens) as (keyof TvStack['api']['tokens'])[])),
  });
  const inputs = sampleOf(input, SOCKET_INPUTS, seed);
  // The HTTP fuzz may have signed these users out everywhere (POST /api/auth/logout-all) and used up the
  // loopback address's login attempts: sign in afresh, from an address of its own.
  type Who = keyof TvStack['api']['tokens'];
  const fresh = {} as Record<Who, string>;
  for (const who of Object.keys(stack.api.tokens) as Who[]) {
    const res = await stack.api.app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: `${who}.${stack.api.prefix}`, password: PASSWORD },
      remoteAddress: '192.0.2.1',
    });
    fresh[who] = res.json<contracts.TokenPair>().accessToken;
  }
  const sockets = new Map<string, Socket>();
  const connect = async (who: keyof TvStack['api']['tokens']): Promise<Socket> => {
    const open = sockets.get(who);
    if (open?.connected) return open;
    open?.disconnect();
    const s = ioClient(url, {
      transports: ['websocket'],
      auth: { token: fresh[who] },
      reconnection: false,
      forceNew: true,
    });
    sockets.set(who, s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  };
  const findings: Finding[] = [];
  let acked = 0;
  let refused = 0;
  let dropped = 0;
  try {
    for (const [n, i] of inputs.entries()) {
      const s = await connect(i.who);
      const what = `#${n} ${i.who} ${JSON.stringify(i.event)} ${JSON.stringify(i.args).slice(0, 120)}`;
      if (!i.ack) {
        s.emit(i.event, ...i.args);
        continue;
      }
      const reply = await (
        s.timeout(3000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> }
      )
        .emitWithAck(i.event, ...i.args)
        .catch(() => undefined);
      if (reply === undefined) {
        // an unknown event, or the flood limit: no ack is an answer too, as long as the server lives
        dropped++;
        continue;
      }
      acked++;
      const text = JSON.stringify(reply);
      const r = reply as { ok?: boolean; error?: { code?: string; message?: string } };
      if (r.ok === false) refused++;
      if (r.ok === false && r.error?.code === 'INTERNAL')
        findings.push({ what, status: 500, problem: text.slice(0, 300) });
      const leak = leakIn(text, serverPaths());
      if (leak) findings.push({ what, status: 0, problem: leak });
    }
  } finally {
    for (const s of sockets.values()) s.disconnect();
  }
  console.log(
    `[fuzz] seed ${seed}: ${inputs.length} /qa events; ${acked} acked (${refused} refused), ${dropped} without an ack`,
  );
  assert.deepEqual(findings.slice(0, 20), [], `seed ${seed}: ${findings.length} findings`);
  // the namespace still works for a well-behaved client
  const s = await connect('student');
  const ok = (await s.timeout(3000).emitWithAck('room:join', { lessonId: stack.lessonId })) as {
    ok: boolean;
  };
  s.disconnect();
  assert.equal(typeof ok.ok, 'boolean');
});
