import { chinaDay, type Beacon, type Platform } from '@sky/contracts';
import type { AggregatorRedis, StreamEntry } from '../adapters/analytics.redis.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LRUCache } from 'lru-cache';
import { LeaseLost, type AnalyticsRepository } from '../adapters/analytics.repository.js';
import {
  aggregate,
  keysOf,
  type LessonMeta,
  type ReceivedBeacon,
  type SessionState,
} from './analytics.aggregate.js';

/** The checkpoint and lease name of a shard's aggregator: shard 0 keeps the base name. */
export const shardConsumer = (base: string, shard: number) => (shard === 0 ? base : `${base}.s${shard}`);

export interface AggregatorOptions {
  /** The shard's checkpoint and lease name: keep it across restarts. */
  consumer: string;
  /** Sessions whose state is kept in memory (this aggregator alone writes its shard's sessions). */
  sessionCacheMax: number;
  flushEvents: number;
  flushMs: number;
  heartbeatSec: number;
  /** How long the consumer's lease lasts without renewal (a crashed holder blocks others this long). */
  leaseMs: number;
  /** Fault injection (crash test): called after each commit with the count so far, before its trim. */
  afterCommit?: (commits: number) => void;
  /** Fault injection (crash tests): called inside each flush's transaction once its rollups are written. */
  midFlush?: (flush: number) => void;
  log: { warn(o: object, m: string): void; info(o: object, m: string): void };
}

interface ParsedEntry {
  id: string;
  events: ReceivedBeacon[];
}

/** A batch read and parsed, its Redis parts applied: ready to commit. */
interface Prepared {
  entries: StreamEntry[];
  parsed: ParsedEntry[];
  lessons: (lessonId: string) => LessonMeta | undefined;
}

/** Lesson records are looked up once per this long (misses too: TV plan lessons are not api lessons). */
const LESSON_CACHE_MS = 5 * 60_000;
const NO_STATE: SessionState = { watchedMs: 0, viewed: false };

/**
 * The aggregation worker of one stream shard (the only reader of it, under its lease): reads the shard's
 * stream in order, folds up to `flushEvents` events or `flushMs` into rollup increments, applies the
 * idempotent Redis parts (uniques, live sessions), commits the Mongo parts with its checkpoint in one
 * transaction, then trims the stream up to what it applied. After a crash it reads again from the
 * stream's start; entries at or before the checkpoint were committed already and are only trimmed.
 * Its shard's sessions are written by it alone (under its lease), so it keeps their state in a bounded
 * LRU and reads Mongo only for sessions it does not hold — and forgets them all whenever it may have
 * missed a write (an error, a lost lease, a recovery).
 */
export class AnalyticsAggregator {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly lessonCache = new Map<string, { meta: LessonMeta | undefined; until: number }>();
  private readonly sessions: LRUCache<string, SessionState>;
  private commits = 0;
  /** This process's fencing token for the consumer's lease. */
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Events applied by this process (for logs and tests). */
  applied = 0;
  /** Flushes committed, and those whose transaction had to be tried again (a write conflict, …). */
  readonly flushes = { committed: 0, retried: 0 };
  /** The last entry read ('0-0': read from the stream's start). */
  private position = '0-0';
  /** Events per entry in the last read (a bulk batch holds up to 200, a player's POST 1 or 2). */
  private eventsPerEntry = 200;

  constructor(
    private readonly redis: AggregatorRedis,
    private readonly repo: AnalyticsRepository,
    private readonly opts: AggregatorOptions,
  ) {
    this.sessions = new LRUCache({ max: opts.sessionCacheMax });
  }

  get consumer(): string {
    return this.opts.consumer;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.repo.release(this.opts.consumer, this.owner).catch(() => {});
  }

