import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongo, type MongoHandle } from './mongo.js';
import { freePort } from './ports.js';
import { startRedis, type RedisHandle } from './redis.js';

export interface LocalInfra {
  mongo: MongoHandle;
  redis: RedisHandle;
  /** Temp folder with both data dirs and logs; removed by close(). */
  dir: string;
  close(): Promise<void>;
}

/** A throw-away mongod (replica set rs0) + redis-server pair on free ports, for a test run. */
export async function startLocalInfra(opts: { cacheGb?: number } = {}): Promise<LocalInfra> {
  const dir = mkdtempSync(join(tmpdir(), 'sky-infra-'));
  const [mp, rp] = [await freePort(), await freePort()];
  const mongo = await startMongo({
    dbPath: join(dir, 'mongo'),
    port: mp,
    logFile: join(dir, 'mongod.log'),
    cacheGb: opts.cacheGb ?? 0.25,
  });
  const redis = await startRedis({
    dir: join(dir, 'redis'),
    port: rp,
    logFile: join(dir, 'redis.log'),
    persist: false,
  });
  return {
    mongo,
    redis,
    dir,
    async close() {
      await Promise.all([mongo.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
