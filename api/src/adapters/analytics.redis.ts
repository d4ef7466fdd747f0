import { PLATFORMS, type Platform } from '@sky/contracts';
import { connectRedis, type RedisTarget } from '@sky/contracts/redis';
import type { Result } from 'ioredis';

// One shard's ingest, in one atomic step (one round trip per beacon request, its rate limit included).
// KEYS: the shard's stream, its backlog (events appended and not yet applied), the sending client's
// request count, then for each (viewer, session) pair of the batch its dedupe hash and its viewer's
// session budget. ARGV: dedupe ttl, the shard's cap (events), the batch's JSON as received, sessions per
// viewer, budget window (s), requests per client per window (0: not counted here) and that window (ms),
// then (pair number from 1, eventId) per event in the batch's order.
// A client past its requests for the window is refused ({-2, ms until the window ends}). A batch that
// would take the backlog past the cap is refused whole ({-1, …}: nothing written), so nothing unapplied
// is ever trimmed to make room. Otherwise each event is kept once per (viewer, session) hash (HSETNX); a
// session new to its viewer takes one of the viewer's sessions for the window, and past the budget its
// events are not counted (nor is the session remembered, so it is refused again). The batch is appended
// as ONE stream entry — its JSON untouched (no per-event re-serialising) with a mask of the events to
// count ('' = all) and their number → {accepted, duplicates, backlog, over}.
const INGEST = `
if ARGV[6] ~= '0' then
  local n = redis.call('incr', KEYS[3])
  local ttl = redis.call('pttl', KEYS[3])
  if ttl < 0 then
    redis.call('pexpire', KEYS[3], ARGV[7])
    ttl = tonumber(ARGV[7])
  end
  if n > tonumber(ARGV[6]) then return {-2, ttl, 0, 0} end
end
local backlog = tonumber(redis.call('get', KEYS[2]) or '0')
if backlog + (#ARGV - 7) / 2 > tonumber(ARGV[2]) then return {-1, 0, backlog, 0} end
local mask, acc, dup, over, state = {}, 0, 0, 0, {}
for i = 8, #ARGV, 2 do
  local p = tonumber(ARGV[i])
  local dd = KEYS[p * 2 + 2]
  local s = state[p]
  if s == nil then
    s = 'known'
    if redis.call('exists', dd) == 0 then
      local n = redis.call('incr', KEYS[p * 2 + 3])
      if n == 1 then redis.call('expire', KEYS[p * 2 + 3], ARGV[5]) end
      if n > tonumber(ARGV[4]) then s = 'over' end
    end
    state[p] = s
  end
  if s == 'over' then
    over = over + 1
    mask[#mask + 1] = '0'
  elseif redis.call('hsetnx', dd, ARGV[i + 1], '1') == 1 then
    acc = acc + 1
    mask[#mask + 1] = '1'
    if s ~= 'kept' then
      state[p] = 'kept'
      redis.call('expire', dd, ARGV[1])
    end
  else
    dup = dup + 1
    mask[#mask + 1] = '0'
  end
end
if acc > 0 then
  local m = ''
  if dup > 0 or over > 0 then m = table.concat(mask) end
  redis.call('xadd', KEYS[1], '*', 'r', ARGV[3], 'm', m, 'n', acc)
  backlog = redis.call('incrby', KEYS[2], acc)
end
return {acc, dup, backlog, over}`;

