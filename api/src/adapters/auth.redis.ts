import { once } from 'node:events';
import { connectRedis, type RedisTarget } from '@sky/contracts/redis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Sign-ins whose access tokens the api refuses from now on, on every replica. */
export interface EndedSessions {
  end(sessionIds: readonly string[]): Promise<void>;
  isEnded(sessionId: string): Promise<boolean>;
}

/** Wrong-password counters per username + address and per address (rate-limiter-flexible, in Redis). */
export interface LoginThrottle {
  /** Seconds until this username may be tried again from this address, or null when it may now. */
  retryAfterSec(username: string, address: string): Promise<number | null>;
  failed(username: string, address: string): Promise<void>;
  succeeded(username: string, address: string): Promise<void>;
}

export interface ThrottleLimits {
  maxPerAccount: number;
  maxPerAddress: number;
  windowSec: number;
  blockSec: number;
}

export interface AuthRedis {
  ended: EndedSessions;
  throttle: LoginThrottle;
  close(): Promise<void>;
}

export async function createAuthRedis(
  target: RedisTarget,
  opts: {
    prefix: string;
    /** An ended sign-in is remembered as long as an access token issued before its end may live. */
    accessTtlSec: number;
    limits: ThrottleLimits;
    onError: (err: unknown) => void;
  },
): Promise<AuthRedis> {
  // No offline queue: while Redis is away commands fail at once instead of holding requests.
  const redis = connectRedis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', opts.onError);
  if (redis.status !== 'ready') await once(redis, 'ready');

  const endedKey = (id: string) => `${opts.prefix}:auth:ended:${id}`;
  const ended: EndedSessions = {
    async end(ids) {
      if (ids.length === 0) return;
      const multi = redis.multi();
      for (const id of ids) multi.set(endedKey(id), '1', 'EX', opts.accessTtlSec);
      await multi.exec();
    },
    async isEnded(id) {
      try {
        return (await redis.exists(endedKey(id))) === 1;
      } catch (err) {
        // Redis away: access tokens still expire within their short lifetime; refusing everyone is worse.
        opts.onError(err);
        return false;
      }
    },
  };

  const { limits } = opts;
  const limiter = (name: string, points: number): RateLimiterAbstract =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${opts.prefix}:auth:login:${name}`,
      points,
      duration: limits.windowSec,
      rejectIfRedisNotReady: true,
      // While Redis is away each replica counts for itself rather than letting every guess through.
      insuranceLimiter: new RateLimiterMemory({ points, duration: limits.windowSec }),
    });
  const perAccount = { rl: limiter('account', limits.maxPerAccount), max: limits.maxPerAccount };
  const perAddress = { rl: limiter('address', limits.maxPerAddress), max: limits.maxPerAddress };
  const accountKey = (username: string, address: string) => `${username.toLowerCase()}_${address}`;

  const throttle: LoginThrottle = {
    async retryAfterSec(username, address) {
      const [acc, addr] = await Promise.all([
        perAccount.rl.get(accountKey(username, address)),
        perAddress.rl.get(address),
      ]);
      const blockedMs = Math.max(
        acc && acc.consumedPoints >= perAccount.max ? acc.msBeforeNext : 0,
        addr && addr.consumedPoints >= perAddress.max ? addr.msBeforeNext : 0,
      );
      return blockedMs > 0 ? Math.max(1, Math.ceil(blockedMs / 1000)) : null;
    },
    async failed(username, address) {
      for (const [limit, key] of [
        [perAccount, accountKey(username, address)],
        [perAddress, address],
      ] as const) {
        const res = await limit.rl.penalty(key, 1);
        if (res.consumedPoints >= limit.max) await limit.rl.block(key, limits.blockSec);
      }
    },
    async succeeded(username, address) {
      await perAccount.rl.delete(accountKey(username, address));
    },
  };

  return {
    ended,
    throttle,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
