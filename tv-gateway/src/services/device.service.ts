import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import {
  AppError,
  type AccessClaims,
  type Device,
  type DeviceCodeResponse,
  type DeviceTokenError,
  type DeviceTokenResponse,
} from '@sky/contracts';
import type { DeviceStore } from '../adapters/device.store.js';

/** RFC 8628 §6.1: consonants only, so no word can be spelled and no letter mistaken for a digit. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
const TOKEN_PREFIX = 'stb_';
const DEFAULT_NAME = '机顶盒';
/** Brute force of the 8-letter code (20^8): few misses per person, more per address (a school's NAT). */
const LIMITS = {
  codesPerIp: { max: 20, windowSec: 60 },
  missesPerUser: { max: 5, windowSec: 600 },
  missesPerIp: { max: 30, windowSec: 600 },
};
/** lastSeenAt is written at most this often, so each playlist request does not write to Redis. */
const SEEN_RESOLUTION_SEC = 60;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** 8 letters from the alphabet, drawn uniformly. */
export function newUserCode(): string {
  return Array.from({ length: USER_CODE_LENGTH }, () => USER_CODE_ALPHABET[randomInt(20)]).join('');
}

/** What the user types, however spaced or cased, as stored: `bcdf-ghjk` → `BCDFGHJK`. */
export function normalizeUserCode(input: string): string {
  return input.toUpperCase().replace(/[^A-Z]/g, '');
}

/** As the TV shows it: `BCDFGHJK` → `BCDF-GHJK`. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** An RFC 8628 §3.5 answer to a poll: the token endpoint sends it as `{ error, error_description }`. */
export class DeviceFlowError extends Error {
  constructor(
    readonly error: DeviceTokenError['error'],
    message: string,
  ) {
    super(message);
    this.name = 'DeviceFlowError';
  }
}

export interface DeviceServiceOptions {
  /** The web client's page where a signed-in family member types the code. */
  verificationUri: string;
  codeTtlSec?: number;
  intervalSec?: number;
  /** Epoch seconds. */
  now?: () => number;
}

/**
 * Pairing set-top boxes with a household (OAuth 2.0 device authorization grant, RFC 8628): the box
 * gets a code, a family member confirms it while signed in, the box polls and gets a device token
 * once. The household is the approving account; the grades are that account's grade, or all.
 */
export class DeviceService {
  private readonly codeTtlSec: number;
  private readonly intervalSec: number;
  private readonly now: () => number;

  constructor(
    private readonly store: DeviceStore,
    private readonly opts: DeviceServiceOptions,
  ) {
    this.codeTtlSec = opts.codeTtlSec ?? 600;
    this.intervalSec = opts.intervalSec ?? 5;
    this.now = opts.now ?? (() => Date.now() / 1000);
  }

  /** A new device code for a box; `ip` is the box's address, for the per-address limit. */
  async requestCode(name?: string, ip?: string): Promise<DeviceCodeResponse> {
    if (ip !== undefined) await this.limit(`code:ip:${ip}`, LIMITS.codesPerIp);
    const deviceCode = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.codeTtlSec;
    // A collision with a live user code is rare (20^8 codes); draw again when it happens.
    for (let attempt = 0; attempt < 5; attempt++) {
      const userCode = newUserCode();
      const created = await this.store.createCode(
        sha256(deviceCode),
        {
          status: 'pending',
          userCodeHash: sha256(userCode),
          ...(name === undefined ? {} : { name }),
          expiresAt,
          interval: this.intervalSec,
        },
        // Kept past expiry so a late poll hears expired_token rather than invalid_grant.
        2 * this.codeTtlSec,
        this.codeTtlSec,
      );
      if (!created) continue;
      const shown = formatUserCode(userCode);
      return {
        device_code: deviceCode,
        user_code: shown,
        verification_uri: this.opts.verificationUri,
        verification_uri_complete: `${this.opts.verificationUri}?code=${shown}`,
        expires_in: this.codeTtlSec,
        interval: this.intervalSec,
      };
    }
    throw new AppError('DEPENDENCY_DOWN', 'could not allocate a pairing code; try again');
  }

  /** The box's poll: a token once approved, otherwise a DeviceFlowError saying why not yet (or never). */
  async poll(deviceCode: string): Promise<DeviceTokenResponse> {
    const codeHash = sha256(deviceCode);
    const code = await this.store.getCode(codeHash);
    if (!code)
      throw new DeviceFlowError('invalid_grant', 'unknown device code, or its token was already issued');
    const now = this.now();
    if (now >= code.expiresAt)
      throw new DeviceFlowError('expired_token', 'the code has expired; ask for a new one');
    switch (code.status) {
      case 'denied':
        throw new DeviceFlowError('access_denied', 'the family declined this device');
      case 'approved':
        return this.redeem(codeHash);
      case 'pending': {
        if (code.lastPollAt !== undefined && now - code.lastPollAt < code.interval) {
          // RFC 8628 §3.5: the interval grows by 5 seconds for this and every later poll.
          const interval = code.interval + 5;
          await this.store.recordPoll(codeHash, now, interval);
          throw new DeviceFlowError('slow_down', `poll at most every ${interval} seconds`);
        }
        await this.store.recordPoll(codeHash, now, code.interval);
        throw new DeviceFlowError('authorization_pending', 'waiting for a family member to confirm the code');
      }
    }
  }

