// What the live bridge tests read back from its output with ffprobe / ffmpeg: packet timing of a
// recording, decoding errors, and the segments a live playlist listed over time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { launchChromium } from '@sky/devkit';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Packet timing of a recording: one measure for every live test (devkit's). */
export { packetTiming } from '@sky/devkit';

/** Every frame decodes with no error; returns the decoded video frame count (or audio-only 0). */
export async function decode(file: string): Promise<{ errors: string; frames: number; width: number }> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,nb_read_frames',
    '-of',
    'json',
    file,
  ]);
  const s = (JSON.parse(stdout) as { streams: { width?: number; nb_read_frames?: string }[] }).streams[0];
  // decoder errors only (the null muxer's dts notes at a recording join are not what a viewer sees)
  const errors = stderr
    .split('\n')
    .filter((l) =>
      /error while decoding|invalid data|corrupt|non-existing|missing picture|concealing/i.test(l),
    )
    .join('\n');
  return { errors, frames: Number(s?.nb_read_frames ?? 0), width: s?.width ?? 0 };
}

/** The spans [from, to] (s) where a recording's sound stays below -50 dB for more than 0.2 s. */
export async function silences(file: string): Promise<[number, number][]> {
  const { stderr } = await run('ffmpeg', [
    '-hide_banner',
    '-i',
    file,
    '-map',
    '0:a',
    '-af',
    'silencedetect=n=-50dB:d=0.2',
    '-f',
    'null',
    '-',
  ]);
  const starts = [...stderr.matchAll(/silence_start: ([\d.]+)/g)].map((m) => Number(m[1]));
  const ends = [...stderr.matchAll(/silence_end: ([\d.]+)/g)].map((m) => Number(m[1]));
  return starts.map((from, i) => [from, ends[i] ?? Infinity]);
}

/**
 * A/V sync of a recording made from fake teachers with the `sync` pattern: each tone onset (the sound rising
 * out of its quiet part) paired with the white picture's onset nearest to it (within half a period; the
 * others are a picture without its sound, e.g. a screen share). Offsets in seconds, + when the sound is late;
 * `flashes`: where each paired one is in the file.
 */
