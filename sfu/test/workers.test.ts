import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HealthReport } from '@sky/contracts';
import { AppError } from '@sky/contracts';
import type { WorkerPool } from '../src/adapters/mediasoup.js';
import type { SfuApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startSfu, type TestSfu } from './helpers.js';

let pool: WorkerPool;
let app: SfuApp;
let sfu: TestSfu;

before(async () => {
  // The same check main.ts makes: the offline-built worker binary must exist.
  const config = loadConfig({
    ...process.env,
    NUM_WORKERS: '2',
    JWT_SECRET: 'x'.repeat(32),
    MEDIA_DIR: '/tmp',
    REDIS_URL: 'redis://127.0.0.1:6379',
  });
  const down = () => Promise.reject(new AppError('DEPENDENCY_DOWN', 'no api in this test'));
  sfu = await startSfu({
    api: { liveInfo: down, me: down },
    workers: config.NUM_WORKERS,
  });
  pool = sfu.pool;
  app = sfu.app;
});
after(() => sfu.close());

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('the sfu starts real mediasoup workers and /healthz reports each one', async () => {
  const res = await app.http.inject({ url: '/healthz' });
  assert.equal(res.statusCode, 200);
  const report = res.json<HealthReport>();
  assert.equal(report.service, 'sfu');
  assert.equal(Object.keys(report.dependencies).length, 2);
  for (const w of pool.states()) {
    assert.ok(w.alive);
    assert.ok(isRunning(w.pid), `worker pid ${w.pid} is a live process`);
    assert.match(
      report.dependencies[`mediasoup-worker-${w.index}`]?.detail ?? '',
      new RegExp(`pid ${w.pid}`),
    );
  }
});

test('a killed worker is reported, then replaced by a new process', async () => {
  const victim = pool.states()[0]!;
  process.kill(victim.pid, 'SIGKILL');
  let sawDown = false;
  let replaced = false;
  for (let i = 0; i < 50 && !replaced; i++) {
    const res = await app.http.inject({ url: '/healthz' });
    if (res.statusCode === 503) sawDown = true;
    const now = pool.states()[0]!;
    replaced = now.alive && now.pid !== victim.pid && res.statusCode === 200;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(sawDown, '/healthz said 503 while the worker was dead');
  assert.ok(replaced, 'a new worker process took its place');
  assert.equal(pool.states()[0]!.restarts, 1);
});
