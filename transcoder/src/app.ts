import { access, constants } from 'node:fs/promises';
import { QUEUES, type HealthReport } from '@sky/contracts';
import { registerSecurityHeaders } from '@sky/contracts/http';
import { createTicketIssuer, createTokenIssuer } from '@sky/contracts/tokens';
import { registerQueueUi, SESSION_SEC } from './http/queue-ui.js';
import type { JobQueues } from '@sky/contracts/queue';
import type { MediaStorage } from '@sky/contracts/storage';
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
  /** The media store: sources are read and renditions published through it only. */
  storage: MediaStorage;
  /** This process's attempts encode in folders here. */
  workDir: string;
  version: string;
}

export async function createApp(deps: TranscoderDeps) {
  const { config, queues, logger } = deps;
  const startedAt = Date.now();
  const hls = new HlsService(deps.ffmpeg, deps.storage, deps.workDir, config.X264_PRESET);
  const swept = await hls.sweepDeadAttempts();
  if (swept.length > 0) logger.info({ swept }, 'removed the work folders of dead attempts');
  const worker = queues.consume(
    { 'transcode.vod': transcodeVodJob(hls, queues, logger) },
    {
      concurrency: config.CONCURRENCY,
      lockDurationMs: config.LOCK_DURATION_MS,
      stalledIntervalMs: config.STALLED_INTERVAL_MS,
      workerName: config.TRANSCODER_NODE_ID,
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
    const [workOk, storeOk] = await Promise.all([
      access(deps.workDir, constants.W_OK).then(
        () => true,
        () => false,
      ),
      // a listing, not a HEAD: S3 answers a HEAD in a missing bucket with the same 404 as a missing key
      deps.storage.list('.healthz').then(
        () => true,
        () => false,
      ),
    ]);
    const mediaOk = workOk && storeOk;
    const report: HealthReport = {
      service: 'transcoder',
      node: config.TRANSCODER_NODE_ID,
      ok: redisOk && mediaOk && worker.isRunning(),
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies: {
        redis: { ok: redisOk, detail: redisOk ? 'PONG' : 'unreachable' },
        media: {
          ok: mediaOk,
          detail: !storeOk
            ? `${deps.storage.kind} store unreachable`
            : workOk
              ? `${deps.storage.kind} store, work folder writable`
              : `${deps.workDir} not writable`,
        },
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
