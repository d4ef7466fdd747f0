import { PLATFORMS, type Platform } from '@sky/contracts';
import { Redis, type Result } from 'ioredis';

// KEYS: the stream. ARGV: dedupe key prefix, dedupe ttl, stream cap, the batch's JSON as received,
// session-budget key prefix, sessions per viewer, budget window (s), then (viewerId, sessionId, eventId)
// triples in the batch's order. Each event is kept once per (viewer, session) hash (HSETNX); a session
// new to its viewer takes one of the viewer's sessions for the window, and past the budget its events
// are not counted (nor is the session remembered, so it is refused again). The batch is appended as ONE
// stream entry — its JSON untouched (no per-event re-serialising) with a mask of the events to count
// ('' = all) — in one atomic step → {accepted, duplicates, backlog, over} (backlog: entries not yet
// aggregated: applied ones are deleted; over: events past their viewer's budget).
const INGEST = `
local mask, acc, dup, over, touched, refused = {}, 0, 0, 0, {}, {}
for i = 8, #ARGV, 3 do
  local k = ARGV[1] .. ARGV[i] .. ':' .. ARGV[i + 1]
  if touched[k] == nil and refused[k] == nil and redis.call('exists', k) == 0 then
    local b = ARGV[5] .. ARGV[i]
    local n = redis.call('incr', b)
    if n == 1 then redis.call('expire', b, ARGV[7]) end
    if n > tonumber(ARGV[6]) then refused[k] = true end
  end
  if refused[k] then
    over = over + 1
    mask[#mask + 1] = '0'
  elseif redis.call('hsetnx', k, ARGV[i + 2], '1') == 1 then
    acc = acc + 1
    mask[#mask + 1] = '1'
    if not touched[k] then
      touched[k] = true
      redis.call('expire', k, ARGV[2])
    end
  else
    touched[k] = true
    dup = dup + 1
    mask[#mask + 1] = '0'
  end
end
if acc > 0 then
  local m = ''
  if dup > 0 or over > 0 then m = table.concat(mask) end
  redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[4], 'm', m, 'n', acc)
end
return {acc, dup, redis.call('xlen', KEYS[1]), over}`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    skyBeaconIngest(stream: string, ...args: string[]): Result<[number, number, number, number], Context>;
  }
}

/** One beacon's identity, for deduplication and the viewer's session budget. */
export interface BeaconIds {
  viewerId: string;
  sessionId: string;
  eventId: string;
}

/** What one batch's store did: counted, repeated, backlog after it, past the viewer's session budget. */
export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  backlog: number;
  over: number;
}

/**
 * A stream entry: one batch's JSON (`{"events":[…]}`, as validated at ingest) and which of its
 * events count (mask of '1'/'0', '' = all); batch null when the entry was trimmed meanwhile.
 */
export interface StreamEntry {
  id: string;
  batch: string | null;
  mask: string;
  /** Events that count. */
  count: number;
}

export interface AnalyticsKeys {
  stream: string;
  group: string;
  dedupe: string;
  /** Sessions opened per viewer in the current budget window. */
  sessions: string;
  uniques(day: string, scope: 'all' | Platform | { lesson: string }): string;
  /** Live sessions (sorted sets of sessionId by last heard, ms): the city's, a platform's, a lesson's. */
  live(scope: 'all' | Platform | LessonPlatform): string;
}

export interface LessonPlatform {
  lesson: string;
  platform: Platform;
}

/** A lesson's live sets expire this long after their last write, so finished lessons leave nothing. */
export const LESSON_LIVE_TTL_SEC = 3600;

export function analyticsKeys(prefix: string): AnalyticsKeys {
  const p = `${prefix}:an:`;
  return {
    stream: `${p}stream`,
    group: 'aggregators',
    dedupe: `${p}dd:`,
    sessions: `${p}vs:`,
    uniques: (day, scope) =>
      typeof scope === 'string' ? `${p}u:${day}:${scope}` : `${p}u:${day}:l:${scope.lesson}`,
    // The platform before the lesson: lesson ids may hold ':', platforms never do.
    live: (scope) =>
      typeof scope === 'string' ? `${p}live:${scope}` : `${p}live:l:${scope.platform}:${scope.lesson}`,
  };
}

export interface AnalyticsRedisOptions {
  prefix: string;
  dedupeTtlSec: number;
  streamMaxLen: number;
  /** Sessions one viewer may open per window. */
  viewerSessions: { max: number; windowSec: number };
  onError: (err: Error) => void;
}

/**
 * Redis for analytics on the request path: commands fail at once while Redis is unreachable (no
 * offline queue), so the ingest answers 503 and clients retry rather than events waiting in memory.
 */
