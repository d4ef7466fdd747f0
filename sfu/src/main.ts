import { closeOnSignals, serviceVersion } from '@sky/contracts/http';
import { createJobQueues } from '@sky/contracts/queue';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { pino } from 'pino';
import { createApiClient } from './adapters/api-client.js';
import { createWorkerPool } from './adapters/mediasoup.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { LiveBridge } from './services/live-bridge.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'sfu' });

const workers = await createWorkerPool(
  { count: config.NUM_WORKERS, rtcMinPort: config.RTC_MIN_PORT, rtcMaxPort: config.RTC_MAX_PORT },
  logger,
);
// Only verification happens here; the ttl is the api's business.
const tokens = createTokenIssuer(config.JWT_SECRET, 900);
const queues = createJobQueues(config.REDIS_URL, config.QUEUE_PREFIX);
const app = createApp({
  logger,
  workers,
  version: serviceVersion(import.meta.url),
  verify: (t) => tokens.verify(t),
  api: createApiClient(config.API_URL),
  live: {
    listenIp: config.RTC_LISTEN_IP,
    announcedIp: config.RTC_ANNOUNCED_IP,
    consumerThreshold: config.ROUTER_CONSUMER_THRESHOLD,
    audienceCap: config.WEBRTC_AUDIENCE_CAP,
  },
  bridges: (lessonId, router) =>
    new LiveBridge(lessonId, router, {
      mediaDir: config.MEDIA_DIR,
      ffmpegPath: config.FFMPEG_PATH,
      log: logger,
      // ffmpeg runs on this host: the bridge's PlainTransports never need a public address.
      listenIp: '127.0.0.1',
      segmentSec: config.LIVE_HLS_SEGMENT_SEC,
    }),
  liveEnded: async (job) => {
    await queues.enqueue('live.ended', job);
  },
  onClose: () => queues.close(),
});
await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(logger, () => app.close());