// The aggregator's trim after it applied entries. KEYS: the shard's stream, its backlog. ARGV: the id below
// which every entry is applied (the trim point), the events of the entries it trims. XTRIM MINID never
// goes past what is applied; the first call for these entries takes their events off the backlog (a
// repeat trims nothing), and an empty stream has none.
const APPLIED = `
if redis.call('xtrim', KEYS[1], 'MINID', ARGV[1]) > 0 then
  local left = redis.call('decrby', KEYS[2], ARGV[2])
  if left < 0 or redis.call('xlen', KEYS[1]) == 0 then redis.call('set', KEYS[2], '0') end
end
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    skyBeaconIngest(numKeys: number, ...args: string[]): Result<[number, number, number, number], Context>;
    skyBeaconApplied(
      stream: string,
      backlog: string,
      trimBelow: string,
      events: string,
    ): Result<number, Context>;
  }
}

/** One beacon's identity, for deduplication and the viewer's session budget. */
export interface BeaconIds {
  viewerId: string;
  sessionId: string;
  eventId: string;
}

/** One shard's part of a batch: its JSON (`{"events":[…]}`) and the ids of those events, in order. */
export interface ShardPart {
  shard: number;
  json: string;
  ids: readonly BeaconIds[];
}

/**
 * What one batch's store did: counted, repeated, past the viewer's session budget; the largest backlog
 * (events not yet applied) of the shards it went to; `full` when a shard refused its part (over its cap);
 * `limitedMs` when the client is past its requests for the window (nothing taken), until the window ends.
 */
export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  backlog: number;
  over: number;
  full: boolean;
  limitedMs?: number;
}

/**
 * A stream entry: one batch's JSON (`{"events":[…]}`, as validated at ingest) and which of its
 * events count (mask of '1'/'0', '' = all).
 */
export interface StreamEntry {
  id: string;
  batch: string;
  mask: string;
  /** Events that count. */
  count: number;
}

/**
 * The keys of one stream shard. Every key the shard's Lua scripts touch carries the shard's hash tag, so
 * a Redis Cluster keeps them in one slot.
 */
export interface ShardKeys {
  stream: string;
  /** Events appended and not yet applied (the ingest adds, the aggregator's trim takes off). */
  backlog: string;
  /** Per (viewer, session): a hash of the event ids seen. */
  dedupe(viewerId: string, sessionId: string): string;
  /** Per viewer: sessions opened in the current budget window. */
  sessions(viewerId: string): string;
  /** Per sending client (`u:<user>`, `v:<viewer>`): beacon requests in the current window. */
  requests(client: string): string;
}

export interface AnalyticsKeys {
  shards: number;
  shard(n: number): ShardKeys;
  /** The shard of a viewer: all of a viewer's sessions (so each session's events) go to one shard. */
  shardOf(viewerId: string): number;
  uniques(day: string, scope: 'all' | Platform | { lesson: string }): string;
  /**
   * Live sessions (sorted sets of sessionId by last heard, ms): a platform's, a lesson's on a platform
   * (the city's are the platforms' together; its own set, `all`, is no longer written).
   */
  live(scope: 'all' | Platform | LessonPlatform): string;
}

export interface LessonPlatform {
  lesson: string;
  platform: Platform;
}

/** A lesson's live sets expire this long after their last write, so finished lessons leave nothing. */
export const LESSON_LIVE_TTL_SEC = 3600;

/** FNV-1a of a string: the same shard for the same viewer in every process. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function analyticsKeys(prefix: string, shards = 1): AnalyticsKeys {
  const p = `${prefix}:an:`;
  const shardKeys = Array.from({ length: shards }, (_, n): ShardKeys => {
    const tag = `{${prefix}:an:${n}}`;
    return {
      stream: `${tag}:stream`,
      backlog: `${tag}:backlog`,
      dedupe: (viewer, session) => `${tag}:dd:${viewer}:${session}`,
      sessions: (viewer) => `${tag}:vs:${viewer}`,
      requests: (client) => `${tag}:rl:${client}`,
    };
  });
  return {
    shards,
    shard: (n) => {
      const k = shardKeys[n];
      if (!k) throw new Error(`no analytics stream shard ${n} (of ${shards})`);
      return k;
    },
    shardOf: (viewerId) => (shards === 1 ? 0 : fnv1a(viewerId) % shards),
    uniques: (day, scope) =>
      typeof scope === 'string' ? `${p}u:${day}:${scope}` : `${p}u:${day}:l:${scope.lesson}`,
    // The platform before the lesson: lesson ids may hold ':', platforms never do.
    live: (scope) =>
      typeof scope === 'string' ? `${p}live:${scope}` : `${p}live:l:${scope.platform}:${scope.lesson}`,
  };
}

/** The id just after `id` (`<ms>-<seq+1>`): XTRIM MINID to it drops `id` and everything before. */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${(BigInt(seq) + 1n).toString()}`;
}

