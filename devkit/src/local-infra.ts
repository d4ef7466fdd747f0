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
  const mongo = await onFreePort((port, attempt) =>
    startMongo({
      dbPath: join(dir, `mongo-${attempt}`),
      port,
      logFile: join(dir, 'mongod.log'),
      cacheGb: opts.cacheGb ?? 0.25,
    }),
  );
  const redis = await onFreePort((port) =>
    startRedis({ dir: join(dir, 'redis'), port, logFile: join(dir, 'redis.log'), persist: false }),
  );
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

/**
 * A port that was free a moment ago can be taken before the server binds it (any outgoing connection may
 * get it as its local port): on a busy machine, start again on another one, up to 3 times.
 */
async function onFreePort<T>(start: (port: number, attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort(), attempt);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}
