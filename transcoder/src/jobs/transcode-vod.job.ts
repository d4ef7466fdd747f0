import type { JobHandler, JobQueues } from '@sky/contracts/queue';
import type { FastifyBaseLogger } from 'fastify';
import { HlsService, PermanentFailure } from '../services/hls.service.js';

/**
 * `transcode.vod`: package the lesson and report the outcome to the api's queue. A permanent failure
 * is reported and the job ends; anything else throws so BullMQ retries it with backoff.
 */
export function transcodeVodJob(
  hls: HlsService,
  queues: JobQueues,
  log: FastifyBaseLogger,
): JobHandler<'transcode.vod'> {
  return async (job) => {
    try {
      const result = await hls.package(job, `${Date.now()}`, (p) =>
        log.debug({ lesson: job.lessonId, ...p }, 'progress'),
      );
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
