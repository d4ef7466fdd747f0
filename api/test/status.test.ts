// The status page: anyone sees whether each part of the platform is up; only admins see its insides
// (internal URLs, versions, pids, dependency details).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import type { HealthReport } from '@sky/contracts';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
let sfu: Server;
let sfuUrl: string;

before(async () => {
  // A stand-in sfu whose /healthz says what the real one says: its worker pids and load.
  sfu = createServer((_req, res) => {
    const report: HealthReport = {
      service: 'sfu',
      ok: true,
      version: '9.9.9-secret',
      uptimeSec: 12,
      dependencies: { worker: { ok: true, detail: 'pid 424242, load 0' } },
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(report));
  });
  await new Promise<void>((resolve) => sfu.listen(0, '127.0.0.1', resolve));
  sfuUrl = `http://127.0.0.1:${(sfu.address() as { port: number }).port}`;
  api = await startTestApi({ SFU_URL: sfuUrl, CURRICULUM_URL: 'http://127.0.0.1:9/internal-curriculum' });
});
after(async () => {
  await api?.close();
  sfu?.close();
});

test('the public status says up or degraded per component, and nothing of the insides', async () => {
  const res = await api.app.http.inject({ url: '/api/status' });
  assert.equal(res.statusCode, 200);
  const body = res.body;
  for (const secret of [
    sfuUrl,
    '127.0.0.1',
    'internal-curriculum',
    'pid',
    '424242',
    '9.9.9-secret',
    'PONG',
  ]) {
    assert.ok(!body.includes(secret), `the public status shows ${secret}: ${body}`);
  }
  const status = res.json<{ overall: string; services: { service: string; ok: boolean }[] }>();
  assert.equal(status.overall, 'degraded', 'the curriculum is down');
  const byName = Object.fromEntries(status.services.map((s) => [s.service, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['api', 'curriculum', 'sfu', 'transcoder', 'tv-gateway']);
  assert.equal(byName['sfu']!.ok, true);
  assert.equal(byName['curriculum']!.ok, false);
  for (const s of status.services) assert.deepEqual(Object.keys(s).sort(), ['ok', 'service']);
});

test('the detailed status is for admins only, and has the URLs and reports', async () => {
  assert.equal((await api.app.http.inject({ url: '/api/status/detail' })).statusCode, 401);
  for (const role of ['student', 'teacher', 'analyst', 'family'] as const) {
    const res = await api.app.http.inject({
      url: '/api/status/detail',
      headers: { authorization: `Bearer ${api.tokens[role]}` },
    });
    assert.equal(res.statusCode, 403, `${role}: ${res.body}`);
  }
  const res = await api.app.http.inject({
    url: '/api/status/detail',
    headers: { authorization: `Bearer ${api.tokens.admin}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  const detail = res.json<{
    services: { service: string; url: string; ok: boolean; report?: HealthReport }[];
  }>();
  const sfuEntry = detail.services.find((s) => s.service === 'sfu');
  assert.equal(sfuEntry?.url, sfuUrl);
  assert.equal(sfuEntry?.report?.dependencies['worker']?.detail, 'pid 424242, load 0');
});
