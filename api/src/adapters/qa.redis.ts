import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createAdapter } from '@socket.io/redis-adapter';
import { connectRedis, type RedisTarget } from '@sky/contracts/redis';

/** The audiences of a lesson's room: its staff, its peers, or one user's own connections. */
export type RoomRef = 'staff' | 'peers' | { user: string };

/** The socket.io room of an audience; the namespace joins sockets to these, commits publish to them. */
export function qaRoom(lessonId: string, ref: RoomRef): string {
  return typeof ref === 'string'
    ? `${qaRoomPrefix(lessonId)}${ref}`
    : `${qaRoomPrefix(lessonId)}u:${ref.user}`;
}

/** Every room of one lesson starts with this. */
export function qaRoomPrefix(lessonId: string): string {
  return `qa:${lessonId}:`;
}

/** One event for one audience, built around the sequence number the commit assigns. */
export interface Delivery {
  to: RoomRef;
  except?: RoomRef;
  event: string;
  payload: (seq: number) => unknown;
}

export interface Commit {
  lessonId: string;
  questionId: string;
  /** The question's revision after this change (Mongo counts them). */
  rev: number;
  /** What the room log keeps for `room:join {since}`. */
  log: (seq: number) => unknown;
  deliveries: Delivery[];
}

export interface QaRedis {
  /**
   * In one atomic step: unless a newer revision of the question was committed already (its snapshot
   * includes this change), takes the room's next sequence number, appends the log entry and publishes
   * every delivery on the socket.io adapter's channels. Redis runs it alone, so every api process
   * receives the room's events in sequence order. `published` false: superseded, `seq` is the
   * question's latest.
   */
  commit(c: Commit): Promise<{ seq: number; published: boolean }>;
  /** An event outside the sequence (a mute notice) to one audience, on every api process. */
  notify(lessonId: string, to: RoomRef, event: string, payload: unknown): Promise<void>;
  /**
   * The room's latest sequence number and the log entries after `since`, in order; `entries` is
   * null when the log no longer holds them all (or more than `max`), or `since` is from the future.
   */
  replay(lessonId: string, since: number, max: number): Promise<{ latest: number; entries: string[] | null }>;
  latest(lessonId: string): Promise<number>;
  /** Each question's latest sequence number (0 when unknown). */
  questionSeqs(lessonId: string, questionIds: string[]): Promise<number[]>;
  /** True (and the slot is taken for `windowSec`) when `name` was not taken. */
  takeSlot(name: string, windowSec: number): Promise<boolean>;
  /** Counts one hit in a fixed window that starts with the first hit; the count so far. */
  hit(name: string, windowSec: number): Promise<number>;
  /** Saves a pairing code unless it is in use. */
  savePairing(code: string, value: string, ttlSec: number): Promise<boolean>;
  /** The first phone to claim a code keeps it: answers the user who holds it now (`userId` if nobody did). */
  claimPairing(code: string, userId: string, ttlSec: number): Promise<string | null>;
  /** The code's value, the phone holding it and the TV's last playback report, each null when absent. */
  pairingState(
    code: string,
  ): Promise<{ value: string | null; holder: string | null; playback: string | null }>;
  /** Saves the TV's playback and keeps the code (and its holder) for `ttlSec` more; whether a phone holds it. */
  savePairingPlayback(
    code: string,
    playback: string,
    ttlSec: number,
  ): Promise<'expired' | 'open' | 'claimed'>;
}

// KEYS: seq counter, log (sorted set by seq), question state hash (r:<id> revision, s:<id> seq).
// ARGV: question id, revision, log cap, state ttl, log ttl, then the log entry and each message as
// `channel, n, part1 … partn`: the parts are joined with the sequence number in between.
const COMMIT = `
local function parts(i)
  local n = tonumber(ARGV[i])
  local t = {}
  for k = 1, n do t[k] = ARGV[i + k] end
  return t, i + n + 1
end
local rf, sf = 'r:' .. ARGV[1], 's:' .. ARGV[1]
local last = tonumber(redis.call('hget', KEYS[3], rf) or '0')
if tonumber(ARGV[2]) <= last then
  return {0, tonumber(redis.call('hget', KEYS[3], sf) or '0')}
end
local seq = redis.call('incr', KEYS[1])
local s = tostring(seq)
redis.call('hset', KEYS[3], rf, ARGV[2], sf, s)
local t, i = parts(6)
redis.call('zadd', KEYS[2], seq, table.concat(t, s))
redis.call('zremrangebyrank', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('expire', KEYS[1], ARGV[4])
redis.call('expire', KEYS[3], ARGV[4])
redis.call('expire', KEYS[2], ARGV[5])
while i <= #ARGV do
  local channel = ARGV[i]
  t, i = parts(i + 1)
  redis.call('publish', channel, table.concat(t, s))
end
return {seq, seq}`;