export async function avSync(
  file: string,
  periodSec: number,
): Promise<{ offsets: number[]; flashes: number[]; unpaired: number }> {
  const { stderr: sound } = await run('ffmpeg', [
    ...['-hide_banner', '-i', file, '-map', '0:a', '-af', 'silencedetect=n=-30dB:d=0.5', '-f', 'null', '-'],
  ]);
  // A silence that only ends with the file is not a tone; nor is one that began with it: the sound's
  // first packets (under load, ffmpeg's first second of sound may be missing) can come mid-tone.
  const { stdout: length } = await run('ffprobe', [
    ...['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file],
  ]);
  const silences = [...sound.matchAll(/silence_(start|end): ([\d.]+)/g)];
  const tones: number[] = [];
  let startedAt: number | undefined;
  for (const [, edge, at] of silences) {
    if (edge === 'start') startedAt = Number(at);
    else if (startedAt !== undefined && startedAt > 0.05 && !(Number(at) > Number(length) - 0.25))
      tones.push(Number(at));
  }
  const { stdout: luma } = await run(
    'ffprobe',
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', `movie=${file},signalstats`],
      ...['-show_entries', 'frame=pts_time:frame_tags=lavfi.signalstats.YAVG', '-of', 'csv=p=0'],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const flashes: number[] = [];
  let bright = false;
  for (const line of luma.split('\n')) {
    const [t, y] = line.split(',').map(Number);
    if (!Number.isFinite(t) || !Number.isFinite(y)) continue;
    if (y! > 200 && !bright) flashes.push(t!);
    bright = y! > 200;
  }
  const offsets: number[] = [];
  const paired: number[] = [];
  let unpaired = 0;
  for (const tone of tones) {
    const near = flashes.reduce((a, f) => (Math.abs(f - tone) < Math.abs(a - tone) ? f : a), Infinity);
    if (Math.abs(near - tone) < periodSec / 2) {
      offsets.push(Number((tone - near).toFixed(3)));
      paired.push(near);
    } else unpaired++;
  }
  return { offsets, flashes: paired, unpaired };
}

/** avSync's pairs for a message: offset (ms) @ where the flash is (s). */
export const pairsOf = (sync: { offsets: number[]; flashes: number[] }) =>
  sync.offsets.map((o, i) => `${Math.round(o * 1000)}@${sync.flashes[i]?.toFixed(1)}`).join(' ');

/** The media segments of a playlist text. */
export const segmentsOf = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

/** A segment as a viewer polling the playlist met it: when it first appeared, its PDT and length. */
export interface SeenSegment {
  uri: string;
  seenAt: number;
  pdt: number;
  seconds: number;
}

/**
 * Polls a live playlist (every 100 ms) and keeps every segment it ever listed, in order: the cadence a
 * viewer sees (the longest wait for a new segment) and the PROGRAM-DATE-TIME line (gaps or overlaps).
 */
export class PlaylistWatch {
  readonly seen: SeenSegment[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.timer = setInterval(() => this.poll(), 100);
  }

  poll(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    const now = Date.now();
    for (const m of text.matchAll(/#EXTINF:([\d.]+),\n#EXT-X-PROGRAM-DATE-TIME:(\S+)\n(\S+)/g)) {
      const uri = m[3]!;
      if (this.seen.some((s) => s.uri === uri)) continue;
      const pdt = Date.parse(m[2]!.replace(/\+0000$/, 'Z'));
      this.seen.push({ uri, seenAt: now, pdt, seconds: Number(m[1]) });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }

  /** Segments first seen within [from, to] (wall ms). */
  between(from: number, to: number): SeenSegment[] {
    return this.seen.filter((s) => s.seenAt >= from && s.seenAt <= to);
  }

  /**
   * Over the segments seen within [from, to]: the longest wait between two new segments, and the largest
   * hole (+) or overlap (−) in PROGRAM-DATE-TIME between one segment's end and the next one's start.
   */
  cadence(from = 0, to = Infinity): { longestWaitSec: number; worstPdtJumpSec: number; segments: number } {
    const list = this.between(from, to);
    let longestWaitSec = 0;
    let worstPdtJumpSec = 0;
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      longestWaitSec = Math.max(longestWaitSec, (b.seenAt - a.seenAt) / 1000);
      const jump = (b.pdt - (a.pdt + a.seconds * 1000)) / 1000;
      if (Math.abs(jump) > Math.abs(worstPdtJumpSec)) worstPdtJumpSec = jump;
    }
    return { longestWaitSec, worstPdtJumpSec, segments: list.length };
  }
}

/** A plain static server of `mediaDir` for hls.js (no caching), on a free port. */
export async function serveMedia(mediaDir: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!));
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
    const file = join(mediaDir, path);
    if (!file.startsWith(mediaDir) || !existsSync(file)) return void res.writeHead(404).end();
    const type: Record<string, string> = {
      '.m3u8': 'application/vnd.apple.mpegurl',
      '.m4s': 'video/iso.segment',
      '.mp4': 'video/mp4',
      '.ts': 'video/mp2t',
      '.html': 'text/html',
    };
    res.writeHead(200, {
      'content-type': type[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

export interface ViewerState {
  /** currentTime, videoWidth, the fatal hls.js error if any */
  t: number;
  w: number;
  fatal?: string;
  /** Wall-clock spans [from, to] (ms) in which playback did not move for more than 250 ms. */
  stalls: [number, number][];
}

export interface HlsViewer {
  state(): Promise<ViewerState>;
  /** Waits until `seconds` of the stream have played (asserts no fatal error meanwhile). */
  playing(seconds: number, timeoutMs: number): Promise<ViewerState>;
  dispose(): Promise<void>;
}

/** hls.js in Chromium playing a live master, watched every 50 ms for stalls (playback not moving). */
export async function openHlsViewer(masterUrl: string): Promise<HlsViewer> {
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${new URL(masterUrl).origin}/`);
  await page.setContent(`<video id="v" muted autoplay playsinline></video>`);
  await page.addScriptTag({ path: join(ROOT, 'node_modules', 'hls.js', 'dist', 'hls.min.js') });
  // the page's scripts are strings: this package type-checks without the DOM library
  await page.evaluate(`(() => {
    const v = document.getElementById('v');
    const hls = new Hls({ liveSyncDurationCount: 2 });
    hls.on('hlsError', (_e, d) => { if (d.fatal) window.fatal = d.details; });
    hls.loadSource(${JSON.stringify(masterUrl)});
    hls.attachMedia(v);
    const w = { t: 0, at: 0, stalls: [] };
    window.watch = w;
    setInterval(() => {
      const now = Date.now();
      if (v.currentTime <= w.t) return;
      if (w.at && now - w.at > 250) w.stalls.push([w.at, now]);
      w.t = v.currentTime;
      w.at = now;
    }, 50);
  })()`);
  const state = () =>
    page.evaluate<ViewerState>(
      // a stall still going on counts up to now
      `(() => { const v = document.getElementById('v'); const w = window.watch; const now = Date.now();
        const open = w.at && now - w.at > 250 ? [[w.at, now]] : [];
        return { t: v.currentTime, w: v.videoWidth, fatal: window.fatal, stalls: [...w.stalls, ...open] }; })()`,
    );
  return {
    state,
    async playing(seconds, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let s = await state();
      let first = -1;
      while (Date.now() < deadline) {
        s = await state();
        if (s.fatal) break;
        if (s.t > 0 && first < 0) first = s.t;
        if (first >= 0 && s.t - first >= seconds) break;
        await sleep(250);
      }
      assert.equal(s.fatal, undefined);
      assert.ok(first >= 0 && s.t - first >= seconds, `hls.js played ${s.t - first} s of the live stream`);
      return s;
    },
    dispose: () => browser.dispose(),
  };
}
