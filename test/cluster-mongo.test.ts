// A 3-member Mongo replica set whose primary is killed with SIGKILL while the city simulator
// (scripts/simulate-city.ts, as test/simulate-city.test.ts runs it) sends its day of beacons: the
// members elect a new primary, the api's /healthz says 503 while there is none and 200 again after,
// and every figure of the dashboard still equals the simulator's ground truth (majority writes: nothing
// acknowledged was lost with the old primary; retried transactions: nothing counted twice).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { logOptions } from '@sky/contracts/http';
import { connectMongo } from '@sky/contracts/mongo';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { freePort, startRedis, testLogger, type RedisHandle } from '@sky/devkit';
import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createApp as createCurriculum } from '../curriculum/src/app.js';
import { clusterDir, startReplicaSet, until, type ReplicaSet } from './cluster-stack.js';

const ROOT = join(import.meta.dirname, '..');
const SCRIPT = join(ROOT, 'scripts', 'simulate-city.ts');
/** What the product promises: an election (10 s by default) and the api noticing, within 20 s. */
const HEALTH_BACK_MS = 20_000;
const secs = (ms: number) => (ms / 1000).toFixed(1);

const dir = clusterDir();
let rs: ReplicaSet | undefined;
let redis: RedisHandle | undefined;
let passed = false;
/** The curriculum service on the same replica set: its /healthz must follow the election too. */
let curriculum:
  { app: Awaited<ReturnType<typeof createCurriculum>>; mongo: Connection; redis: Redis } | undefined;

before(async () => {
  rs = await startReplicaSet(dir.dir);
  redis = await startRedis({
    dir: join(dir.dir, 'redis'),
    port: await freePort(),
    logFile: join(dir.dir, 'redis.log'),
    persist: false,
  });
  const mongo = await connectMongo(rs.uriFor('curriculum'));
  const client = new Redis(redis.url);
  const tokens = createTokenIssuer('cluster-mongo-secret-of-at-least-32-chars', 600);
  const app = await createCurriculum({
    logger: testLogger('curriculum', logOptions('curriculum', 'info')),
    mongo,
    redis: client,
    redisPrefix: 'cluster-mongo',
    verify: (t) => tokens.verify(t),
    version: 'test',
  });
  await app.http.ready();
  curriculum = { app, mongo, redis: client };
});

after(async () => {
  await curriculum?.app.close();
  curriculum?.redis.disconnect();
  await curriculum?.mongo.close();
  await redis?.stop();
  await rs?.close();
  if (passed) dir.remove();
  else console.log(`[cluster-mongo] logs kept in ${dir.dir}`);
});