// KEYS: seq counter, log. ARGV: since, max. → {latest, 1, entries} or {latest, 0}.
const REPLAY = `
local latest = tonumber(redis.call('get', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
if since > latest or latest - since > tonumber(ARGV[2]) then return {latest, 0} end
if since == latest then return {latest, 1, {}} end
local first = redis.call('zrange', KEYS[2], 0, 0, 'WITHSCORES')
if #first == 0 or tonumber(first[2]) > since + 1 then return {latest, 0} end
return {latest, 1, redis.call('zrangebyscore', KEYS[2], '(' .. since, '+inf')}`;

const HIT = `
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return n`;

// KEYS: the code, its holder, its playback. A code that has expired stays expired.
const SAVE_PLAYBACK = `
if redis.call('expire', KEYS[1], ARGV[2]) == 0 then return 0 end
local held = redis.call('expire', KEYS[2], ARGV[2])
redis.call('set', KEYS[3], ARGV[1], 'EX', ARGV[2])
return 1 + held`;

/**
 * A room's log serves reconnects, so it keeps the last 1000 events for two days; its sequence counter
 * and per-question state live 30 days after its last change (an older `since` gets a fresh page).
 */
const LOG_CAP = 1000;
const LOG_TTL_SEC = 2 * 24 * 3600;
const ROOM_TTL_SEC = 30 * 24 * 3600;
/** The socket.io-parser packet type of an event. */
const EVENT_PACKET = 2;
/** The publisher id of commits: no adapter has it, so every api process (this one too) delivers them. */
const COMMIT_UID = 'qa-commit';

/** JSON on the adapter's channels, so that a Lua script can write messages the adapter reads. */
const jsonParser = {
  encode: (msg: unknown) => JSON.stringify(msg),
  decode: (msg: Buffer | string) => JSON.parse(String(msg)) as unknown,
};

export interface QaRedisOptions {
  /** Key prefix for Q&A state (the api's QUEUE_PREFIX). */
  prefix: string;
  /** The socket.io adapter's channel prefix. */
  adapterKey: string;
  namespace: string;
  onError: (err: Error) => void;
}

/**
 * Redis for Q&A: sequence numbers, room logs, rate limits and pairing codes on one connection, and the
 * socket.io Redis adapter (that connection to publish, a second one to subscribe), whose channels the
 * commit script publishes to directly.
 */