export interface AnalyticsRedisOptions {
  prefix: string;
  shards: number;
  dedupeTtlSec: number;
  /** Events one shard may hold unapplied; a batch that would pass it is refused whole. */
  shardMaxEvents: number;
  /** Sessions one viewer may open per window. */
  viewerSessions: { max: number; windowSec: number };
  /** Beacon requests one client may send per window. */
  requests: { max: number; windowSec: number };
  /**
   * Replicas that must hold a batch before it is acknowledged (WAIT after the write; 0: no wait). A
   * batch not on them within `timeoutMs` is answered as a failure (503): the client sends it again with
   * the same event ids, which then count once. So a master failover loses no acknowledged event.
   */
  replicaAcks: { replicas: number; timeoutMs: number };
  onError: (err: Error) => void;
}

/** A batch was written to the master but not to enough replicas in time: it is not acknowledged. */
export class NotReplicated extends Error {
  constructor(
    readonly acked: number,
    readonly wanted: number,
  ) {
    super(`batch on ${acked} of ${wanted} replicas in time`);
  }
}

/**
 * Redis for analytics on the request path: commands fail at once while Redis is unreachable (no
 * offline queue), so the ingest answers 503 and clients retry rather than events waiting in memory.
 */
export function createAnalyticsRedis(target: RedisTarget, opts: AnalyticsRedisOptions) {
  const cmd = connectRedis(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 3000,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  cmd.on('error', opts.onError);
  cmd.defineCommand('skyBeaconIngest', { lua: INGEST });
  const keys = analyticsKeys(opts.prefix, opts.shards);
  const call = (part: ShardPart, client: string | null) => {
    const k = keys.shard(part.shard);
    // the client's count lives in the shard of the batch's first viewer (a client's own viewer)
    const callKeys = [k.stream, k.backlog, k.requests(client ?? '-')];
    const args = [
      String(opts.dedupeTtlSec),
      String(opts.shardMaxEvents),
      part.json,
      String(opts.viewerSessions.max),
      String(opts.viewerSessions.windowSec),
      client === null ? '0' : String(opts.requests.max),
      String(opts.requests.windowSec * 1000),
    ];
    const pairs = new Map<string, number>();
    for (const e of part.ids) {
      const dd = k.dedupe(e.viewerId, e.sessionId);
      let n = pairs.get(dd);
      if (n === undefined) {
        n = pairs.size + 1;
        pairs.set(dd, n);
        callKeys.push(dd, k.sessions(e.viewerId));
      }
      args.push(String(n), e.eventId);
    }
    return cmd.skyBeaconIngest(callKeys.length, ...callKeys, ...args);
  };

  return {
    /** The connection, for the rate limiter's store. */
    client: cmd,
    keys,
    /**
     * Stores each part in its shard, one script call each: the first part (the batch's first viewer's
     * shard) counts the client's request first; the others follow in parallel unless it was refused.
     */
    async ingest(parts: readonly ShardPart[], client: string): Promise<IngestOutcome> {
      const [first, ...rest] = parts;
      const out: IngestOutcome = { accepted: 0, duplicates: 0, backlog: 0, over: 0, full: false };
      if (!first) return out;
      const head = await call(first, client);
      if (head[0] === -2) return { ...out, limitedMs: head[1] };
      const results = [head, ...(await Promise.all(rest.map((part) => call(part, null))))];
      for (const [accepted, duplicates, backlog, over] of results) {
        if (accepted < 0) out.full = true;
        else {
          out.accepted += accepted;
          out.duplicates += duplicates;
          out.over += over;
        }
        out.backlog = Math.max(out.backlog, backlog);
      }
      // Duplicates too: their first copy may be one whose acknowledgement failed on this wait.
      const { replicas, timeoutMs } = opts.replicaAcks;
      if (replicas > 0 && out.accepted + out.duplicates > 0) {
        const acked = await cmd.wait(replicas, timeoutMs);
        if (acked < replicas) throw new NotReplicated(acked, replicas);
      }
      return out;
    },
    /** Distinct viewers over the union of the given HyperLogLogs. */
    async uniques(hlls: string[][]): Promise<number[]> {
      if (hlls.length === 0) return [];
      const pipe = cmd.pipeline();
      for (const k of hlls) pipe.pfcount(...k);
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, n]) => {
        if (err) throw err;
        return Number(n);
      });
    },
    /** Sessions with a heartbeat since `sinceMs`, per platform and in all (a session plays on one platform). */
    async liveCounts(sinceMs: number): Promise<Record<Platform | 'all', number>> {
      const pipe = cmd.pipeline();
      for (const p of PLATFORMS) pipe.zcount(keys.live(p), sinceMs, '+inf');
      const res = (await pipe.exec()) ?? [];
      const out = { all: 0, web: 0, tv: 0, 'live-webrtc': 0 };
      PLATFORMS.forEach((p, i) => {
        const [err, n] = res[i] ?? [null, 0];
        if (err) throw err;
        out[p] = Number(n);
        out.all += Number(n);
      });
      return out;
    },
    /** A lesson's sessions with a heartbeat since `sinceMs`, per platform. */
    async lessonLiveCounts(lesson: string, sinceMs: number): Promise<Record<Platform, number>> {
      const pipe = cmd.pipeline();
      for (const platform of PLATFORMS) pipe.zcount(keys.live({ lesson, platform }), sinceMs, '+inf');
      const res = (await pipe.exec()) ?? [];
      const out = { web: 0, tv: 0, 'live-webrtc': 0 };
      PLATFORMS.forEach((platform, i) => {
        const [err, n] = res[i] ?? [null, 0];
        if (err) throw err;
        out[platform] = Number(n);
      });
      return out;
    },
    /**
     * When the oldest entry not yet applied was received (ms), over every shard, given each shard's
     * last applied id; null when everything is applied.
     */
    async oldestUnapplied(appliedUpTo: readonly string[]): Promise<number | null> {
      const pipe = cmd.pipeline();
      for (let n = 0; n < keys.shards; n++)
        pipe.xrange(keys.shard(n).stream, `(${appliedUpTo[n] ?? '0-0'}`, '+', 'COUNT', 1);
      const res = (await pipe.exec()) ?? [];
      let oldest: number | null = null;
      for (const [err, entries] of res) {
        if (err) throw err;
        const id = (entries as [string, string[]][])[0]?.[0];
        if (id === undefined) continue;
        const ms = Number(id.split('-')[0]);
        oldest = oldest === null ? ms : Math.min(oldest, ms);
      }
      return oldest;
    },
    async close() {
      await cmd.quit().catch(() => cmd.disconnect());
    },
  };
}
export type AnalyticsRedis = ReturnType<typeof createAnalyticsRedis>;

