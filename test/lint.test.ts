// `npm run lint` is part of every test run, so CI cannot land code the linters refuse: ESLint (type-aware
// rules, the rules of React hooks) and Prettier, over the whole repository.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const bin = (pkg: string, file: string) => join(ROOT, 'node_modules', pkg, 'bin', file);

async function run(args: string[]): Promise<{ out: string; code: number }> {
  return promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 })
    .then(({ stdout }) => ({ out: stdout, code: 0 }))
    .catch((err: { stdout?: string; stderr?: string; code?: number }) => ({
      out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
      code: err.code ?? 1,
    }));
}

test('ESLint finds nothing (eslint .)', async () => {
  const r = await run([bin('eslint', 'eslint.js'), '.', '--max-warnings', '0']);
  assert.equal(r.code, 0, r.out);
});

test('every file is formatted (prettier --check .)', async () => {
  const r = await run([bin('prettier', 'prettier.cjs'), '--check', '.']);
  assert.equal(r.code, 0, r.out);
});
