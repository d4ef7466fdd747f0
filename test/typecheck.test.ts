// The code tsx runs without a build step — tests, scripts, benches — is type-checked like the services,
// so a changed service API cannot leave a bench or a script broken until someone runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

for (const project of ['test', 'scripts', 'bench']) {
  test(`${project}/ type-checks (tsc -p ${project}/tsconfig.json)`, async () => {
    const run = await promisify(execFile)(
      process.execPath,
      [TSC, '-p', join(ROOT, project, 'tsconfig.json'), '--noEmit', '--pretty', 'false'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? '', code: err.code }));
    assert.equal(run.stdout.trim(), '', `type errors in ${project}/`);
  });
}
