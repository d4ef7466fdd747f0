// Every server-side Redis connection is made here, so each one follows a Sentinel failover the same way.
// A separate entry (@sky/contracts/redis) so browsers never load ioredis.
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './config.js';

export type { RedisTarget } from './config.js';

/**
 * A connection to `target` with the caller's options. Under Sentinel ioredis asks the sentinels for the
 * master on every (re)connect, and drops a connection to a node that has become a replica (its
 * READONLY answer), so commands go to the new master once the sentinels promoted it.
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): Redis {
  if ('url' in target) return new Redis(target.url, options);
  return new Redis({
    ...options,
    sentinels: target.sentinels,
    name: target.master,
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.password ? { password: target.password } : {}),
    // A demoted master answers writes with READONLY: reconnect, which finds the new master.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    // Sentinels are asked again at once after a failover; keep trying them (not give up after a few).
    sentinelRetryStrategy: (n) => Math.min(100 * n, 1000),
  });
}
