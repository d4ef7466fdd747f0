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