test('the primary killed mid-day: /healthz 503 then 200 within 20 s, every figure still matches', async () => {
  assert.ok(rs && redis);
  const set = rs;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      SCRIPT,
      '--scale',
      '0.0005',
      '--seed',
      'tiny',
      '--mongo',
      set.hosts,
      '--redis',
      redis.url,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A guard against a hung simulator, far above a normal run (50–70 s here) but below the test timeout;
  // SIGTERM lets the simulator stop the api it started
  const began = Date.now();
  const phases: string[] = [];
  const phase = (what: string) => phases.push(`${what} ${secs(Date.now() - began)} s`);
  let guarded = false;
  const timer = setTimeout(() => {
    guarded = true;
    child.kill('SIGTERM');
  }, 400_000);
  try {
    const api = await until(
      'the simulator started its api',
      async () => /api on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1],
      90_000,
      100,
    );
    phase('api up');
    const health = async () => {
      const res = await fetch(`${api}/healthz`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    };
    // the day is being sent: its progress lines follow "lessons taught live"
    await until('sending started', async () => (/lessons taught live/.test(out) ? true : undefined), 90_000);
    phase('sending');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await health(), 200, 'healthy before the kill');
    const curriculumHealth = async () => (await curriculum!.app.http.inject({ url: '/healthz' })).statusCode;
    assert.equal(await curriculumHealth(), 200, 'the curriculum healthy before the kill');
    const old = await set.primary();
    assert.ok(old, 'a primary to kill');
    old.process.child.kill('SIGKILL');
    const killedAt = Date.now();
    phase('primary killed');
    await old.process.exited;

    const electing = until(
      'a new primary',
      async () => {
        const p = await set.primary();
        return p && p.host !== old.host ? { member: p, at: Date.now() } : undefined;
      },
      60_000,
      250,
    );
    // the curriculum's /healthz, asked beside the api's: 503 without a primary, 200 once there is one
    let curriculum503 = false;
    const curriculumBack = until(
      "the curriculum's /healthz 200 again",
      async () => {
        const status = await curriculumHealth();
        if (status === 503) curriculum503 = true;
        return status === 200 && curriculum503 ? Date.now() : undefined;
      },
      60_000,
      250,
    );
    let saw503At = 0;
    const trace: string[] = [];
    const backAt = await until(
      '/healthz 200 again',
      async () => {
        const t = Date.now();
        const status = await health().catch(() => 0);
        if (trace.at(-1)?.endsWith(` ${status}`) !== true)
          trace.push(`${secs(t - killedAt)}s+${secs(Date.now() - t)}s ${status}`);
        if (status === 503 && !saw503At) saw503At = Date.now();
        return status === 200 && saw503At ? Date.now() : undefined;
      },
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; /healthz answers after the kill: ${trace.join(', ')}`);
    });
    const elected = await electing;
    const curriculumRecovery = (await curriculumBack) - killedAt;
    assert.ok(
      curriculumRecovery <= HEALTH_BACK_MS,
      `the curriculum's /healthz 200 again ${secs(curriculumRecovery)} s after the kill`,
    );
    const code = await exited;
    phase('simulator done');
    assert.equal(code, 0, `the simulator's exit code${guarded ? ' (stopped by the 400 s guard)' : ''}`);
    assert.ok(/PASS: every checked figure matches/.test(out), 'the simulator says PASS');
    for (const figure of ['views web', 'views tv', 'views live-webrtc', 'watch time total \\(s\\)']) {
      assert.ok(new RegExp(`${figure}\\s+[\\d,]+\\s+[\\d,]+\\s+ok`).test(out), `${figure} ok`);
    }
    assert.ok(/timeseries: watch time per hour: 24\/24 match/.test(out), 'watch time per hour 24/24');
    assert.ok(saw503At > 0, '/healthz said 503 while there was no primary');
    const recovery = backAt - killedAt;
    assert.ok(recovery <= HEALTH_BACK_MS, `/healthz 200 again ${secs(recovery)} s after the kill`);
    const sent = /send [\d.]+ s: ([\d,]+) requests.*?([\d,]+) × 503, ([\d,]+) network errors/.exec(out);
    const views = /views total\s+([\d,]+)\s+([\d,]+)\s+ok/.exec(out);
    passed = true;
    console.log(
      `[cluster-mongo] primary ${old.host} SIGKILLed mid-send; /healthz 503 from ${secs(saw503At - killedAt)} s, ` +
        `200 again ${secs(recovery)} s after the kill (the curriculum's ${secs(curriculumRecovery)} s; new primary ${elected.member.host} elected by ` +
        `${secs(elected.at - killedAt)} s); simulator: ${sent?.[1] ?? '?'} requests, ${sent?.[2] ?? '?'} × 503, ` +
        `${sent?.[3] ?? '?'} network errors; /healthz ${trace.join(', ')}; views total expected ${views?.[1] ?? '?'} = counted ${views?.[2] ?? '?'}; ` +
        `${phases.join(', ')}; PASS`,
    );
  } catch (err) {
    // whatever failed, say when and what the simulator said last (CI shows only a failure's message)
    const tail = out.split('\n').slice(-15).join('\n');
    throw new Error(
      `${(err as Error).message.slice(0, 600)}\n${phases.join(', ')}; failed ${secs(Date.now() - began)} s in; ` +
        `the simulator's last lines:\n${tail}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  }
});
