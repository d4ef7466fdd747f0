// tus's upload locks in Redis, so that several api processes can take the PATCHes of one upload: a teacher
// whose connection dropped resumes through whichever process the balancer picks. @tus/server's own
// MemoryLocker holds locks in one process only.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { connectRedis, type RedisTarget } from '@sky/contracts/redis';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Redis } from 'ioredis';

export interface TusRedisLocker extends Locker {
  close(): Promise<void>;
}

export interface TusLockerOptions {
  /** Key and channel prefix (the deployment's QUEUE_PREFIX). */
  prefix: string;
  /** A holder that died keeps its upload locked this long at most; a live holder renews at a third of it. */
  ttlMs?: number;
  /** How long a request waits for the lock before it fails with tus's 500 "lock timeout". */
  acquireTimeoutMs?: number;
  onError: (err: unknown) => void;
}

// Delete / renew only while the value is still our token: a lock that expired and was taken by another
// process is never released or extended by us.
const UNLOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RETRY_MS = 50;

/**
 * A lock is `SET key token NX PX ttl`, renewed while held. A request that finds the upload locked asks
 * the holder, on whichever process it runs, to let go (tus's requestRelease: the holder ends its stalled
 * PATCH, as after a half-open connection) through a pub/sub channel, and retries until it gets the lock.
 */
export async function createTusRedisLocker(
  target: RedisTarget,
  opts: TusLockerOptions,
): Promise<TusRedisLocker> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const acquireTimeoutMs = opts.acquireTimeoutMs ?? 30_000;
  const redis = connectRedis(target, { maxRetriesPerRequest: 2 });
  const sub = connectRedis(target, {});
  redis.on('error', opts.onError);
  sub.on('error', opts.onError);
  for (const r of [redis, sub]) if (r.status !== 'ready') await once(r, 'ready');
  const channel = `${opts.prefix}:tus:release`;
  const key = (id: string) => `${opts.prefix}:tus:lock:{${id}}`;
  /** Uploads this process holds, with what lets each go. */
  const held = new Map<string, RequestRelease>();
  sub.on('message', (_channel: string, id: string) => {
    const release = held.get(id);
    if (release) void Promise.resolve(release()).catch(opts.onError);
  });
  await sub.subscribe(channel);

  class RedisLock implements Lock {
    private token = randomUUID();
    private renewTimer: NodeJS.Timeout | undefined;
    constructor(private readonly id: string) {}

    async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
      const deadline = Date.now() + acquireTimeoutMs;
      let asked = 0;
      while (!signal.aborted && Date.now() < deadline) {
        if ((await redis.set(key(this.id), this.token, 'PX', ttlMs, 'NX')) === 'OK') {
          held.set(this.id, requestRelease);
          this.renewTimer = setInterval(() => {
            redis.eval(RENEW, 1, key(this.id), this.token, ttlMs).catch(opts.onError);
          }, ttlMs / 3);
          this.renewTimer.unref();
          return;
        }
        // the holder is asked again every half second, in case it took the lock after our first ask
        if (Date.now() - asked > 500) {
          asked = Date.now();
          await redis.publish(channel, this.id);
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
      // tus's protocol errors are plain { status_code, body } objects its server answers with
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw ERRORS.ERR_LOCK_TIMEOUT;
    }

    async unlock(): Promise<void> {
      clearInterval(this.renewTimer);
      held.delete(this.id);
      await redis.eval(UNLOCK, 1, key(this.id), this.token);
    }
  }

  return {
    newLock: (id) => new RedisLock(id),
    async close() {
      held.clear();
      for (const r of [sub, redis] as Redis[]) await r.quit().catch(() => r.disconnect());
    },
  };
}
