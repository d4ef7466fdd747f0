import { closeOnSignals, logOptions, serviceVersion } from '@sky/contracts/http';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { redisTarget } from '@sky/contracts';
import { connectRedis } from '@sky/contracts/redis';
import { s3Settings } from '@sky/contracts/storage';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino(logOptions('tv-gateway', config.LOG_LEVEL));
const redis = connectRedis(redisTarget(config), { maxRetriesPerRequest: 3 });
const subscriber = connectRedis(redisTarget(config));
const tokens = createTokenIssuer(config.JWT_SECRET, 900);
const s3 = s3Settings(config);
// the S3 adapter (and the AWS SDK) loads only when a bucket is configured
const shared = s3 ? (await import('@sky/contracts/storage-s3')).createS3Storage(s3) : undefined;

const app = await createApp({
  config,
  logger,
  version: serviceVersion(import.meta.url),
  redis,
  subscriber,
  verifyUser: (t) => tokens.verify(t),
  ...(shared ? { shared } : {}),
});
await app.http.listen({ host: config.HOST, port: config.PORT });
// Render the slate ahead of the first box asking for it.
void Promise.all([app.artwork.slateDir('720p'), app.artwork.slateDir('360p')]).catch((err: unknown) =>
  logger.error({ err }, 'slate rendering failed'),
);
closeOnSignals(
  logger,
  () => app.close(),
  async () => redis.quit(),
  async () => subscriber.quit(),
);
