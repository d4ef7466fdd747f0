import { redisTarget } from '@sky/contracts';
import { closeOnSignals, logOptions, serviceVersion } from '@sky/contracts/http';
import { createJobQueues } from '@sky/contracts/queue';
import { s3Settings } from '@sky/contracts/storage';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { connectMongo } from '@sky/contracts/mongo';
import { createMediaProbe } from './adapters/media-probe.js';
import { passwords } from './adapters/password.js';
import { seedDemo } from './seed.js';

const config = loadConfig(process.env);
const logger = pino(logOptions('api', config.LOG_LEVEL));

const mongo = await connectMongo(config.MONGODB_URI);
const queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
const s3 = s3Settings(config);
// the S3 adapter (and the AWS SDK) loads only when a bucket is configured
const lessonStore = s3 ? (await import('@sky/contracts/storage-s3')).createS3Storage(s3) : undefined;
// uploads in progress in the same bucket, so that any api process takes an upload's next PATCH
const uploadBucket = s3 ? (await import('./adapters/tus-s3.js')).createTusS3Store(s3) : undefined;
const probe = createMediaProbe({ ffprobe: config.FFPROBE_PATH, ffmpeg: config.FFMPEG_PATH });
const app = await createApp({
  config,
  logger,
  mongo,
  queues,
  probe,
  passwords,
  version: serviceVersion(import.meta.url),
  ...(lessonStore ? { lessonStore } : {}),
  ...(uploadBucket ? { uploadBucket } : {}),
});

if (config.SEED_DEMO && (await mongo.db!.collection('users').estimatedDocumentCount()) === 0) {
  await seedDemo(app, {
    sample: config.SEED_SAMPLE,
    logger,
    ...(config.SEED_LOGINS_FILE ? { loginsFile: config.SEED_LOGINS_FILE } : {}),
  });
}

await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(
  logger,
  () => app.close(),
  () => queues.close(),
  () => mongo.close(),
);
