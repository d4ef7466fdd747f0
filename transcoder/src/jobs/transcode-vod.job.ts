import type { JobHandler, JobQueues } from '@sky/contracts/queue';
import type { FastifyBaseLogger } from 'fastify';
import type { TranscodeProgress } from '@sky/contracts';
import { HlsService, PermanentFailure, type EncodeProgress } from '../services/hls.service.js';

/**
 * `transcode.vod`: package the lesson and report the outcome to the api's queue. A permanent failure
 * is reported and the job ends; anything else throws so BullMQ retries it with backoff.
 */
export function transcodeVodJob(
  hls: HlsService,
  queues: JobQueues,
  log: FastifyBaseLogger,
): JobHandler<'transcode.vod'> {
  return async (job, ctx) => {
    let last = 0;
    const report = (p: EncodeProgress, force = false) => {
      // at most one Redis write a second
      if (!force && performance.now() - last < 1000) return;
      last = performance.now();
      const data: TranscodeProgress = {
        lessonId: job.lessonId,
        percent: Math.round(p.percent * 10) / 10,
        fps: p.fps,
        speed: Math.round(p.speed * 100) / 100,
      };
      void ctx.progress(data).catch((err: unknown) => log.warn({ err }, 'progress not reported'));
    };
    try {
      const result = await hls.package(job, `${Date.now()}`, (p) => report(p));
      report({ percent: 100, fps: 0, speed: 0 }, true);
      await queues.enqueue('transcode.result', result);
      log.info(
        { lesson: job.lessonId, master: result.outcome === 'ready' ? result.master : null },
        'transcoded',
      );
    } catch (err) {
      if (!(err instanceof PermanentFailure)) throw err;
      log.warn({ lesson: job.lessonId, reason: err.message }, 'transcode failed permanently');
      await queues.enqueue('transcode.result', {
        outcome: 'failed',
        lessonId: job.lessonId,
        code: err.code,
        reason: err.message,
      });
    }
  };
}
