// The watchdog of tieChildrenToLife (reaper.ts): `node reaper-watch.js <tag> <launcher pid> [wrapper pids…]`.
// When its stdin (the launcher's pipe) closes, it SIGKILLs every process whose environment holds
// `SKY_RUN_TAG=<tag>`, pass after pass until none is left (5 s at most); when one of the launcher's
// wrappers dies first, the launcher goes too. A wrapper outliving the launcher is left alone: it is
// about to pass on the launcher's exit code.
import { readdirSync, readFileSync } from 'node:fs';

const [tag, ...watched] = process.argv.slice(2);
if (!tag) process.exit(2);
const marker = Buffer.from(`SKY_RUN_TAG=${tag}\0`);
const pids = watched.map(Number).filter((p) => p > 1);
const [launcher, ...wrappers] = pids;

/** A process that exists and is not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** pid → start time (field 22 of /proc/<pid>/stat, so a reused pid is told apart). */
function stats(): Map<number, { ppid: number; start: string }> {
  const out = new Map<number, { ppid: number; start: string }>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { ppid: Number(fields[1]), start: fields[19] ?? '' });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * The launcher's tree as last seen: a second net for a process whose environment cannot be read
 * (some programs overwrite it to retitle themselves).
 */
const seen = new Map<number, string>();
function snapshot(): void {
  if (launcher === undefined) return;
  const all = stats();
  const queue = [launcher];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, s] of all)
      if (s.ppid === parent && pid !== process.pid && !seen.has(pid)) {
        seen.set(pid, s.start);
        queue.push(pid);
      }
  }
}

function tagged(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`);
      if (environ.indexOf(marker) === 0 || environ.includes(Buffer.concat([Buffer.from([0]), marker])))
        found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

let reaping = false;
async function reap(): Promise<void> {
  if (reaping) return;
  reaping = true;
  const now = stats();
  for (const [pid, start] of seen) if (now.get(pid)?.start === start) kill(pid);
  const until = Date.now() + 5000;
  let quiet = 0;
  while (Date.now() < until && quiet < 3) {
    const left = tagged();
    for (const pid of left) kill(pid);
    quiet = left.length === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.exit(0);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

process.stdin.on('end', () => void reap());
process.stdin.on('close', () => void reap());
process.stdin.on('error', () => void reap());
process.stdin.resume();
setInterval(snapshot, 1000);
setInterval(() => {
  if (launcher === undefined || !alive(launcher)) return void reap();
  if (wrappers.some((pid) => !alive(pid))) {
    kill(launcher);
    void reap();
  }
}, 250);
