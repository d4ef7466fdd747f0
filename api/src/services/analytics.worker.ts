import { chinaDay, type Beacon } from '@sky/contracts';
import type { AggregatorRedis, StreamEntry } from '../adapters/analytics.redis.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaseLost, type AnalyticsRepository } from '../adapters/analytics.repository.js';
import { aggregate, keysOf, type LessonMeta, type ReceivedBeacon } from './analytics.aggregate.js';

export interface AggregatorOptions {
  /** Consumer name in the stream's group, also the checkpoint's key: keep it across restarts. */
  consumer: string;
  flushEvents: number;
  flushMs: number;
  heartbeatSec: number;
  /** How long the consumer's lease lasts without renewal (a crashed holder blocks others this long). */
  leaseMs: number;
  /** Fault injection (crash test): called after each commit with the count so far, before XACK. */
  afterCommit?: (commits: number) => void;
  log: { warn(o: object, m: string): void; info(o: object, m: string): void };
}

interface ParsedEntry {
  id: string;
  events: ReceivedBeacon[];
}

/** Lesson records are looked up once per this long (misses too: TV plan lessons are not api lessons). */
const LESSON_CACHE_MS = 5 * 60_000;
/** Sessions known to be counted as a view already (never changes back), kept to spare Mongo reads. */
const VIEWED_CACHE_MAX = 200_000;

/**
 * The aggregation worker: reads the beacon stream as one consumer of the group, folds up to
 * `flushEvents` events or `flushMs` into rollup increments, applies the idempotent Redis parts
 * (uniques, live sessions), commits the Mongo parts with its checkpoint in one transaction, then
 * acknowledges. After a crash it first re-reads its own pending entries; those at or before the
 * checkpoint were committed already and are only acknowledged.
 */
export class AnalyticsAggregator {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly lessonCache = new Map<string, { meta: LessonMeta | undefined; until: number }>();
  private readonly viewed = new Set<string>();
  private commits = 0;
  /** This process's fencing token for the consumer's lease. */
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Events applied by this process (for logs and tests). */
  applied = 0;

  constructor(
    private readonly redis: AggregatorRedis,
    private readonly repo: AnalyticsRepository,
    private readonly opts: AggregatorOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.repo.release(this.opts.consumer, this.owner).catch(() => {});
  }

