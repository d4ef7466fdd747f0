// The status page of a platform that runs several sfu nodes and transcoders: a card per sfu node beating
// in the directory (asked at its own internal URL), a listed node that does not beat is down, and every
// transcoder worker on the transcode queue is shown though only one answers at TRANSCODER_URL.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import {
  QUEUES,
  SFU_DIRECTORY,
  type HealthReport,
  type PlatformStatus,
  type PublicStatus,
  type SfuNodeRecord,
} from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { Redis } from 'ioredis';
import { startTestApi, type TestApi } from './helpers.js';

/** A stand-in process whose /healthz answers as the real service does, naming its node. */
async function standIn(report: HealthReport): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.statusCode = report.ok ? 200 : 503;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(report));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const report = (service: 'sfu' | 'transcoder', node: string, ok = true): HealthReport => ({
  service,
  node,
  ok,
  version: 'test',
  uptimeSec: 5,
  dependencies: { worker: { ok, detail: ok ? 'alive' : 'dead' } },
});

let api: TestApi;
let redis: Redis;
let otherTranscoder: JobQueues;
const servers: Server[] = [];
let sfuA: string;
let sfuB: string;
const SILENT = 'https://sfu-c.example.edu';
const nodes: SfuNodeRecord[] = [];

/** The two nodes beat, as an sfu node does every half second (a record older than 1 s is not beating). */
async function beat(): Promise<void> {
  const prefix = api.prefix;
  for (const n of nodes) {
    await redis.set(
      SFU_DIRECTORY.node(prefix, n.nodeId),
      JSON.stringify({ ...n, beatAt: Date.now() }),
      'PX',
      SFU_DIRECTORY.nodeTtlMs,
    );
    await redis.sadd(SFU_DIRECTORY.nodes(prefix), n.nodeId);
  }
}

before(async () => {
  const a = await standIn(report('sfu', 'sfu-a'));
  const b = await standIn(report('sfu', 'sfu-b', false));
  const transcoder = await standIn(report('transcoder', 'tx-a'));
  servers.push(a.server, b.server, transcoder.server);
  sfuA = a.url;
  sfuB = b.url;
  api = await startTestApi({
    SFU_URL: 'http://127.0.0.1:9',
    SFU_PUBLIC_URLS: `https://sfu-a.example.edu,https://sfu-b.example.edu,${SILENT}`,
    TRANSCODER_URL: transcoder.url,
  });
  redis = new Redis(api.redisUrl);
  nodes.push(
    {
      nodeId: 'sfu-a',
      publicUrl: 'https://sfu-a.example.edu',
      internalUrl: sfuA,
      load: 3,
      capacity: 4000,
      beatAt: 0,
    },
    {
      nodeId: 'sfu-b',
      publicUrl: 'https://sfu-b.example.edu',
      internalUrl: sfuB,
      load: 0,
      capacity: 4000,
      beatAt: 0,
    },
  );
  // a second transcoder process: a real BullMQ worker on the same queue, reachable by nobody's URL
  otherTranscoder = createJobQueues(api.redisUrl, api.prefix);
  const worker = otherTranscoder.consume({ 'transcode.vod': async () => {} }, { workerName: 'tx-b' });
  await worker.waitUntilReady();
});

after(async () => {
  await otherTranscoder?.close();
  redis?.disconnect();
  await api?.close();
  for (const s of servers) s.close();
});

test('admins see each sfu node at its own URL, a listed node without a heartbeat down, and each transcoder worker', async () => {
  assert.deepEqual(await otherTranscoderWorkers(), ['tx-b'], 'the queue knows the worker by its name');
  await beat();
  const res = await api.app.http.inject({
    url: '/api/status/detail',
    headers: { authorization: `Bearer ${api.tokens.admin}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  const detail = res.json<PlatformStatus>();
  const sfu = detail.services.filter((s) => s.service === 'sfu');
  assert.deepEqual(
    sfu.map((s) => [s.node ?? null, s.url, s.ok, s.error ?? null]),
    [
      ['sfu-a', sfuA, true, null],
      ['sfu-b', sfuB, false, null],
      [SILENT, SILENT, false, 'no heartbeat'],
    ],
    JSON.stringify(sfu),
  );
  assert.equal(sfu[1]?.report?.dependencies['worker']?.detail, 'dead', "sfu-b's own report");
  const transcoders = detail.services.filter((s) => s.service === 'transcoder');
  assert.deepEqual(
    transcoders.map((s) => [s.node, s.ok, s.report ? 'report' : s.detail]),
    [
      ['tx-a', true, 'report'],
      ['tx-b', true, 'on the transcode queue'],
    ],
    JSON.stringify(transcoders),
  );
});

test('the public status says how many nodes are up, and names none of them', async () => {
  await beat();
  const res = await api.app.http.inject({ url: '/api/status' });
  assert.equal(res.statusCode, 200);
  for (const secret of ['sfu-a', 'sfu-b', 'tx-a', 'tx-b', '127.0.0.1', 'example.edu'])
    assert.ok(!res.body.includes(secret), `the public status shows ${secret}: ${res.body}`);
  const status = res.json<PublicStatus>();
  const by = Object.fromEntries(status.services.map((s) => [s.service, s]));
  assert.deepEqual(by['sfu'], { service: 'sfu', ok: false, nodes: { up: 1, total: 3 } });
  assert.deepEqual(by['transcoder'], { service: 'transcoder', ok: true, nodes: { up: 2, total: 2 } });
  assert.equal(status.overall, 'degraded');
});

test('a node that stops beating leaves the list, and its listed URL is down', async () => {
  // sfu-b's record is not renewed: after the stale bound only sfu-a beats
  nodes.pop();
  await new Promise((r) => setTimeout(r, SFU_DIRECTORY.staleMs + 200));
  await beat();
  const res = await api.app.http.inject({
    url: '/api/status/detail',
    headers: { authorization: `Bearer ${api.tokens.admin}` },
  });
  const sfu = res.json<PlatformStatus>().services.filter((s) => s.service === 'sfu');
  assert.deepEqual(
    sfu.map((s) => [s.node ?? s.url, s.ok, s.error ?? null]),
    [
      ['sfu-a', true, null],
      ['https://sfu-b.example.edu', false, 'no heartbeat'],
      [SILENT, false, 'no heartbeat'],
    ],
  );
});

async function otherTranscoderWorkers(): Promise<string[]> {
  return otherTranscoder.workers(QUEUES.transcode);
}
