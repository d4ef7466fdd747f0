// `npm test` killed with SIGKILL mid-run leaves nothing behind: its mongod, redis-server, test processes,
// Chromium, mediasoup workers and ffmpeg all end within 10 s (devkit's tieChildrenToLife).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  zombie: boolean;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      out.push({
        pid: Number(name),
        ppid: Number(ppid),
        comm: stat.slice(stat.indexOf('(') + 1, close),
        zombie: state === 'Z',
      });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

function descendants(root: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of all)
      if (p.ppid === parent) {
        found.push(p);
        queue.push(p.pid);
      }
  }
  return found;
}

test('SIGKILL of the npm test launcher mid-run: none of its processes is left 10 s later', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sky-reaper-'));
  const ready = join(dir, 'ready');
  // the launcher exactly as `npm test` runs it (without the setup step), on a fixture that holds children;
  // as a run of its own, not a subtest of this file's runner
  const env: NodeJS.ProcessEnv = { ...process.env, HOLD_READY_FILE: ready };
  delete env['NODE_TEST_CONTEXT'];
  const launcher = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/test.ts', 'test/fixtures/holds-children.fixture.ts'],
    { cwd: ROOT, env, stdio: 'ignore' },
  );
  try {
    const deadline = Date.now() + 120_000;
    while (!existsSync(ready) || readFileSync(ready, 'utf8') === '') {
      assert.ok(launcher.exitCode === null, 'the launcher is still running');
      assert.ok(Date.now() < deadline, 'the fixture started its children within 120 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const tree = descendants(launcher.pid!);
    const names = new Set(tree.map((p) => p.comm));
    for (const kind of ['mongod', 'redis-server', 'mediasoup-worke', 'ffmpeg'])
      assert.ok(names.has(kind), `${kind} runs under the launcher (${[...names].join(', ')})`);
    assert.ok(
      [...names].some((n) => /chrom/.test(n)),
      `Chromium runs under the launcher (${[...names].join(', ')})`,
    );

    launcher.kill('SIGKILL');
    const killedAt = Date.now();
    let left = tree;
    while (Date.now() - killedAt < 10_000) {
      const now = new Map(processes().map((p) => [p.pid, p]));
      left = tree.filter((p) => {
        const q = now.get(p.pid);
        return q !== undefined && !q.zombie && q.comm === p.comm;
      });
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(
      `[reaper] ${tree.length} processes under the launcher (${[...names].join(', ')}); ` +
        `${left.length} left ${Date.now() - killedAt} ms after its SIGKILL`,
    );
    assert.deepEqual(
      left.map((p) => `${p.comm} ${p.pid}`),
      [],
      'every process of the killed run has ended',
    );
  } finally {
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
