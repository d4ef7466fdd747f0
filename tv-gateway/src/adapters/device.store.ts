import { Device } from '@sky/contracts';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A device code while the box waits for a family member; stored under the SHA-256 of the code. */
export const PendingCode = z.object({
  status: z.enum(['pending', 'approved', 'denied']),
  /** SHA-256 of the user code, to drop its index once the code is decided. */
  userCodeHash: z.string(),
  /** What the box asked to be called, if anything. */
  name: z.string().optional(),
  /** Set on approval: the device the box will get a token for. */
  deviceId: z.string().optional(),
  /** Epoch seconds. */
  expiresAt: z.coerce.number(),
  lastPollAt: z.coerce.number().optional(),
  /** Seconds the box must wait between polls; grows by 5 with each slow_down (RFC 8628 §3.5). */
  interval: z.coerce.number(),
});
export type PendingCode = z.infer<typeof PendingCode>;

/** What redeeming an approved code gave: the device, a device revoked before pickup, or nothing. */
export type Redemption = { outcome: 'issued'; device: Device } | { outcome: 'revoked' } | { outcome: 'gone' };

/**
 * Device codes, paired devices and rate-limit counters. Only SHA-256 hashes of device codes, user
 * codes and device tokens are kept, never the secrets themselves.
 */
export interface DeviceStore {
  /** Saves a new code and its user-code index; false when that user code is in use (draw another). */
  createCode(codeHash: string, code: PendingCode, ttlSec: number, userCodeTtlSec: number): Promise<boolean>;
  getCode(codeHash: string): Promise<PendingCode | undefined>;
  findByUserCode(userCodeHash: string): Promise<{ codeHash: string; code: PendingCode } | undefined>;
  /** Records a poll (and the interval from now on); nothing happens when the code is gone. */
  recordPoll(codeHash: string, at: number, interval: number): Promise<void>;
  /** pending → approved and the device saved, in one step; false when the code was no longer pending. */
  approveCode(codeHash: string, device: Device): Promise<boolean>;
  /** pending → denied; false when the code was no longer pending. */
  denyCode(codeHash: string): Promise<boolean>;
  /** Takes an approved code away (once) and binds the token's hash to its device. */
  redeemCode(codeHash: string, tokenHash: string): Promise<Redemption>;
  deviceByTokenHash(tokenHash: string): Promise<Device | undefined>;
  getDevice(id: string): Promise<Device | undefined>;
  listDevices(householdId: string): Promise<Device[]>;
  /** Saves a changed device, unless it has been removed meanwhile. */
  updateDevice(device: Device): Promise<void>;
  /** Removes the device and its token at once. */
  removeDevice(device: Device): Promise<void>;
  /** Counts one hit in a fixed window that starts with the first hit; returns the count so far. */
  hit(counter: string, windowSec: number): Promise<number>;
  /** Takes back a hit (an attempt that turned out not to count); nothing happens once the window is over. */
  unhit(counter: string): Promise<void>;
}