  /**
   * The loop. While one flush's Mongo transaction commits, the next batch is read, parsed and its
   * idempotent Redis parts applied (double buffering); commits themselves stay one at a time and in
   * stream order, each trimming the stream only after it committed, so the checkpoint marks everything
   * at or before it as applied. Anything unusual (an error, the lease to renew or taken over) first
   * waits for the commit in flight, then reads again from the stream's start: what is left there at or
   * before the checkpoint was applied already (a crash between a commit and its trim), and is skipped.
   */
  private async run(): Promise<void> {
    let recovering = true;
    let lastSample = 0;
    let holding = false;
    let renewed = 0;
    /** The commit in flight: settles to its error, or null. */
    let inFlight: Promise<Error | null> | null = null;
    const settle = async () => {
      const p = inFlight;
      inFlight = null;
      const err = await p;
      if (err) throw err;
    };
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    while (!this.stopped) {
      try {
        if (!holding || Date.now() - renewed > this.opts.leaseMs / 3) {
          await settle();
          const got = await this.repo.lease(this.opts.consumer, this.owner, this.opts.leaseMs);
          if (!got) {
            // A standby: another process aggregates this shard.
            holding = false;
            await pause(Math.min(1000, this.opts.leaseMs / 3));
            continue;
          }
          if (!holding) recovering = true; // the previous holder may have left entries applied, untrimmed
          holding = true;
          renewed = Date.now();
        }
        if (recovering) {
          await settle();
          this.sessions.clear();
          this.position = '0-0';
          recovering = false;
        }
        const batch = await this.collect();
        if (batch.length > 0) {
          const prepared = await this.prepare(batch);
          await settle();
          inFlight = this.commit(prepared).then(
            () => null,
            (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
          );
        }
        if (Date.now() - lastSample >= 1000) {
          lastSample = Date.now();
          await this.sampleConcurrency();
        }
      } catch (err) {
        const p = inFlight;
        inFlight = null;
        await p; // settles to its error, which the recovery below covers as well
        if (this.stopped) break;
        recovering = true;
        if (err instanceof LeaseLost) {
          holding = false;
          continue;
        }
        this.opts.log.warn({ err }, 'analytics aggregation failed; retrying');
        await pause(1000);
      }
    }
    const err = await inFlight;
    if (err && !(err instanceof LeaseLost)) this.opts.log.warn({ err }, 'analytics aggregation failed');
  }

  /** Reads entries after `position` until enough events or time has passed since the first one. */
  private async collect(): Promise<StreamEntry[]> {
    const out: StreamEntry[] = [];
    let events = 0;
    const started = Date.now();
    while (!this.stopped && events < this.opts.flushEvents) {
      const left = this.opts.flushMs - (Date.now() - started);
      if (left <= 0) break;
      // Stop blocking early when something is in hand already, so that small loads flush promptly.
      // Entries hold 1 to 200 events: ask for about what is still wanted, at the last read's events per entry.
      const count = Math.max(1, Math.ceil((this.opts.flushEvents - events) / this.eventsPerEntry));
      const got = await this.redis.read(
        this.position,
        count,
        out.length > 0 ? Math.max(1, Math.min(left, 50)) : Math.min(left, 500),
      );
      if (got.length === 0) {
        if (out.length > 0) break;
        continue;
      }
      let n = 0;
      for (const e of got) {
        out.push(e);
        n += e.count;
      }
      events += n;
      this.eventsPerEntry = Math.min(200, Math.max(1, n / got.length));
      this.position = got.at(-1)!.id;
    }
    return out;
  }

  private parse(entries: StreamEntry[]): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    for (const entry of entries) {
      const receivedMs = Number(entry.id.split('-')[0]);
      const events: ReceivedBeacon[] = [];
      // The ingest validated the batch against the contract before storing it.
      const batch = (JSON.parse(entry.batch) as { events: Beacon[] }).events;
      const all = entry.mask === '';
      for (let i = 0; i < batch.length; i++) {
        if (all || entry.mask[i] === '1') events.push({ event: batch[i]!, receivedMs });
      }
      out.push({ id: entry.id, events });
    }
    return out;
  }

  private async lessonsFor(ids: Set<string>): Promise<(id: string) => LessonMeta | undefined> {
    const now = Date.now();
    const missing = [...ids].filter((id) => (this.lessonCache.get(id)?.until ?? 0) < now);
    if (missing.length > 0) {
      const found = await this.repo.lessons(missing);
      for (const id of missing)
        this.lessonCache.set(id, { meta: found.get(id), until: now + LESSON_CACHE_MS });
      if (this.lessonCache.size > 100_000) this.lessonCache.clear();
    }
    // A snapshot: the cache may change before this batch commits (the next batch is read meanwhile).
    const snapshot = new Map<string, LessonMeta | undefined>();
    for (const id of ids) snapshot.set(id, this.lessonCache.get(id)?.meta);
    return (id) => snapshot.get(id);
  }