export function createAnalyticsRedis(url: string, opts: AnalyticsRedisOptions) {
  const cmd = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 3000,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  cmd.on('error', opts.onError);
  cmd.defineCommand('skyBeaconIngest', { numberOfKeys: 1, lua: INGEST });
  const keys = analyticsKeys(opts.prefix);

  return {
    /** The connection, for the rate limiter's store. */
    client: cmd,
    keys,
    async ingest(batchJson: string, events: readonly BeaconIds[]): Promise<IngestOutcome> {
      const args: string[] = [
        keys.dedupe,
        String(opts.dedupeTtlSec),
        String(opts.streamMaxLen),
        batchJson,
        keys.sessions,
        String(opts.viewerSessions.max),
        String(opts.viewerSessions.windowSec),
      ];
      for (const e of events) args.push(e.viewerId, e.sessionId, e.eventId);
      const [accepted, duplicates, backlog, over] = await cmd.skyBeaconIngest(keys.stream, ...args);
      return { accepted, duplicates, backlog, over };
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
    /** Sessions with a heartbeat since `sinceMs`, per platform and in all. */
    async liveCounts(sinceMs: number): Promise<Record<Platform | 'all', number>> {
      const scopes = ['all', ...PLATFORMS] as const;
      const pipe = cmd.pipeline();
      for (const s of scopes) pipe.zcount(keys.live(s), sinceMs, '+inf');
      const res = (await pipe.exec()) ?? [];
      const out = { all: 0, web: 0, tv: 0, 'live-webrtc': 0 };
      scopes.forEach((s, i) => {
        const [err, n] = res[i] ?? [null, 0];
        if (err) throw err;
        out[s] = Number(n);
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
    /** The newest entry's id ('0-0' when the stream is empty or missing). */
    async lastStreamId(): Promise<string> {
      const last = (await cmd.xrevrange(keys.stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
      return last[0]?.[0] ?? '0-0';
    },
    async close() {
      await cmd.quit().catch(() => cmd.disconnect());
    },
  };
}
export type AnalyticsRedis = ReturnType<typeof createAnalyticsRedis>;

/**
 * The aggregator's side: a consumer of the stream's group, plus the idempotent Redis rollups
 * (HyperLogLog uniques, the sorted sets of live sessions). Commands wait while Redis reconnects.
 */
export function createAggregatorRedis(
  url: string,
  opts: { prefix: string; consumer: string; hllTtlSec: number },
) {
  const cmd = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 1000) });
  // Blocking reads get their own connection.
  const reader = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  const keys = analyticsKeys(opts.prefix);
  // Connections lost so far: a read whose reply was lost with the connection left its entries
  // delivered (pending) but unseen, so the worker re-reads its pending entries after any loss.
  let losses = 0;
  cmd.on('close', () => (losses += 1));
  reader.on('close', () => (losses += 1));

  const parse = (res: unknown): StreamEntry[] => {
    const streams = res as [string, [string, string[] | null][]][] | null;
    const entries = streams?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => {
      if (!fields) return { id, batch: null, mask: '', count: 0 };
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
      return { id, batch: f.get('r') ?? null, mask: f.get('m') ?? '', count: Number(f.get('n') ?? 0) };
    });
  };

  return {
    keys,
    onError(fn: (err: Error) => void) {
      cmd.on('error', fn);
      reader.on('error', fn);
    },
    /** Changes whenever a connection was lost (compare before and after a read). */
    connectionLosses(): number {
      return losses;
    },
    async ensureGroup(): Promise<void> {
      try {
        await cmd.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!String(err).includes('BUSYGROUP')) throw err;
      }
    },
    /** This consumer's delivered but unacknowledged entries (after a crash), oldest first. */
    async pending(count: number): Promise<StreamEntry[]> {
      const res = await reader.xreadgroup(
        'GROUP',
        keys.group,
        opts.consumer,
        'COUNT',
        count,
        'STREAMS',
        keys.stream,
        '0',
      );
      return parse(res);
    },
    /** New entries, waiting up to `blockMs` for the first. */
    async next(count: number, blockMs: number): Promise<StreamEntry[]> {
      const res = await reader.xreadgroup(
        'GROUP',
        keys.group,
        opts.consumer,
        'COUNT',
        count,
        'BLOCK',
        blockMs,
        'STREAMS',
        keys.stream,
        '>',
      );
      return parse(res);
    },
    /** Acknowledges and deletes applied entries (the stream only holds what is not yet counted). */
    async done(ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await cmd
        .pipeline()
        .xack(keys.stream, keys.group, ...ids)
        .xdel(keys.stream, ...ids)
        .exec();
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
    /** Drops sessions silent since `beforeMs`; the remaining count per scope. */
    async trimLive(beforeMs: number): Promise<Record<Platform | 'all', number>> {
      const scopes = ['all', ...PLATFORMS] as const;
      const pipe = cmd.pipeline();
      for (const s of scopes) pipe.zremrangebyscore(keys.live(s), '-inf', `(${beforeMs}`).zcard(keys.live(s));
      const res = (await pipe.exec()) ?? [];
      const out = { all: 0, web: 0, tv: 0, 'live-webrtc': 0 };
      scopes.forEach((s, i) => {
        const [err, n] = res[i * 2 + 1] ?? [null, 0];
        if (err) throw err;
        out[s] = Number(n);
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
