// What the live bridge tests read back from its output with ffprobe / ffmpeg: packet timing of a
// recording, decoding errors, and the segments a live playlist listed over time.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Packet timestamps of a recording (ffprobe): holes longer than 1 s in either stream (where, how long),
 * the longest step between packets, and how far the audio's end is from the video's.
 */
export async function packetTiming(file: string) {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'packet=stream_index,pts_time,duration_time', '-of', 'csv=p=0', file],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const streams = new Map<number, { pts: number; dur: number }[]>();
  for (const line of stdout.split('\n')) {
    const [index, pts, dur] = line.split(',').map(Number);
    if (index === undefined || !Number.isFinite(pts)) continue;
    streams.set(index, [...(streams.get(index) ?? []), { pts: pts!, dur: Number.isFinite(dur) ? dur! : 0 }]);
  }
  const gaps: string[] = [];
  let longest = 0;
  const ends: number[] = [];
  for (const [index, packets] of streams) {
    packets.sort((a, b) => a.pts - b.pts);
    for (let i = 1; i < packets.length; i++) {
      const step = packets[i]!.pts - packets[i - 1]!.pts;
      longest = Math.max(longest, step);
      if (step > 1) gaps.push(`stream ${index}: ${step.toFixed(3)} s at ${packets[i - 1]!.pts.toFixed(3)} s`);
    }
    const last = packets.at(-1)!;
    ends.push(last.pts + last.dur);
  }
  return { gaps, longest, avOffsetSec: (ends[0] ?? 0) - (ends[1] ?? 0) };
}

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
