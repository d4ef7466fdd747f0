// The only sfu file that spawns ffmpeg/ffprobe: the long-running live encoder, the recording concat and
// duration probes. A plain spawn: a live process runs for an hour, has no progress to report and must be
// restarted when it dies, which fluent-ffmpeg does not help with.
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createWriteStream, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LiveProcess {
  readonly pid: number | undefined;
  /** Resolves when the process exits, whoever ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGINT (ffmpeg finalises its outputs), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Immediate SIGKILL (tests simulate a crash with it too). */
  kill(): void;
}

export interface FfmpegLive {
  /** Starts ffmpeg with `args`; stderr is appended to `logFile`. */
  start(args: string[], logFile: string): LiveProcess;
  /** Runs a short ffmpeg to completion (concat); rejects with the last lines of stderr. */
  run(args: string[]): Promise<void>;
  /** Like run, and resolves with what ffmpeg wrote to stdout (`pipe:1`). */
  capture(args: string[]): Promise<Buffer>;
  /** Container duration in seconds (0 when unknown). */
  durationSec(file: string): Promise<number>;
  /** The container's first timestamp and duration, in seconds (undefined when unreadable). */
  span(file: string): Promise<{ startSec: number; durationSec: number } | undefined>;
  /** Decoding time of the last packet of `stream` ('v:0' …), in the file's own timestamps. */
  lastPacketTime(file: string, stream: string): Promise<number | undefined>;
}

/** ffprobe beside ffmpeg (same folder) unless told otherwise. */
export function siblingFfprobe(ffmpegPath: string): string {
  const name = basename(ffmpegPath).replace(/ffmpeg/, 'ffprobe');
  return dirname(ffmpegPath) === '.' ? name : join(dirname(ffmpegPath), name);
}

export function createFfmpegLive(paths: { ffmpeg: string; ffprobe?: string }): FfmpegLive {
  const ffprobe = paths.ffprobe ?? siblingFfprobe(paths.ffmpeg);
  /** The container's first timestamp and duration (NaN where ffprobe has none); undefined when unreadable. */
  const format = async (file: string) => {
    try {
      const { stdout } = await run(ffprobe, [
        '-v',
        'error',
        '-show_entries',
        'format=start_time,duration',
        '-of',
        'json',
        file,
      ]);
      const f = (JSON.parse(stdout) as { format?: { start_time?: string; duration?: string } }).format;
      return { start: Number(f?.start_time), duration: Number(f?.duration) };
    } catch {
      return undefined;
    }
  };
  const capture = async (args: string[]) => {
    try {
      const { stdout } = await run(paths.ffmpeg, args, { maxBuffer: 16 * 1024 * 1024, encoding: 'buffer' });
      return stdout;
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer | string }).stderr ?? '');
      const tail = stderr.split('\n').filter(Boolean).slice(-3).join(' | ');
      throw new Error(`ffmpeg failed: ${tail || (err as Error).message}`, { cause: err });
    }
  };
  return {
    start(args, logFile) {
      const log = createWriteStream(logFile, { flags: 'a' });
      log.write(`\n# ${new Date().toISOString()} ffmpeg ${args.map((a) => JSON.stringify(a)).join(' ')}\n`);
      const child = spawn(paths.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.pipe(log, { end: false });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.once('exit', (code, signal) => {
          log.end(`# exited code=${code} signal=${signal}\n`);
          resolve({ code, signal });
        });
        child.once('error', (err) => {
          log.end(`# spawn failed: ${err.message}\n`);
          resolve({ code: -1, signal: null });
        });
      });
      const alive = () => child.exitCode === null && child.signalCode === null;
      return {
        pid: child.pid,
        exited,
        async stop(graceMs = 5000) {
          if (!alive()) return void (await exited);
          child.kill('SIGINT');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        },
        kill() {
          if (alive()) child.kill('SIGKILL');
        },
      };
    },
    async run(args) {
      await capture(args);
    },
    capture,
    async durationSec(file) {
      const d = (await format(file))?.duration;
      return d !== undefined && Number.isFinite(d) ? d : 0;
    },
    async span(file) {
      const f = await format(file);
      return f && Number.isFinite(f.start) && Number.isFinite(f.duration)
        ? { startSec: f.start, durationSec: f.duration }
        : undefined;
    },
    async lastPacketTime(file, stream) {
      try {
        const { stdout } = await run(
          ffprobe,
          [
            '-v',
            'error',
            '-select_streams',
            stream,
            '-show_entries',
            'packet=dts_time',
            '-of',
            'csv=p=0',
            file,
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const t = Number(stdout.trim().split('\n').filter(Boolean).pop());
        return Number.isFinite(t) ? t : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** True once something has bound every one of `ports` (UDP, IPv4 or IPv6): ffmpeg is ready for RTP. */
export function udpPortsBound(ports: number[]): boolean {
  const bound = new Set<number>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1] ?? '';
      const hex = local.split(':').pop();
      if (hex) bound.add(parseInt(hex, 16));
    }
  }
  return ports.every((p) => bound.has(p));
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** An even UDP port whose odd neighbour is free too (RTP + RTCP for ffmpeg), from [min, max). */
export async function freeUdpPortPair(host = '127.0.0.1', min = 20000, max = 30000): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = min + 2 * Math.floor((Math.random() * (max - min)) / 2);
    if ((await canBind(port, host)) && (await canBind(port + 1, host))) return port;
  }
  throw new Error('no free UDP port pair for the live bridge');
}
