import { access, constants } from 'node:fs/promises';
import { QUEUES, type HealthReport } from '@sky/contracts';
import { registerSecurityHeaders } from '@sky/contracts/http';
import { createTicketIssuer, createTokenIssuer } from '@sky/contracts/tokens';
import { registerQueueUi, SESSION_SEC } from './http/queue-ui.js';
import type { JobQueues } from '@sky/contracts/queue';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { TranscoderConfig } from './config.js';
import type { Ffmpeg } from './adapters/ffmpeg.js';
import { registerProblemHandlers } from './errors.js';
import { transcodeVodJob } from './jobs/transcode-vod.job.js';
import { HlsService } from './services/hls.service.js';

export interface TranscoderDeps {
  config: TranscoderConfig;
  logger: FastifyBaseLogger;
  queues: JobQueues;
  ffmpeg: Ffmpeg;
  version: string;
}

export async function createApp(deps: TranscoderDeps) {
  const { config, queues, logger } = deps;
  const startedAt = Date.now();
  const hls = new HlsService(deps.ffmpeg, config.MEDIA_DIR, config.X264_PRESET);
  const worker = queues.consume(
    { 'transcode.vod': transcodeVodJob(hls, queues, logger) },
    {
      concurrency: config.CONCURRENCY,
      lockDurationMs: config.LOCK_DURATION_MS,
      stalledIntervalMs: config.STALLED_INTERVAL_MS,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    logger.error(
      { job: job.id, attempt: job.attemptsMade, final, err: err.message },
      'transcode attempt failed',
    );
    if (final) {
      const lessonId = (job.data as { lessonId?: string }).lessonId;
      if (lessonId) {
        void queues
          .enqueue('transcode.result', {
            outcome: 'failed',
            lessonId,
            code: 'TRANSCODE_FAILED',
            reason: `transcoding failed: ${err.message}`,
          })
          .catch((e: unknown) => logger.error({ err: e }, 'could not report the failure'));
      }
    }
  });

  const http = Fastify({ loggerInstance: logger });
  registerProblemHandlers(http);
  // bull-board's page shows a loading placeholder styled by an inline <style>: styles only, never scripts.
  // Its link to Google Fonts stays refused (an admin page does not call third parties): system fonts.
  registerSecurityHeaders(http, { relaxed: { '/queues': { 'style-src': ["'self'", "'unsafe-inline'"] } } });
  const tokens = createTokenIssuer(config.JWT_SECRET, 900);
  await registerQueueUi(http, [queues.queue(QUEUES.transcode), queues.queue(QUEUES.transcodeResults)], {
    verify: (t) => tokens.verify(t),
    tickets: createTicketIssuer(config.JWT_SECRET),
    sessions: createTicketIssuer(config.JWT_SECRET, SESSION_SEC),
  });
  http.get('/healthz', async (_req, reply) => {
    const redisOk = await queues.ping();
    const mediaOk = await access(config.MEDIA_DIR, constants.W_OK).then(
      () => true,
      () => false,
    );
    const report: HealthReport = {
      service: 'transcoder',
      ok: redisOk && mediaOk && worker.isRunning(),
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies: {
        redis: { ok: redisOk, detail: redisOk ? 'PONG' : 'unreachable' },
        media: { ok: mediaOk, detail: mediaOk ? 'writable' : `${config.MEDIA_DIR} not writable` },
        worker: { ok: worker.isRunning(), detail: `concurrency ${config.CONCURRENCY}` },
      },
    };
    return reply.code(report.ok ? 200 : 503).send(report);
  });

  return {
    http,
    worker,
    async close() {
      await http.close();
      deps.ffmpeg.killAll();
      await worker.close(true);
    },
  };
}