  private async run(): Promise<void> {
    let recovering = true;
    let lastSample = 0;
    let holding = false;
    let renewed = 0;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    while (!this.stopped) {
      try {
        if (!holding || Date.now() - renewed > this.opts.leaseMs / 3) {
          const got = await this.repo.lease(this.opts.consumer, this.owner, this.opts.leaseMs);
          if (!got) {
            // A standby: another process aggregates under this consumer name.
            holding = false;
            await pause(Math.min(1000, this.opts.leaseMs / 3));
            continue;
          }
          if (!holding) recovering = true; // the previous holder may have left pending entries
          holding = true;
          renewed = Date.now();
        }
        if (recovering) {
          await this.redis.ensureGroup();
          const pending = await this.redis.pending(500);
          if (pending.length === 0) recovering = false;
          else await this.flush(pending);
          continue;
        }
        const batch = await this.collect();
        if (batch.length > 0) await this.flush(batch);
        if (Date.now() - lastSample >= 1000) {
          lastSample = Date.now();
          await this.sampleConcurrency();
        }
      } catch (err) {
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
  }

  /** Reads entries until enough events or time has passed since the first one. */
  private async collect(): Promise<StreamEntry[]> {
    const out: StreamEntry[] = [];
    let events = 0;
    const started = Date.now();
    while (!this.stopped && events < this.opts.flushEvents) {
      const left = this.opts.flushMs - (Date.now() - started);
      if (left <= 0) break;
      // Stop blocking early when something is in hand already, so that small loads flush promptly.
      // Entries hold up to a batch (≤ 200 events) each: ask for about what is still wanted.
      const count = Math.max(1, Math.ceil((this.opts.flushEvents - events) / 200));
      const got = await this.redis.next(
        count,
        out.length > 0 ? Math.max(1, Math.min(left, 50)) : Math.min(left, 500),
      );
      if (got.length === 0) {
        if (out.length > 0) break;
        continue;
      }
      for (const e of got) {
        out.push(e);
        events += e.count;
      }
    }
    return out;
  }

  private parse(entries: StreamEntry[]): ParsedEntry[] {
    return entries.map((entry) => {
      const receivedMs = Number(entry.id.split('-')[0]);
      const events: ReceivedBeacon[] = [];
      if (entry.batch !== null) {
        // The ingest validated the batch against the contract before storing it.
        const batch = (JSON.parse(entry.batch) as { events: Beacon[] }).events;
        batch.forEach((event, i) => {
          if (entry.mask === '' || entry.mask[i] === '1') events.push({ event, receivedMs });
        });
      }
      return { id: entry.id, events };
    });
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
    return (id) => this.lessonCache.get(id)?.meta;
  }

  async flush(entries: StreamEntry[]): Promise<void> {
    const parsed = this.parse(entries);
    const all = parsed.flatMap((p) => p.events);
    const lessons = await this.lessonsFor(new Set(all.map((e) => e.event.lessonId)));

    // Redis parts first: idempotent, so a crash before the commit only repeats them.
    const uniques = new Map<string, Set<string>>();
    const live = new Map<string, Map<string, number>>();
    const ended = new Map<string, Set<string>>();
    const k = this.redis.keys;
    const addTo = <V>(m: Map<string, Set<V>>, key: string, v: V) => {
      let s = m.get(key);
      if (!s) m.set(key, (s = new Set()));
      s.add(v);
    };
    const seen = (key: string, sid: string, ms: number) => {
      let s = live.get(key);
      if (!s) live.set(key, (s = new Map<string, number>()));
      s.set(sid, Math.max(s.get(sid) ?? 0, ms));
    };
    // The three HyperLogLogs of each (day, platform, lesson), built once per flush.
    const hllKeys = new Map<string, [string, string, string]>();
    for (const { event: e, receivedMs } of all) {
      const { day } = keysOf(Math.min(e.at, receivedMs + 10 * 60_000));
      const ck = `${day}|${e.platform}|${e.lessonId}`;
      let hk = hllKeys.get(ck);
      if (!hk) {
        hk = [k.uniques(day, 'all'), k.uniques(day, e.platform), k.uniques(day, { lesson: e.lessonId })];
        hllKeys.set(ck, hk);
      }
      for (const key of hk) addTo(uniques, key, e.viewerId);
      if (e.type === 'end') {
        addTo(ended, k.live('all'), e.sessionId);
        addTo(ended, k.live(e.platform), e.sessionId);
      } else if (e.type === 'start' || e.type === 'heartbeat') {
        seen(k.live('all'), e.sessionId, receivedMs);
        seen(k.live(e.platform), e.sessionId, receivedMs);
      }
    }
    await this.redis.apply(uniques, live, ended);

    const result = await this.repo.flush(
      this.opts.consumer,
      { owner: this.owner, ms: this.opts.leaseMs },
      parsed,
      (fresh) => {
        const ids = new Set<string>();
        for (const p of fresh)
          for (const { event: e } of p.events)
            if ((e.type === 'heartbeat' || e.type === 'end') && !this.viewed.has(e.sessionId))
              ids.add(e.sessionId);
        return [...ids];
      },
      (fresh, states) => {
        for (const p of fresh)
          for (const { event: e } of p.events)
            if (this.viewed.has(e.sessionId)) states.set(e.sessionId, { watchedMs: 0, viewed: true });
        const r = aggregate(
          fresh.flatMap((p) => p.events),
          states,
          lessons,
        );
        return { rollups: r.rollups, sessions: r.sessions };
      },
    );
    if (result) {
      this.commits += 1;
      for (const [sid, s] of result.plan.sessions) if (s.viewed) this.viewed.add(sid);
      if (this.viewed.size > VIEWED_CACHE_MAX) this.viewed.clear();
      this.applied += result.fresh.reduce((n, p) => n + p.events.length, 0);
      this.opts.afterCommit?.(this.commits);
    }
    await this.redis.done(entries.map((e) => e.id));
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
