import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The environment variable that marks every process a launcher started, however deep. */
export const RUN_TAG_VAR = 'SKY_RUN_TAG';

/**
 * Ties every process this launcher starts from now on, and every process those start (mongod,
 * redis-server, test files, Chromium, mediasoup workers, ffmpeg), to the launcher's life.
 *
 * Linux forgets a process tree once its root dies (orphans go to init), and libraries spawn their own
 * children, so no parent-death signal can be set on all of them. Instead each descendant inherits a
 * random tag in its environment, and a detached watchdog holding the other end of a pipe SIGKILLs every
 * process whose environment carries the tag when the pipe closes: whenever and however the launcher
 * ends, SIGKILL included. `npm test`'s wrappers (npm, sh, tsx) are watched too: when one of them is
 * killed, the launcher and its tree go with it.
 */
export function tieChildrenToLife(): string {
  const tag = randomUUID();
  process.env[RUN_TAG_VAR] = tag;
  const env = { ...process.env };
  delete env[RUN_TAG_VAR];
  const watchdog = spawn(
    process.execPath,
    [fileURLToPath(new URL('./reaper-watch.js', import.meta.url)), tag, ...wrapperPids().map(String)],
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env },
  );
  watchdog.unref();
  // the pipe stays open for this process's whole life without keeping its event loop alive
  watchdog.stdin?.on('error', () => {});
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return tag;
}

/** This process and its ancestors up to the first that is not one of npm's wrappers. */
function wrapperPids(): number[] {
  const pids = [process.pid];
  let pid = process.ppid;
  for (let depth = 0; depth < 6 && pid > 1; depth++) {
    let cmdline: string;
    let stat: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      break;
    }
    if (!/\bnpm\b|\btsx\b|scripts\/(test|start|start-cluster)\.ts/.test(cmdline)) break;
    pids.push(pid);
    // field 4 of /proc/<pid>/stat, after the parenthesised command name
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return pids;
}
