import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  /** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves with the exit code when the process exits on its own or is stopped. */
  readonly exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
// Last line of defence against orphans: whatever way this process ends, its children end too.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns a long-running child whose output goes to `logFile`. The child gets its own process group,
 * so a Ctrl-C in the terminal reaches only our launcher, which then stops children in order
 * (mongod would otherwise wait 10 s for a secondary that does not exist).
 */
export function startProcess(
  name: string,
  cmd: string,
  args: string[],
  opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Managed {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  // a log is closed once the child's output is (its last lines may come after 'exit'), never twice
  const note = (line: string) => {
    if (!log.writableEnded) log.write(line);
  };
  log.on('error', () => {});
  child.once('close', () => {
    if (!log.writableEnded) log.end();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      // What it started and left behind (the ffmpeg of a killed transcoder) goes with it: its process group.
      if (child.pid)
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // nothing of the group is left
        }
      note(`\n[${name}] exited code=${code} signal=${signal}\n`);
      resolve(code);
    });
    child.once('error', (err) => {
      live.delete(child);
      note(`\n[${name}] failed to start: ${err.message}\n`);
      if (!log.writableEnded) log.end();
      resolve(-1);
    });
  });
  return {
    name,
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
