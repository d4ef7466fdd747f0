// The gateway's beacon route in front of the real api ingest: a box's batch (sendBeacon's text/plain)
// arrives as it was sent, the api's refusals come back unchanged, and an api that does not answer is a
// 503 with Retry-After, so the box keeps its events and retries.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { AnalyticsViewer, Beacon, BeaconBatchResult, Device } from '@sky/contracts';
import { createViewerIds } from '@sky/contracts/tokens';
import Fastify, { type FastifyInstance } from 'fastify';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { beaconRoutes } from '../tv-gateway/src/http/beacon.routes.js';

let api: TestApi;
let apiUrl: string;
let gateway: FastifyInstance;
let deadGateway: FastifyInstance;

// the gateway signs a paired box's viewer id with the secret it shares with the api
const viewers = createViewerIds('test-secret-that-is-at-least-32-characters');
const BOX_TOKEN = 'stb_paired-box-token';
const device = { id: 'box-1' } as Device;
const devices = { verifyToken: async (t: string) => (t === BOX_TOKEN ? device : undefined) };
let viewerId: string;

before(async () => {
  api = await startTestApi({ ANALYTICS_FLUSH_MS: '100' }, { planLessons: async () => new Set([LESSON]) });
  apiUrl = await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  gateway = Fastify();
  await gateway.register(beaconRoutes, { apiUrl, devices, viewers });
  deadGateway = Fastify();
  // nothing listens on port 9 (discard) on 127.0.0.1
  await deadGateway.register(beaconRoutes, { apiUrl: 'http://127.0.0.1:9', devices, viewers });
  viewerId = viewers.of('device:box-1');
});
after(async () => {
  await gateway.close();
  await deadGateway.close();
  await api.close();
});

const id = () => randomUUID().replaceAll('-', '');
const LESSON = 'plan-p1-math-001';
function start(lessonId = LESSON): Beacon {
  return {
    type: 'start',
    eventId: id(),
    viewerId,
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

test('a box asks the gateway for its viewer id: a paired box gets its device’s, an unpaired one an anonymous one from the api', async () => {
  const ask = (authorization?: string) =>
    gateway.inject({
      method: 'POST',
      url: '/api/analytics/viewer',
      headers: { 'content-type': 'text/plain', ...(authorization ? { authorization } : {}) },
      payload: '{}',
    });
  const paired = await ask(`Bearer ${BOX_TOKEN}`);
  assert.equal(paired.statusCode, 200, paired.body);
  assert.equal(paired.json<AnalyticsViewer>().viewerId, viewers.of('device:box-1'));
  const unpaired = await ask();
  assert.equal(unpaired.statusCode, 200, unpaired.body);
  const anon = unpaired.json<AnalyticsViewer>().viewerId;
  assert.ok(viewers.verify(anon) && anon !== viewerId);
  // and a made-up viewer id is refused by the api, through the gateway
  const forged = await gateway.inject({
    method: 'POST',
    url: '/api/analytics/beacons',
    headers: { 'content-type': 'text/plain' },
    payload: JSON.stringify({ events: [{ ...start(), viewerId: id() }] }),
  });
  assert.equal(forged.statusCode, 400);
  assert.match(forged.body, /events\.0\.viewerId/);
});
