import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The ffmpeg arguments for a synthetic lesson: colour bars with a clock (testsrc2) and a 440 Hz tone. */
export function sampleVideoArgs(
  out: string,
  o: { seconds: number; width: number; height: number; fps: number },
) {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}:duration=${o.seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(o.fps * 2),
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-ac',
    '2',
    '-shortest',
    '-movflags',
    '+faststart',
    out,
  ];
}

/** Writes a sample lesson video with ffmpeg; resolves with its path. */
export async function generateSampleVideo(
  out: string,
  o: Partial<{ seconds: number; width: number; height: number; fps: number }> = {},
): Promise<string> {
  mkdirSync(dirname(out), { recursive: true });
  const opts = { seconds: 12, width: 1280, height: 720, fps: 25, ...o };
  await run('ffmpeg', sampleVideoArgs(out, opts), { timeout: 120_000 });
  return out;
}
