import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { startProcess, type Managed } from './process.js';
import { waitForPort } from './ports.js';

export interface RedisHandle {
  readonly url: string;
  readonly process: Managed;
  stop(): Promise<void>;
}

/** Starts Debian's redis-server on 127.0.0.1:port; `persist` keeps an append-only file in `dir`. */
export async function startRedis(opts: { dir: string; port: number; logFile: string; persist: boolean }) {
  mkdirSync(opts.dir, { recursive: true });
  const args = [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    opts.dir,
    '--daemonize',
    'no',
    '--save',
    '',
    '--appendonly',
    opts.persist ? 'yes' : 'no',
    // Keeps its environment readable in /proc (a retitled redis-server overwrites it), so the run's
    // watchdog (tieChildrenToLife) finds it.
    '--set-proc-title',
    'no',
    // BullMQ requires that Redis never evicts its keys.
    '--maxmemory-policy',
    'noeviction',
  ];
  const readyBefore = readyLines(opts.logFile);
  const proc = startProcess('redis-server', 'redis-server', args, { logFile: opts.logFile });
  try {
    // ours says it is ready (what answers on the port could be a process that had it first)
    const deadline = Date.now() + 20_000;
    while (readyLines(opts.logFile) <= readyBefore) {
      if (proc.child.exitCode !== null) throw new Error(`redis-server exited early; see ${opts.logFile}`);
      if (Date.now() > deadline) throw new Error(`redis-server not ready within 20 s; see ${opts.logFile}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await waitForPort(opts.port, 20_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const handle: RedisHandle = {
    url: `redis://127.0.0.1:${opts.port}`,
    process: proc,
    stop: () => proc.stop(),
  };
  return handle;
}

function readyLines(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, 'utf8').split('Ready to accept connections').length - 1;
}