  /**
   * Everything before the commit: parses the entries, looks their lessons up and applies the Redis
   * parts, which are idempotent (a crash before the commit only repeats them).
   */
  private async prepare(entries: StreamEntry[]): Promise<Prepared> {
    const parsed = this.parse(entries);
    const lessonIds = new Set<string>();
    // Viewers per (China day, platform, lesson), each set feeding that lesson's, the platform's and
    // the city's HyperLogLog of the day, with the lesson's (time, sessionId) pairs heard and sessions
    // ended on that platform; last heartbeat times and ended sessions per platform.
    const viewers = new Map<
      string,
      {
        day: string;
        platform: Platform;
        lessonId: string;
        ids: Set<string>;
        live: (string | number)[];
        ended: string[];
      }
    >();
    const live = new Map<Platform, (string | number)[]>();
    const ended = new Map<Platform, string[]>();
    for (const p of parsed) {
      for (const { event: e, receivedMs } of p.events) {
        lessonIds.add(e.lessonId);
        const { day } = keysOf(Math.min(e.at, receivedMs + 10 * 60_000));
        const vk = `${day}|${e.platform}|${e.lessonId}`;
        let v = viewers.get(vk);
        if (!v) {
          v = { day, platform: e.platform, lessonId: e.lessonId, ids: new Set(), live: [], ended: [] };
          viewers.set(vk, v);
        }
        v.ids.add(e.viewerId);
        if (e.type === 'end') {
          let s = ended.get(e.platform);
          if (!s) ended.set(e.platform, (s = []));
          s.push(e.sessionId);
          v.ended.push(e.sessionId);
        } else if (e.type === 'start' || e.type === 'heartbeat') {
          let s = live.get(e.platform);
          if (!s) live.set(e.platform, (s = []));
          s.push(receivedMs, e.sessionId);
          v.live.push(receivedMs, e.sessionId);
        }
      }
    }
    const lessons = await this.lessonsFor(lessonIds);

    const k = this.redis.keys;
    const uniques = new Map<string, string[]>();
    const into = <V>(m: Map<string, V[]>, key: string, values: Iterable<V>) => {
      let a = m.get(key);
      if (!a) m.set(key, (a = []));
      for (const x of values) a.push(x);
    };
    for (const { day, platform, lessonId, ids } of viewers.values()) {
      into(uniques, k.uniques(day, { lesson: lessonId }), ids);
      into(uniques, k.uniques(day, platform), ids);
      into(uniques, k.uniques(day, 'all'), ids);
    }
    // The platforms' live sets (the city's figure is their sum: a session plays on one platform).
    const liveByKey = new Map<string, (string | number)[]>();
    for (const [platform, pairs] of live) liveByKey.set(k.live(platform), pairs);
    const endedByKey = new Map<string, string[]>();
    for (const [platform, sids] of ended) endedByKey.set(k.live(platform), sids);
    // Each lesson's own live set per platform, for its teacher's studio (a lesson may span two days).
    const lessonLive = new Set<string>();
    for (const { platform, lessonId, live: pairs, ended: sids } of viewers.values()) {
      if (pairs.length === 0 && sids.length === 0) continue;
      const key = k.live({ lesson: lessonId, platform });
      lessonLive.add(key);
      into(liveByKey, key, pairs);
      into(endedByKey, key, sids);
    }
    await this.redis.apply(uniques, liveByKey, endedByKey, {
      keys: lessonLive,
      staleBeforeMs: Date.now() - 2 * this.opts.heartbeatSec * 1000,
    });
    return { entries, parsed, lessons };
  }

  /**
   * Commits the Mongo parts with the checkpoint in one transaction (entries at or before the
   * checkpoint were applied before a crash and are skipped), then trims the stream up to them.
   */
  private async commit({ entries, parsed, lessons }: Prepared): Promise<void> {
    const counted = (e: Beacon) => e.type === 'heartbeat' || e.type === 'end';
    let asked = new Set<string>();
    const result = await this.repo.flush(
      this.opts.consumer,
      this.redis.shard,
      { owner: this.owner, ms: this.opts.leaseMs },
      parsed,
      // the sessions whose state is not in memory
      (fresh) => {
        asked = new Set<string>();
        for (const p of fresh)
          for (const { event: e } of p.events)
            if (counted(e) && this.sessions.get(e.sessionId) === undefined) asked.add(e.sessionId);
        return [...asked];
      },
      (fresh, states) => {
        const events: ReceivedBeacon[] = [];
        for (const p of fresh)
          for (const r of p.events) {
            events.push(r);
            if (counted(r.event) && !states.has(r.event.sessionId)) {
              const known = this.sessions.get(r.event.sessionId);
              if (known) states.set(r.event.sessionId, known);
            }
          }
        const r = aggregate(events, states, lessons);
        return { rollups: r.rollups, sessions: r.sessions };
      },
      this.opts.midFlush ? () => this.opts.midFlush?.(this.commits + 1) : undefined,
    );
    if (result) {
      this.commits += 1;
      this.flushes.committed += 1;
      if (result.attempts > 1) this.flushes.retried += 1;
      // What Mongo now holds for every session this flush changed or read (none yet: no state).
      for (const sid of asked) this.sessions.set(sid, result.read.get(sid) ?? NO_STATE);
      for (const [sid, state] of result.plan.sessions) this.sessions.set(sid, state);
      this.applied += result.fresh.reduce((n, p) => n + p.events.length, 0);
      this.opts.afterCommit?.(this.commits);
    }
    await this.redis.done(entries);
  }

  /** Drops silent sessions and records the concurrency sample (today's peak, this minute's high). */
  private async sampleConcurrency(): Promise<void> {
    const now = Date.now();
    const counts = await this.redis.trimLive(now - 2 * this.opts.heartbeatSec * 1000);
    const china = new Date(now + 8 * 3600_000);
    const minute = china.getUTCHours() * 60 + china.getUTCMinutes();
    await this.repo.samplePeak(chinaDay(now), minute, counts.all, new Date(now));
  }
}
