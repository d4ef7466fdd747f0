import { redisTarget } from '@sky/contracts';
import { closeOnSignals, logOptions, serviceVersion } from '@sky/contracts/http';
import { createJobQueues } from '@sky/contracts/queue';
import { pino } from 'pino';
import { createFfmpeg } from './adapters/ffmpeg.js';
import { createApp } from './app.js';
import { composeStorage } from './compose.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino(logOptions('transcoder', config.LOG_LEVEL));
const { storage, workDir } = await composeStorage(config);

const queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
const ffmpeg = createFfmpeg({
  ffmpeg: config.FFMPEG_PATH,
  ffprobe: config.FFPROBE_PATH,
  nice: config.TRANSCODE_NICE,
});
const app = await createApp({
  config,
  logger,
  queues,
  ffmpeg,
  storage,
  workDir,
  version: serviceVersion(import.meta.url),
});
await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(
  logger,
  () => app.close(),
  () => queues.close(),
);
