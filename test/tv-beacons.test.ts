// The gateway's beacon route in front of the real api ingest: a box's batch (sendBeacon's text/plain)
// arrives as it was sent, the api's refusals come back unchanged, and an api that does not answer is a
// 503 with Retry-After, so the box keeps its events and retries.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Beacon, BeaconBatchResult } from '@sky/contracts';
import Fastify, { type FastifyInstance } from 'fastify';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { beaconRoutes } from '../tv-gateway/src/http/beacon.routes.js';

let api: TestApi;
let apiUrl: string;
let gateway: FastifyInstance;
let deadGateway: FastifyInstance;

before(async () => {
  api = await startTestApi({ ANALYTICS_FLUSH_MS: '100' });
  apiUrl = await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  gateway = Fastify();
  await gateway.register(beaconRoutes, { apiUrl });
  deadGateway = Fastify();
  // nothing listens on port 9 (discard) on 127.0.0.1
  await deadGateway.register(beaconRoutes, { apiUrl: 'http://127.0.0.1:9' });
});
after(async () => {
  await gateway.close();
  await deadGateway.close();
  await api.close();
});

const id = () => randomUUID().replaceAll('-', '');
function start(lessonId = 'plan-p1-math-001'): Beacon {
  return {
    type: 'start',
    eventId: id(),
    viewerId: id(),
    sessionId: id(),
    lessonId,
    platform: 'tv',
    at: Date.now(),
    position: 0,
    startupMs: 900,
    grade: 'p1',
    subject: '数学',
  };
}

test('a box batch sent as text/plain through the gateway is accepted by the ingest, once', async () => {
  const events = [start(), start()];
  const send = () =>
    gateway.inject({
      method: 'POST',
      url: '/api/analytics/beacons',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: JSON.stringify({ events }),
    });
  const first = await send();
  assert.equal(first.statusCode, 202, first.body);
  const ack = first.json<BeaconBatchResult>();
  assert.equal(ack.accepted, 2);
  assert.ok(ack.heartbeatSec >= 5);
  const again = await send();
  assert.equal(again.statusCode, 202);
  assert.equal(
    again.json<BeaconBatchResult>().duplicates,
    2,
    'a resent batch is recognised, not counted twice',
  );
});

test('the api’s refusal comes back unchanged: 400 naming the field', async () => {
  const bad = { ...start(), position: -1 };
  const res = await gateway.inject({
    method: 'POST',
    url: '/api/analytics/beacons',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ events: [start(), bad] }),
  });
  assert.equal(res.statusCode, 400);
  assert.match(String(res.headers['content-type']), /problem\+json/);
  assert.match(res.body, /events\.1\.position/);
});

test('an api that does not answer: 503 with Retry-After, so the box retries', async () => {
  const res = await deadGateway.inject({
    method: 'POST',
    url: '/api/analytics/beacons',
    headers: { 'content-type': 'text/plain' },
    payload: JSON.stringify({ events: [start()] }),
  });
  assert.equal(res.statusCode, 503);
  assert.equal(String(res.headers['retry-after']), '5');
  assert.match(res.body, /DEPENDENCY_DOWN/);
});