// Each script is one atomic step, so concurrent polls, approvals and revocations cannot interleave.
const CREATE_CODE = `
if not redis.call('set', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 4))
redis.call('expire', KEYS[1], ARGV[3])
return 1`;
const RECORD_POLL = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'lastPollAt', ARGV[1], 'interval', ARGV[2])
return 1`;
const APPROVE = `
if redis.call('hget', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('hset', KEYS[1], 'status', 'approved', 'deviceId', ARGV[1])
redis.call('del', ARGV[3] .. 'ucode:' .. redis.call('hget', KEYS[1], 'userCodeHash'))
redis.call('set', KEYS[2], ARGV[2])
redis.call('sadd', KEYS[3], ARGV[1])
return 1`;
const DENY = `
if redis.call('hget', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('hset', KEYS[1], 'status', 'denied')
redis.call('del', ARGV[1] .. 'ucode:' .. redis.call('hget', KEYS[1], 'userCodeHash'))
return 1`;
const REDEEM = `
if redis.call('hget', KEYS[1], 'status') ~= 'approved' then return false end
local id = redis.call('hget', KEYS[1], 'deviceId')
redis.call('del', KEYS[1])
if redis.call('exists', ARGV[1] .. 'device:' .. id) == 0 then return '' end
redis.call('set', ARGV[1] .. 'token:' .. ARGV[2], id)
redis.call('set', ARGV[1] .. 'devtoken:' .. id, ARGV[2])
return id`;
const REMOVE_DEVICE = `
local tokenHash = redis.call('get', KEYS[2])
if tokenHash then redis.call('del', ARGV[1] .. 'token:' .. tokenHash) end
redis.call('srem', KEYS[3], ARGV[2])
return redis.call('del', KEYS[1], KEYS[2])`;
const HIT = `
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return n`;
const UNHIT = `
if redis.call('exists', KEYS[1]) == 1 then redis.call('decr', KEYS[1]) end
return 0`;

function parseDevice(json: string | null): Device | undefined {
  if (json === null) return undefined;
  const parsed = Device.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : undefined;
}

/** Keys: code:<sha256>, ucode:<sha256>, device:<id>, devtoken:<id>, token:<sha256>, household:<id>, rl:<counter>. */
export function redisDeviceStore(redis: Redis, prefix: string): DeviceStore {
  const p = `${prefix}:`;
  const key = {
    code: (h: string) => `${p}code:${h}`,
    userCode: (h: string) => `${p}ucode:${h}`,
    device: (id: string) => `${p}device:${id}`,
    deviceToken: (id: string) => `${p}devtoken:${id}`,
    token: (h: string) => `${p}token:${h}`,
    household: (id: string) => `${p}household:${id}`,
    counter: (name: string) => `${p}rl:${name}`,
  };
  const getCode = async (codeHash: string) => {
    const fields = await redis.hgetall(key.code(codeHash));
    const parsed = PendingCode.safeParse(fields);
    return parsed.success ? parsed.data : undefined;
  };
  const getDevice = async (id: string) => parseDevice(await redis.get(key.device(id)));

  return {
    async createCode(codeHash, code, ttlSec, userCodeTtlSec) {
      const fields = Object.entries(code).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
      const created = await redis.eval(
        CREATE_CODE,
        2,
        key.code(codeHash),
        key.userCode(code.userCodeHash),
        codeHash,
        userCodeTtlSec,
        ttlSec,
        ...fields,
      );
      return created === 1;
    },
    getCode,
    async findByUserCode(userCodeHash) {
      const codeHash = await redis.get(key.userCode(userCodeHash));
      if (codeHash === null) return undefined;
      const code = await getCode(codeHash);
      return code && { codeHash, code };
    },
    async recordPoll(codeHash, at, interval) {
      await redis.eval(RECORD_POLL, 1, key.code(codeHash), at, interval);
    },
    async approveCode(codeHash, device) {
      const approved = await redis.eval(
        APPROVE,
        3,
        key.code(codeHash),
        key.device(device.id),
        key.household(device.householdId),
        device.id,
        JSON.stringify(device),
        p,
      );
      return approved === 1;
    },
    async denyCode(codeHash) {
      return (await redis.eval(DENY, 1, key.code(codeHash), p)) === 1;
    },
    async redeemCode(codeHash, tokenHash) {
      const id = await redis.eval(REDEEM, 1, key.code(codeHash), p, tokenHash);
      if (typeof id !== 'string') return { outcome: 'gone' };
      const device = id === '' ? undefined : await getDevice(id);
      return device ? { outcome: 'issued', device } : { outcome: 'revoked' };
    },
    async deviceByTokenHash(tokenHash) {
      const id = await redis.get(key.token(tokenHash));
      return id === null ? undefined : getDevice(id);
    },
    getDevice,
    async listDevices(householdId) {
      const ids = await redis.smembers(key.household(householdId));
      if (ids.length === 0) return [];
      const found = await redis.mget(ids.map(key.device));
      return found.flatMap((json) => parseDevice(json) ?? []);
    },
    async updateDevice(device) {
      await redis.set(key.device(device.id), JSON.stringify(device), 'XX');
    },
    async removeDevice(device) {
      await redis.eval(
        REMOVE_DEVICE,
        3,
        key.device(device.id),
        key.deviceToken(device.id),
        key.household(device.householdId),
        p,
        device.id,
      );
    },
    async hit(counter, windowSec) {
      return Number(await redis.eval(HIT, 1, key.counter(counter), windowSec));
    },
    async unhit(counter) {
      await redis.eval(UNHIT, 1, key.counter(counter));
    },
  };
}
