import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import type { TranscodeJob, TranscodeResult } from '@sky/contracts';
import { ProbeError, type Ffmpeg, type Progress } from '../adapters/ffmpeg.js';
import { buildHlsArgs } from './hls-args.js';
import { chooseLadder } from './ladder.js';

/** A failure no retry can fix (the upload is not usable media); the reason is shown to the teacher. */
export class PermanentFailure extends Error {}

export class HlsService {
  constructor(
    private readonly ffmpeg: Ffmpeg,
    private readonly mediaDir: string,
    private readonly preset: string,
  ) {}

  private inside(rel: string): string {
    const abs = normalize(join(this.mediaDir, rel));
    if (!abs.startsWith(normalize(this.mediaDir) + sep))
      throw new PermanentFailure(`path outside the media store: ${rel}`);
    return abs;
  }

  /**
   * Source → HLS in `job.outputDir`. Output is written to a temp folder and renamed into place in one
   * step, so a crash never leaves a half-written lesson visible, and a re-run after success is a no-op.
   */
  async package(
    job: TranscodeJob,
    attempt: string,
    onProgress?: (p: Progress) => void,
  ): Promise<TranscodeResult> {
    const source = this.inside(job.source);
    const finalDir = this.inside(job.outputDir);
    const master = `${job.outputDir}/master.m3u8`;
    let probe;
    try {
      probe = await this.ffmpeg.probe(source);
    } catch (err) {
      if (err instanceof ProbeError) throw new PermanentFailure(`not a readable media file (${err.message})`);
      throw err;
    }
    if (!probe.video) throw new PermanentFailure('the file has no video stream');
    if (!(probe.durationSec > 0)) throw new PermanentFailure('the file has no duration');
    if (await exists(join(finalDir, 'master.m3u8'))) {
      return { outcome: 'ready', lessonId: job.lessonId, master, durationSec: probe.durationSec };
    }
    const tmp = this.inside(join('.tmp', `${job.lessonId}-${attempt}`));
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      const ladder = chooseLadder(probe);
      await this.ffmpeg.run(buildHlsArgs(source, tmp, probe, ladder, this.preset), onProgress);
      await mkdir(dirname(finalDir), { recursive: true });
      await rename(tmp, finalDir);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return { outcome: 'ready', lessonId: job.lessonId, master, durationSec: probe.durationSec };
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
