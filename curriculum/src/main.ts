import { closeOnSignals, logOptions, serviceVersion } from '@sky/contracts/http';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { redisTarget } from '@sky/contracts';
import { connectMongo } from '@sky/contracts/mongo';
import { connectRedis } from '@sky/contracts/redis';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino(logOptions('curriculum', config.LOG_LEVEL));

const mongo = await connectMongo(config.MONGODB_URI);
const redis = connectRedis(redisTarget(config), { maxRetriesPerRequest: 3 });
const tokens = createTokenIssuer(config.JWT_SECRET, 900);
const app = await createApp({
  logger,
  mongo,
  redis,
  redisPrefix: config.REDIS_PREFIX,
  verify: (t) => tokens.verify(t),
  version: serviceVersion(import.meta.url),
  seedDemo: config.SEED_DEMO,
});
await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(
  logger,
  () => app.close(),
  () => mongo.close(),
  async () => redis.quit(),
);