/**
 * The side of one shard's aggregator: the shard's stream, read from a position the aggregator keeps (its
 * checkpoint after a restart: it alone reads the shard, under its lease), and trimmed up to what it
 * applied; plus the idempotent Redis rollups (HyperLogLog uniques, the sorted sets of live sessions).
 * Commands wait while Redis reconnects.
 */
export function createAggregatorRedis(
  target: RedisTarget,
  opts: { prefix: string; shards: number; shard: number; hllTtlSec: number },
) {
  const cmd = connectRedis(target, {
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  // Blocking reads get their own connection.
  const reader = connectRedis(target, {
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  cmd.defineCommand('skyBeaconApplied', { numberOfKeys: 2, lua: APPLIED });
  const keys = analyticsKeys(opts.prefix, opts.shards);
  const shard = keys.shard(opts.shard);

  return {
    keys,
    shard: opts.shard,
    onError(fn: (err: Error) => void) {
      cmd.on('error', fn);
      reader.on('error', fn);
    },
    /** Up to `count` entries after the entry `after` ('0-0': from the start), waiting up to `blockMs` for one. */
    async read(after: string, count: number, blockMs: number): Promise<StreamEntry[]> {
      const res = await reader.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', shard.stream, after);
      const entries = res?.[0]?.[1] ?? [];
      return entries.map(([id, fields]) => {
        const e: StreamEntry = { id, batch: '{"events":[]}', mask: '', count: 0 };
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const v = fields[i + 1]!;
          if (fields[i] === 'r') e.batch = v;
          else if (fields[i] === 'm') e.mask = v;
          else if (fields[i] === 'n') e.count = Number(v);
        }
        return e;
      });
    },
    /**
     * Trims the stream up to the last of `entries` (read in stream order from the stream's start or the
     * previous trim, and now applied): only what is applied ever leaves the stream.
     */
    async done(entries: readonly StreamEntry[]): Promise<void> {
      const last = entries.at(-1);
      if (!last) return;
      const events = entries.reduce((n, e) => n + e.count, 0);
      await cmd.skyBeaconApplied(shard.stream, shard.backlog, nextStreamId(last.id), String(events));
    },
    /**
     * Idempotent Redis rollups, applied before the Mongo commit (a replay repeats them harmlessly):
     * PFADD viewers, ZADD GT last-heartbeat times, ZREM ended sessions. A key's members may repeat
     * (PFADD and ZREM ignore repeats; ZADD GT keeps the latest time). The lessons' live sets
     * (`lessonLive`, also among `live`/`ended`) lose their sessions silent since `staleBeforeMs` and
     * expire LESSON_LIVE_TTL_SEC after this write: nothing else trims them.
     */
    async apply(
      uniques: Map<string, readonly string[]>,
      live: Map<string, readonly (string | number)[]>,
      ended: Map<string, readonly string[]>,
      lessonLive: { keys: Iterable<string>; staleBeforeMs: number },
    ): Promise<void> {
      const pipe = cmd.pipeline();
      for (const [key, viewers] of uniques) {
        if (viewers.length === 0) continue;
        pipe.pfadd(key, ...viewers);
        pipe.expire(key, opts.hllTtlSec);
      }
      // (time, sessionId) pairs.
      for (const [key, pairs] of live) if (pairs.length > 0) pipe.zadd(key, 'GT', ...pairs);
      for (const [key, sessions] of ended) if (sessions.length > 0) pipe.zrem(key, ...sessions);
      for (const key of lessonLive.keys) {
        pipe.zremrangebyscore(key, '-inf', `(${lessonLive.staleBeforeMs}`);
        pipe.expire(key, LESSON_LIVE_TTL_SEC);
      }
      const res = (await pipe.exec()) ?? [];
      for (const [err] of res) if (err) throw err;
    },
    /**
     * Drops sessions silent since `beforeMs`; the remaining count per platform and in all. (The city's
     * own set, which older versions wrote beside the platforms', is trimmed too until it is gone.)
     */
    async trimLive(beforeMs: number): Promise<Record<Platform | 'all', number>> {
      const pipe = cmd.pipeline();
      for (const p of PLATFORMS)
        pipe.zremrangebyscore(keys.live(p), '-inf', `(${beforeMs}`).zcard(keys.live(p));
      pipe.zremrangebyscore(keys.live('all'), '-inf', `(${beforeMs}`);
      const res = (await pipe.exec()) ?? [];
      const out = { all: 0, web: 0, tv: 0, 'live-webrtc': 0 };
      PLATFORMS.forEach((p, i) => {
        const [err, n] = res[i * 2 + 1] ?? [null, 0];
        if (err) throw err;
        out[p] = Number(n);
        out.all += Number(n);
      });
      return out;
    },
    async close() {
      reader.disconnect();
      await cmd.quit().catch(() => cmd.disconnect());
    },
  };
}
export type AggregatorRedis = ReturnType<typeof createAggregatorRedis>;
