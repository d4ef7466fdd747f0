import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SampleOptions {
  seconds: number;
  width: number;
  height: number;
  fps: number;
  /** Like a phone or classroom camera: sensor noise, H.264 High at ~10 Mbps (costlier to decode and encode). */
  camera?: boolean;
}

/** The ffmpeg arguments for a synthetic lesson: colour bars with a clock (testsrc2) and a 440 Hz tone. */
export function sampleVideoArgs(out: string, o: SampleOptions): string[] {
  const picture = `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}:duration=${o.seconds}`;
  // prettier-ignore
  const video = o.camera
    ? ['-preset', 'faster', '-profile:v', 'high', '-b:v', '10M', '-maxrate', '12M', '-bufsize', '20M']
    : ['-preset', 'veryfast'];
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', o.camera ? `${picture},noise=alls=10:allf=t+u` : picture,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`,
    '-c:v', 'libx264', ...video, '-pix_fmt', 'yuv420p', '-g', String(o.fps * 2),
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
    '-shortest', '-movflags', '+faststart',
    out,
  ];
}

/** Writes a sample lesson video with ffmpeg; resolves with its path. */
export async function generateSampleVideo(out: string, o: Partial<SampleOptions> = {}): Promise<string> {
  mkdirSync(dirname(out), { recursive: true });
  const opts = { seconds: 12, width: 1280, height: 720, fps: 25, ...o };
  await run('ffmpeg', sampleVideoArgs(out, opts), { timeout: 600_000 });
  return out;
}

/** A hole between two packets of one stream of a media file. */
export interface PacketGap {
  /** The stream's codec type ('video', 'audio'), or its index when ffprobe gives none. */
  stream: string;
  /** Where the hole begins (the earlier packet's pts), in the file's seconds. */
  atSec: number;
  /** From one packet's pts to the next. */
  stepSec: number;
}

/**
 * Packet timestamps of a media file (ffprobe): the steps between packets longer than `minGapSec` in any
 * stream (where, how long), the longest step of each stream, and how far the video's end is from the
 * audio's (positive: the video ends later).
 */
export async function packetTiming(
  file: string,
  minGapSec = 1,
): Promise<{ gaps: PacketGap[]; longest: number; longestBy: Record<string, number>; avOffsetSec: number }> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'stream=index,codec_type:packet=stream_index,pts_time,duration_time',
      '-of',
      'json',
      file,
    ],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  const probe = JSON.parse(stdout) as {
    streams?: { index: number; codec_type: string }[];
    packets?: { stream_index: number; pts_time?: string; duration_time?: string }[];
  };
  const typeOf = new Map((probe.streams ?? []).map((s) => [s.index, s.codec_type]));
  const streams = new Map<string, { pts: number; dur: number }[]>();
  for (const p of probe.packets ?? []) {
    const pts = Number(p.pts_time);
    if (!Number.isFinite(pts)) continue;
    const type = typeOf.get(p.stream_index) ?? String(p.stream_index);
    const dur = Number(p.duration_time);
    let list = streams.get(type);
    if (!list) streams.set(type, (list = []));
    list.push({ pts, dur: Number.isFinite(dur) ? dur : 0 });
  }
  const gaps: PacketGap[] = [];
  const longestBy: Record<string, number> = {};
  const ends: Record<string, number> = {};
  for (const [stream, packets] of streams) {
    packets.sort((a, b) => a.pts - b.pts);
    let longest = 0;
    for (let i = 1; i < packets.length; i++) {
      const stepSec = packets[i]!.pts - packets[i - 1]!.pts;
      longest = Math.max(longest, stepSec);
      if (stepSec > minGapSec) gaps.push({ stream, atSec: packets[i - 1]!.pts, stepSec });
    }
    longestBy[stream] = longest;
    const last = packets.at(-1);
    if (last) ends[stream] = last.pts + last.dur;
  }
  gaps.sort((a, b) => a.atSec - b.atSec);
  return {
    gaps,
    longest: Math.max(0, ...Object.values(longestBy)),
    longestBy,
    avOffsetSec: (ends['video'] ?? 0) - (ends['audio'] ?? 0),
  };
}

/** A media file's duration in seconds, as its container says (ffprobe); NaN when it says none. */
export async function mediaDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    file,
  ]);
  return Number(stdout.trim());
}
