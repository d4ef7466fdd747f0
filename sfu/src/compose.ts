import { redisTarget } from '@sky/contracts';
import { serviceVersion } from '@sky/contracts/http';
import { s3Settings } from '@sky/contracts/storage';
import { createJobQueues } from '@sky/contracts/queue';
import { createTokenIssuer } from '@sky/contracts/tokens';
import type { FastifyBaseLogger } from 'fastify';
import { createApiClient } from './adapters/api-client.js';
import { createCascadeClient } from './adapters/cascade-client.js';
import { createWorkerPool, type WorkerPool } from './adapters/mediasoup.js';
import { createRoomDirectory } from './adapters/room-directory.js';
import { createApp, type SfuApp } from './app.js';
import type { SfuConfig } from './config.js';
import { LiveBridge } from './services/live-bridge.js';

export interface ComposedSfu {
  app: SfuApp;
  /** The mediasoup workers (tests kill one to watch a room restart). */
  workers: WorkerPool;
  /** Once listening on `listenUrl`: joins the sfu directory (with CASCADE_SECRET set). */
  announce(listenUrl: string): Promise<void>;
  /** Closes the app, then the workers and the job queues. */
  close(): Promise<void>;
}

/**
 * The sfu from its config: mediasoup workers, token verification, the api client, the job queues and
 * the live HLS bridge → createApp. Used by main.ts and by tests that run the sfu as deployed.
 */
export async function composeSfu(
  config: SfuConfig,
  logger: FastifyBaseLogger,
  overrides: { version?: string } = {},
): Promise<ComposedSfu> {
  const workers = await createWorkerPool(
    { count: config.NUM_WORKERS, rtcMinPort: config.RTC_MIN_PORT, rtcMaxPort: config.RTC_MAX_PORT },
    logger,
  );
  // Only verification happens here; the ttl is the api's business.
  const tokens = createTokenIssuer(config.JWT_SECRET, 900);
  const queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
  const s3 = s3Settings(config);
  // the S3 adapter (and the AWS SDK) loads only when a bucket is configured
  const store = s3 ? (await import('@sky/contracts/storage-s3')).createS3Storage(s3) : undefined;
  const app = createApp({
    logger,
    workers,
    version: overrides.version ?? serviceVersion(import.meta.url),
    verify: (t) => tokens.verify(t),
    api: createApiClient(config.API_URL),
    live: {
      listenIp: config.RTC_LISTEN_IP,
      announcedIp: config.RTC_ANNOUNCED_IP,
      consumerThreshold: config.ROUTER_CONSUMER_THRESHOLD,
      audienceCap: config.WEBRTC_AUDIENCE_CAP,
      teacherGraceMs: config.TEACHER_GRACE_SEC * 1000,
    },
    bridges: (lessonId, router, startedAt) =>
      new LiveBridge(lessonId, router, {
        mediaDir: config.MEDIA_DIR,
        ffmpegPath: config.FFMPEG_PATH,
        log: logger,
        // ffmpeg runs on this host: the bridge's PlainTransports never need a public address.
        listenIp: '127.0.0.1',
        segmentSec: config.LIVE_HLS_SEGMENT_SEC,
        liveSince: Date.parse(startedAt),
        store,
      }),
    cluster: config.CASCADE_SECRET
      ? {
          directory: createRoomDirectory(
            redisTarget(config),
            config.QUEUE_PREFIX,
            config.SFU_NODE_ID,
            logger,
          ),
          post: createCascadeClient(config.CASCADE_SECRET),
          secret: config.CASCADE_SECRET,
          publicUrl: config.SFU_PUBLIC_URL,
          internalUrl: config.SFU_INTERNAL_URL,
          capacity: config.SFU_NODE_CAPACITY,
          pipeListenIp: config.PIPE_LISTEN_IP ?? config.RTC_LISTEN_IP,
          pipeAnnouncedIp: config.PIPE_ANNOUNCED_IP ?? config.RTC_ANNOUNCED_IP,
        }
      : undefined,
    liveEnded: async (job) => {
      await queues.enqueue('live.ended', job);
    },
    // app.close() closes the workers, then this
    onClose: async () => {
      await queues.close();
      store?.client.destroy();
    },
  });
  return {
    app,
    workers,
    announce: (listenUrl) => app.announce(listenUrl),
    close: () => app.close(),
  };
}
