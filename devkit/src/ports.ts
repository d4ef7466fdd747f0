import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports handed out before their server listens (a URL another service needs first) come from below
 * Linux's ephemeral range (32768+): there, any outgoing connection can take a port as its local one in
 * the moment between the check and the listen. 10000–19999 is never given to outgoing connections, and
 * lies below the RTC slices of reserveRtcPorts().
 */
const FIXED_FIRST = 10_000;
const FIXED_COUNT = 10_000;

/** A TCP port on 127.0.0.1, outside the ephemeral range, that was free a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIXED_FIRST + Math.floor(Math.random() * FIXED_COUNT);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${FIXED_FIRST}–${FIXED_FIRST + FIXED_COUNT - 1} after 100 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Resolves when something accepts TCP connections on host:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ port, host }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** mediasoup's RTC ports for tests: below Linux's ephemeral range (32768+), where freePort() and every
 * outgoing connection take theirs. */
const RTC_FIRST = 20_000;
const RTC_SLICE = 500;
const RTC_SLICES = 25;
const rtcLockDir = () => join(tmpdir(), 'sky-rtc-ports');
const heldRtcLocks = new Set<string>();

/**
 * A range of up to 500 UDP/TCP ports that no other process of this machine's test runs holds at the
 * same time (a lock file per slice, owned by this pid, taken over from a dead owner, removed on exit).
 * Returns [min, max] for mediasoup's rtcMinPort/rtcMaxPort.
 */
export function reserveRtcPorts(size = RTC_SLICE): [number, number] {
  if (size > RTC_SLICE) throw new Error(`at most ${RTC_SLICE} RTC ports per reservation`);
  mkdirSync(rtcLockDir(), { recursive: true });
  const start = Math.floor(Math.random() * RTC_SLICES);
  for (let i = 0; i < RTC_SLICES; i++) {
    const slice = (start + i) % RTC_SLICES;
    const lock = join(rtcLockDir(), `${slice}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lock, String(process.pid), { flag: 'wx' });
        heldRtcLocks.add(lock);
        const min = RTC_FIRST + slice * RTC_SLICE;
        return [min, min + size - 1];
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (ownerAlive(lock)) break;
        rmSync(lock, { force: true }); // its owner died without cleaning up: take it over
      }
    }
  }
  throw new Error(`all ${RTC_SLICES} RTC port slices are held by live processes (${rtcLockDir()})`);
}

function ownerAlive(lock: string): boolean {
  try {
    process.kill(Number(readFileSync(lock, 'utf8')), 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours; ESRCH or an unreadable lock: gone
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

process.once('exit', () => {
  for (const lock of heldRtcLocks) rmSync(lock, { force: true });
});
