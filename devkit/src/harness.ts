import { randomBytes } from 'node:crypto';
import { startLocalInfra } from './local-infra.js';

export interface TestInfra {
  /** A database of its own for the calling test file. */
  mongoUri: string;
  redisUrl: string;
  /** A unique prefix for Redis keys, queue names and ids this test owns. */
  prefix: string;
  close(): Promise<void>;
}

/**
 * Real mongod and redis-server for a test file. `npm test` starts one pair for the whole run and
 * passes them in TEST_MONGO_HOST / TEST_REDIS_URL; a file run on its own starts its own pair.
 * Each call gets its own database and key prefix, so tests never share rows.
 */
export async function useInfra(): Promise<TestInfra> {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const sharedMongo = process.env['TEST_MONGO_HOST'];
  const sharedRedis = process.env['TEST_REDIS_URL'];
  if (sharedMongo && sharedRedis) {
    return {
      mongoUri: `mongodb://${sharedMongo}/${prefix}?replicaSet=rs0`,
      redisUrl: sharedRedis,
      prefix,
      close: async () => {},
    };
  }
  const infra = await startLocalInfra();
  return {
    mongoUri: infra.mongo.uriFor(prefix),
    redisUrl: infra.redis.url,
    prefix,
    close: () => infra.close(),
  };
}
