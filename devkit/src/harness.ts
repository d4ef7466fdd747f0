import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMongo } from './mongo.js';
import { startRedis } from './redis.js';
import { freePort } from './ports.js';

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
  const id = randomBytes(4).toString('hex');
  const prefix = `t${id}`;
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
  const dir = mkdtempSync(join(tmpdir(), 'sky-infra-'));
  const [mp, rp] = [await freePort(), await freePort()];
  const mongo = await startMongo({
    dbPath: join(dir, 'mongo'),
    port: mp,
    logFile: join(dir, 'mongod.log'),
    cacheGb: 0.25,
  });
  const redis = await startRedis({
    dir: join(dir, 'redis'),
    port: rp,
    logFile: join(dir, 'redis.log'),
    persist: false,
  });
  return {
    mongoUri: mongo.uriFor(prefix),
    redisUrl: redis.url,
    prefix,
    async close() {
      await Promise.all([mongo.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
