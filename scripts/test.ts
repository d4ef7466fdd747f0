// npm test: every test of every workspace, against one real mongod + redis-server started for the run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findSecrets, startLocalInfra, tieChildrenToLife } from '@sky/devkit';
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
// Arguments: substrings of test file paths, or paths of files to run as they are (a fixture).
const args = process.argv.slice(2);
const given = args.map((a) => resolve(a)).filter((f) => existsSync(f) && statSync(f).isFile());
const filter = args.filter((a) => !given.includes(resolve(a)));
const discovered = DIRS.flatMap((d) => {
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
  .filter((f) => (filter.length === 0 && given.length === 0) || filter.some((p) => f.includes(p)))
  .sort();
const files = [...discovered, ...given.map((f) => relative(ROOT, f))];
/**
 * A file that measures real-time behaviour (stalls, A/V sync of a live lesson with its browsers on this same
 * machine) says so in its first lines with this marker and runs after the others, by itself: next to another
 * file's Chromiums and ffmpegs on two cores it would measure the test machine, not the product.
 */
const ALONE_MARK = '// npm-test: alone';
const alone = files.filter((f) => readFileSync(join(ROOT, f), 'utf8').slice(0, 4096).includes(ALONE_MARK));
const together = files.filter((f) => !alone.includes(f));

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Killed in any way (SIGKILL included), this run leaves none of its processes behind.
tieChildrenToLife();
const infra = await startLocalInfra({ cacheGb: 0.5 });
const mongoHost = `127.0.0.1:${infra.mongo.port}`;
console.log(`[test] mongod ${mongoHost}, redis-server ${infra.redis.url}; ${files.length} test files`);

// the services the tests start log here (testLogger), and the run reads it all back for secrets below
const logDir = join(infra.dir, 'logs');
mkdirSync(logDir, { recursive: true });

/**
 * Runs `batch` under node's test runner, `concurrency` files at a time; its TAP goes to `tap` (for the
 * secrets check) and its counts to `counted` (scripts/test-counts.mjs).
 */
/** What scripts/test-counts.mjs writes. */
interface TestCounts {
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  todo: number;
  /** Each failed test's file, name and message (its head and tail). */
  failures?: { file: string; name: string; message: string }[];
}

const run = (batch: string[], concurrency: number, tap: string, counted: string) =>
  new Promise<number>((resolve) => {
    if (batch.length === 0) return resolve(0);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        // a test file whose setup failed half-way must not keep its process, and the run, alive forever;
        // and no test may hang: 10 min is far above the slowest (a live lesson's replay, under load)
        '--test-force-exit',
        '--test-timeout=600000',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        // the same results as TAP, for the secrets check below
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        // the counts, for the hidden cases below
        `--test-reporter=${join(ROOT, 'scripts', 'test-counts.mjs')}`,
        '--test-reporter-destination=stderr',
        ...batch,
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: {
          ...process.env,
          ...setupEnv(),
          TEST_MONGO_HOST: mongoHost,
          TEST_REDIS_URL: infra.redis.url,
          TEST_LOG_DIR: logDir,
          TEST_COUNTS_FILE: counted,
        },
      },
    );
    const forward = (s: NodeJS.Signals) => child.kill(s);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });

const taps = [join(infra.dir, 'results.tap'), join(infra.dir, 'results-alone.tap')];
const counted = [join(infra.dir, 'counts.json'), join(infra.dir, 'counts-alone.json')];
const codes = [await run(together, 2, taps[0]!, counted[0]!)];
if (alone.length > 0) {
  console.log(`[test] now by themselves: ${alone.join(', ')}`);
  codes.push(await run(alone, 1, taps[1]!, counted[1]!));
}
const code = codes.find((c) => c !== 0) ?? 0;

// No hidden cases: a skipped or todo test is a behaviour nobody checks, so the run fails on one.
const counts = counted
  .filter((f) => existsSync(f))
  .map((f) => JSON.parse(readFileSync(f, 'utf8')) as TestCounts);
const count = (what: Exclude<keyof TestCounts, 'failures'>) => counts.reduce((n, c) => n + c[what], 0);
const hidden = count('skipped') + count('todo');
// the failures again, last: a CI log is often shown by its tail, far below where the spec reporter put them
const failures = counts.flatMap((c) => c.failures ?? []);
if (failures.length > 0) {
  console.log(`[test] ${failures.length} failed:`);
  for (const f of failures) console.log(`[test] ✖ ${f.file}: ${f.name}\n${f.message.replace(/^/gm, '    ')}`);
}
console.log(
  `[test] all files: ${count('tests')} tests, ${count('pass')} pass, ${count('fail')} fail, ` +
    `${count('skipped')} skipped, ${count('todo')} todo`,
);
if (hidden > 0)
  console.error(`[test] ${count('skipped')} skipped and ${count('todo')} todo: no test may be hidden`);

// No secret in any log: the services' logs of the whole run, and what the tests printed (the TAP)
const logs = [...readdirSync(logDir).map((f) => join(logDir, f)), ...taps.filter((t) => existsSync(t))];
let lines = 0;
const leaks: string[] = [];
for (const file of logs) {
  const text = readFileSync(file, 'utf8');
  lines += text.split('\n').length;
  for (const f of findSecrets(text))
    leaks.push(`${relative(infra.dir, file)}:${f.line} ${f.kind}: ${f.excerpt}`);
}
console.log(`[test] logs: ${logs.length} files, ${lines} lines read; ${leaks.length} secrets`);
if (leaks.length > 0) console.error(`[test] secrets in the logs:\n${leaks.slice(0, 30).join('\n')}`);

await infra.close();
process.exit(code !== 0 ? code : hidden > 0 || leaks.length > 0 ? 1 : 0);
