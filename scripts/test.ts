// npm test: every test of every workspace, against one real mongod + redis-server started for the run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freePort, startMongo, startRedis } from '@sky/devkit';
import { ROOT, setupEnv } from './lib.ts';

const DIRS = [
  'contracts',
  'devkit',
  'api',
  'sfu',
  'transcoder',
  'curriculum',
  'tv-gateway',
  'web-client',
  'test',
];
const filter = process.argv.slice(2);
const files = DIRS.flatMap((d) => {
  const base = join(ROOT, d);
  const found: string[] = [];
  for (const sub of d === 'test' ? [''] : ['src', 'test']) {
    try {
      for (const f of readdirSync(join(base, sub), { recursive: true }) as string[]) {
        if (f.endsWith('.test.ts') && !f.includes('node_modules')) found.push(join(base, sub, f));
      }
    } catch {
      // no such folder in this workspace
    }
  }
  return found;
})
  .map((f) => relative(ROOT, f))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'sky-test-'));
const [mp, rp] = [await freePort(), await freePort()];
const mongo = await startMongo({
  dbPath: join(dir, 'mongo'),
  port: mp,
  logFile: join(dir, 'mongod.log'),
  cacheGb: 0.5,
});
const redis = await startRedis({
  dir: join(dir, 'redis'),
  port: rp,
  logFile: join(dir, 'redis.log'),
  persist: false,
});
console.log(`[test] mongod 127.0.0.1:${mp}, redis-server 127.0.0.1:${rp}; ${files.length} test files`);

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ...setupEnv(), TEST_MONGO_HOST: `127.0.0.1:${mp}`, TEST_REDIS_URL: redis.url },
    },
  );
  const forward = (s: NodeJS.Signals) => child.kill(s);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});

await Promise.all([mongo.stop(), redis.stop()]);
rmSync(dir, { recursive: true, force: true });
process.exit(code);