  /** A family member (or student) confirms the code on their TV; the box becomes their household's. */
  async approve(actor: AccessClaims, userCode: string, name?: string, ip?: string): Promise<Device> {
    const householdId = householdOf(actor);
    return this.attempt(actor, ip, async () => {
      const found = await this.pendingCode(userCode);
      if (!found) return undefined;
      const device: Device = {
        id: randomUUID(),
        name: name ?? found.code.name ?? DEFAULT_NAME,
        householdId,
        // householdOf let only these two through; the gateway asks the api as this account (Q&A codes)
        householdRole: actor.role === 'student' ? 'student' : 'family',
        grades: actor.grade === undefined ? [] : [actor.grade],
        pairedAt: this.isoNow(),
      };
      // False when someone else confirmed (or declined) the same code a moment ago.
      return (await this.store.approveCode(found.codeHash, device)) ? device : undefined;
    });
  }

  /** "This is not my TV": the box hears access_denied and the code stops working. */
  async deny(actor: AccessClaims, userCode: string, ip?: string): Promise<void> {
    householdOf(actor);
    await this.attempt(actor, ip, async () => {
      const found = await this.pendingCode(userCode);
      return found && (await this.store.denyCode(found.codeHash)) ? true : undefined;
    });
  }

  /** The paired device a token belongs to; undefined for an unknown or revoked token. */
  async verifyToken(token: string): Promise<Device | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
    const device = await this.store.deviceByTokenHash(sha256(token));
    if (!device) return undefined;
    const now = this.now();
    const seen = device.lastSeenAt === undefined ? undefined : Date.parse(device.lastSeenAt) / 1000;
    if (seen === undefined || now - seen >= SEEN_RESOLUTION_SEC) {
      const updated = { ...device, lastSeenAt: this.isoNow() };
      await this.store.updateDevice(updated);
      return updated;
    }
    return device;
  }

  async requireToken(token: string | undefined): Promise<Device> {
    if (!token)
      throw new AppError('UNAUTHENTICATED', 'this needs a paired device (Authorization: Bearer stb_…)');
    const device = await this.verifyToken(token);
    if (!device)
      throw new AppError('UNAUTHENTICATED', 'the device token is not valid or was removed; pair again');
    return device;
  }

  /** The devices of the actor's household, oldest first. */
  async list(actor: AccessClaims): Promise<Device[]> {
    const devices = await this.store.listDevices(householdOf(actor));
    return devices.sort((a, b) => a.pairedAt.localeCompare(b.pairedAt) || a.id.localeCompare(b.id));
  }

  /** Unpairs a device; its token stops working at once. Another household's device is "not found". */
  async revoke(actor: AccessClaims, deviceId: string): Promise<void> {
    const device = await this.store.getDevice(deviceId);
    if (!device || device.householdId !== householdOf(actor)) {
      throw new AppError('NOT_FOUND', 'no such device in your household');
    }
    await this.store.removeDevice(device);
  }

  /** Takes the token of an approved code: only the first poll after approval gets it. */
  private async redeem(codeHash: string): Promise<DeviceTokenResponse> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const redeemed = await this.store.redeemCode(codeHash, sha256(token));
    switch (redeemed.outcome) {
      case 'issued':
        return { access_token: token, token_type: 'Bearer', device: redeemed.device };
      case 'revoked':
        throw new DeviceFlowError('access_denied', 'the device was removed before it was paired');
      case 'gone':
        throw new DeviceFlowError('invalid_grant', 'the token for this code was already issued');
    }
  }

  private async pendingCode(userCode: string) {
    const found = await this.store.findByUserCode(sha256(normalizeUserCode(userCode)));
    if (!found || found.code.status !== 'pending' || this.now() >= found.code.expiresAt) return undefined;
    return found;
  }

  /**
   * One try at a user code. Each try first counts as a miss against the account and the address (so
   * parallel guesses cannot overshoot the limit); a try that finds its code takes the miss back. The
   * account's budget always holds; the address's (many accounts guessing from one place) holds only
   * accounts that have missed there themselves, so a family typing its right code is never refused for
   * what others behind the same address (a school, a carrier's NAT) got wrong.
   */
  private async attempt<T>(
    actor: AccessClaims,
    ip: string | undefined,
    tryCode: () => Promise<T | undefined>,
  ): Promise<T> {
    const account = { name: `approve:user:${actor.sub}`, ...LIMITS.missesPerUser };
    const place = ip === undefined ? undefined : { name: `approve:ip:${ip}`, ...LIMITS.missesPerIp };
    const counters = place ? [account, place] : [account];
    const [own = 0, here = 0] = await Promise.all(counters.map((c) => this.store.hit(c.name, c.windowSec)));
    const refund = async () => {
      await Promise.all(counters.map((c) => this.store.unhit(c.name)));
    };
    const missedBefore = own > 1;
    if (own > account.max || (place !== undefined && here > place.max && missedBefore)) {
      await refund();
      throw new AppError('RATE_LIMITED', 'too many wrong codes; wait 10 minutes and try again');
    }
    const result = await tryCode();
    if (result === undefined) throw new AppError('NOT_FOUND', 'the code is wrong or has expired');
    await refund();
    return result;
  }

  private async limit(counter: string, l: { max: number; windowSec: number }): Promise<void> {
    if ((await this.store.hit(counter, l.windowSec)) > l.max) {
      throw new AppError('RATE_LIMITED', `too many requests; wait ${l.windowSec} seconds`);
    }
  }

  private isoNow(): string {
    return new Date(this.now() * 1000).toISOString();
  }
}

/** Devices belong to a family: the account of a parent or of a student. */
function householdOf(actor: AccessClaims): string {
  switch (actor.role) {
    case 'family':
    case 'student':
      return actor.sub;
    case 'teacher':
    case 'analyst':
    case 'admin':
      throw new AppError('FORBIDDEN', 'a TV is paired with a family or student account');
  }
}