export async function createQaRedis(target: RedisTarget, opts: QaRedisOptions) {
  const cmd = connectRedis(target, { maxRetriesPerRequest: 3 });
  const sub = connectRedis(target);
  for (const c of [cmd, sub]) c.on('error', opts.onError);
  // The adapter subscribes at once; on a connection still in its ready check that subscription is lost.
  await Promise.all([cmd, sub].filter((c) => c.status !== 'ready').map((c) => once(c, 'ready')));
  const socketAdapter = createAdapter(cmd, sub, {
    key: opts.adapterKey,
    parser: jsonParser,
    requestsTimeout: 2000,
  });

  const p = `${opts.prefix}:qa:`;
  // One hash tag per room keeps a room's keys in one slot, should this ever run on a cluster.
  const roomKey = (lessonId: string, what: 'seq' | 'log' | 'state') => `${p}{${lessonId}}:${what}`;
  const roomKeys = (lessonId: string) =>
    [roomKey(lessonId, 'seq'), roomKey(lessonId, 'log'), roomKey(lessonId, 'state')] as const;
  const channel = (room: string) => `${opts.adapterKey}#${opts.namespace}#${room}#`;
  // A placeholder no real text contains, split out of the serialised JSON where the seq goes.
  const sentinel = `@@seq-${randomUUID()}@@`;
  const marker = JSON.stringify(sentinel);
  const split = (build: (seq: number) => unknown) => {
    const parts = JSON.stringify(build(sentinel as unknown as number)).split(marker);
    return [String(parts.length), ...parts];
  };
  const message = (lessonId: string, to: RoomRef, except: RoomRef | undefined, event: string) => {
    const room = qaRoom(lessonId, to);
    return {
      channel: channel(room),
      wrap: (payload: unknown) => [
        COMMIT_UID,
        { type: EVENT_PACKET, data: [event, payload], nsp: opts.namespace },
        { rooms: [room], except: except ? [qaRoom(lessonId, except)] : [], flags: {} },
      ],
    };
  };

  const store: QaRedis = {
    async commit(c) {
      const args = [c.questionId, String(c.rev), String(LOG_CAP), String(ROOM_TTL_SEC), String(LOG_TTL_SEC)];
      args.push(...split(c.log));
      for (const d of c.deliveries) {
        const m = message(c.lessonId, d.to, d.except, d.event);
        args.push(m.channel, ...split((seq) => m.wrap(d.payload(seq))));
      }
      const [seq, latest] = (await cmd.eval(COMMIT, 3, ...roomKeys(c.lessonId), ...args)) as [number, number];
      return seq > 0 ? { seq, published: true } : { seq: latest, published: false };
    },
    async notify(lessonId, to, event, payload) {
      const m = message(lessonId, to, undefined, event);
      await cmd.publish(m.channel, JSON.stringify(m.wrap(payload)));
    },
    async replay(lessonId, since, max) {
      const [seqKey, logKey] = roomKeys(lessonId);
      const [latest, ok, entries] = (await cmd.eval(REPLAY, 2, seqKey, logKey, since, max)) as [
        number,
        number,
        string[]?,
      ];
      return { latest, entries: ok === 1 ? (entries ?? []) : null };
    },
    async latest(lessonId) {
      return Number((await cmd.get(roomKey(lessonId, 'seq'))) ?? 0);
    },
    async questionSeqs(lessonId, ids) {
      if (ids.length === 0) return [];
      const found = await cmd.hmget(roomKey(lessonId, 'state'), ...ids.map((id) => `s:${id}`));
      return found.map((s) => Number(s ?? 0));
    },
    async takeSlot(name, windowSec) {
      return (await cmd.set(`${p}slot:${name}`, '1', 'EX', windowSec, 'NX')) === 'OK';
    },
    async hit(name, windowSec) {
      return Number(await cmd.eval(HIT, 1, `${p}hits:${name}`, windowSec));
    },
    async savePairing(code, value, ttlSec) {
      return (await cmd.set(`${p}pairing:${code}`, value, 'EX', ttlSec, 'NX')) === 'OK';
    },
    async pairingState(code) {
      const [value = null, holder = null, playback = null] = await cmd.mget(
        `${p}pairing:${code}`,
        `${p}pairing:${code}:by`,
        `${p}pairing:${code}:playback`,
      );
      return { value, holder, playback };
    },
    async savePairingPlayback(code, playback, ttlSec) {
      const keys = [`${p}pairing:${code}`, `${p}pairing:${code}:by`, `${p}pairing:${code}:playback`];
      const saved = await cmd.eval(SAVE_PLAYBACK, 3, ...keys, playback, ttlSec);
      return saved === 2 ? 'claimed' : saved === 1 ? 'open' : 'expired';
    },
    async claimPairing(code, userId, ttlSec) {
      const key = `${p}pairing:${code}:by`;
      const res = await cmd.multi().set(key, userId, 'EX', ttlSec, 'NX').get(key).exec();
      const [err, holder] = res?.[1] ?? [null, null];
      if (err) throw err;
      return typeof holder === 'string' ? holder : null;
    },
  };

  return {
    store,
    socketAdapter,
    async close() {
      sub.disconnect();
      await cmd.quit().catch(() => cmd.disconnect());
    },
  };
}
