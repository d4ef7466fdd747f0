// Pure aggregation of beacon events into rollup increments: no I/O, so its exact output is tested.
import {
  chinaDay,
  chinaHour,
  RETENTION_BUCKETS,
  STARTUP_BUCKETS_MS,
  VIEW_THRESHOLD_SEC,
  type Beacon,
  type Platform,
} from '@sky/contracts';

/** The rollup collections (MongoDB, prefixed `analytics_`). Numeric fields are integers (ms, counts). */
export const ROLLUPS = [
  'lesson_hour',
  'lesson_day',
  'dim_day',
  'city_hour',
  'city_day',
  'area_day',
  'retention',
  'quality_day',
] as const;
export type Rollup = (typeof ROLLUPS)[number];

/** One rollup document's change: fields set when it is created, counters added. */
export interface RollupChange {
  set: Record<string, string | number>;
  inc: Record<string, number>;
  max: Record<string, number>;
}

/** Increments for one flush, merged per document (`_id` → change). */
export class RollupBatch {
  readonly docs = new Map<Rollup, Map<string, RollupChange>>(ROLLUPS.map((r) => [r, new Map()]));

  add(
    rollup: Rollup,
    id: string,
    set: Record<string, string | number>,
    inc: Record<string, number>,
    max: Record<string, number> = {},
  ): void {
    const docs = this.docs.get(rollup)!;
    let doc = docs.get(id);
    if (!doc) {
      doc = { set, inc: {}, max: {} };
      docs.set(id, doc);
    }
    for (const [k, v] of Object.entries(inc)) {
      if (v !== 0) doc.inc[k] = (doc.inc[k] ?? 0) + v;
    }
    for (const [k, v] of Object.entries(max)) doc.max[k] = Math.max(doc.max[k] ?? v, v);
  }

  size(): number {
    let n = 0;
    for (const d of this.docs.values()) n += d.size;
    return n;
  }
}

/** What the api knows about a lesson (its record wins over the beacon's dimensions). */
export interface LessonMeta {
  grade?: string;
  subject?: string;
  durationSec?: number;
  title?: string;
}

/** Per session until its view is counted: watched ms so far. Viewed sessions need no state. */
export interface SessionState {
  watchedMs: number;
  viewed: boolean;
}

export interface AggregateResult {
  rollups: RollupBatch;
  /** Sessions whose state changed (to write back in the same transaction). */
  sessions: Map<string, SessionState>;
  /** Sessions counted as a view in this flush. */
  viewed: string[];
}

/** Client clocks running ahead are held to the time the api received the event. */
const MAX_CLOCK_AHEAD_MS = 10 * 60_000;

export function startupBucket(ms: number): number {
  const i = STARTUP_BUCKETS_MS.findIndex((b) => ms < b);
  return i === -1 ? STARTUP_BUCKETS_MS.length : i;
}

/**
 * Milliseconds played inside each retention bucket, for a span [position − watched, position] of a
 * lesson `durationSec` long. Rounded per bucket to whole ms so that sums never depend on order.
 */
export function retentionSpan(
  positionSec: number,
  watchedSec: number,
  durationSec: number,
): Map<number, number> {
  const buckets = new Array<number>(RETENTION_BUCKETS).fill(0);
  addRetention(buckets, positionSec, watchedSec, durationSec);
  const out = new Map<number, number>();
  buckets.forEach((ms, i) => {
    if (ms !== 0) out.set(i, ms);
  });
  return out;
}

/** Adds retentionSpan's per-bucket ms into `buckets` (no allocation: the hot path). */
function addRetention(buckets: number[], positionSec: number, watchedSec: number, durationSec: number): void {
  const hi = Math.min(positionSec, durationSec);
  const lo = Math.max(0, Math.min(positionSec - watchedSec, hi));
  if (hi <= lo || durationSec <= 0) return;
  const width = durationSec / RETENTION_BUCKETS;
  const first = Math.min(RETENTION_BUCKETS - 1, Math.floor(lo / width));
  const last = Math.min(RETENTION_BUCKETS - 1, Math.floor(hi / width));
  for (let i = first; i <= last; i++) {
    const a = Math.max(lo, i * width);
    const b = Math.min(hi, (i + 1) * width);
    const ms = Math.round((b - a) * 1000);
    if (ms > 0) buckets[i]! += ms;
  }
}

/** Stream ids are `<ms>-<seq>`: compares them in stream order. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = Number(am) - Number(bm);
  return d !== 0 ? Math.sign(d) : Math.sign(Number(as) - Number(bs));
}

export interface ReceivedBeacon {
  event: Beacon;
  /** When the api received it (the stream id's ms). */
  receivedMs: number;
}

/** China day and hour keys per epoch hour, computed once per hour seen. */
const hourKeys = new Map<number, { day: string; hour: string }>();
export function keysOf(at: number): { day: string; hour: string } {
  const h = Math.floor(at / 3600_000);
  let k = hourKeys.get(h);
  if (!k) {
    if (hourKeys.size > 50_000) hourKeys.clear();
    k = { day: chinaDay(h * 3600_000), hour: chinaHour(h * 3600_000) };
    hourKeys.set(h, k);
  }
  return k;
}

/** Quality counters of one (day, platform): fixed fields, not a dictionary keyed per event. */
interface QualityCounts {
  day: string;
  platform: Platform;
  startups: number;
  startupMs: number;
  /** Startups per STARTUP_BUCKETS_MS bucket (`h.<i>`). */
  h: number[];
  watchMs: number;
  stalls: number;
  stallMs: number;
}
/** Counters of one combination of dimensions (lesson, hour, grade, subject, district, school, platform). */
interface DimCounts {
  lessonId: string;
  day: string;
  hour: string;
  grade: string;
  subject: string;
  district: string;
  school: string;
  platform: Platform;
  /** The (day, platform) quality counters, resolved once per combination rather than per event. */
  q: QualityCounts;
  v: number;
  w: number;
  s: number;
}
interface RetentionCounts {
  sessions: number;
  durationSec: number;
  /** Played ms per retention bucket. */
  b: number[];
}

/**
 * Folds events into rollup increments. Every number is a sum of per-event integers, so replaying or
 * reordering events gives the same totals; the one stateful rule (a view once a session's watched
 * time reaches 10 s) reads and returns `sessions`, which the caller commits with the increments.
 * Each event is folded once into the counters of its combination of dimensions (few, compared with
 * events); each combination is then spread over the rollups once per flush. The loop creates no
 * closures or per-event objects: it runs for every event the city sends.
 */
export function aggregate(
  events: readonly ReceivedBeacon[],
  sessions: ReadonlyMap<string, SessionState>,
  lessons: (lessonId: string) => LessonMeta | undefined,
): AggregateResult {
  const changed = new Map<string, SessionState>();
  const viewed: string[] = [];
  const thresholdMs = VIEW_THRESHOLD_SEC * 1000;
  const dims = new Map<string, DimCounts>();
  const quality = new Map<string, QualityCounts>();
  const retention = new Map<string, RetentionCounts>();

  for (let n = 0; n < events.length; n++) {
    const { event: e, receivedMs } = events[n]!;
    if (e.type === 'pause' || e.type === 'seek' || e.type === 'quality') continue;
    const { day, hour } = keysOf(e.at > receivedMs + MAX_CLOCK_AHEAD_MS ? receivedMs : e.at);
    const p: Platform = e.platform;
    if (e.type === 'stall') {
      const q = qualityOf(quality, day, p);
      q.stalls += 1;
      q.stallMs += e.durationMs;
      continue;
    }
    const lesson = lessons(e.lessonId);
    const grade = lesson?.grade ?? e.grade ?? 'unknown';
    const subject = lesson?.subject ?? e.subject ?? 'unknown';
    const district = e.district ?? 'unknown';
    const school = e.school ?? 'unknown';
    const key = `${e.lessonId}|${hour}|${grade}|${subject}|${district}|${school}|${p}`;
    let d = dims.get(key);
    if (!d) {
      d = {
        lessonId: e.lessonId,
        day,
        hour,
        grade,
        subject,
        district,
        school,
        platform: p,
        q: qualityOf(quality, day, p),
        v: 0,
        w: 0,
        s: 0,
      };
      dims.set(key, d);
    }

    switch (e.type) {
      case 'start': {
        d.s += 1;
        const q = d.q;
        if (e.startupMs !== undefined) {
          q.startups += 1;
          q.startupMs += e.startupMs;
          q.h[startupBucket(e.startupMs)]! += 1;
        }
        retentionOf(retention, e.lessonId).sessions += 1;
        break;
      }
      case 'heartbeat':
      case 'end': {
        const ms = Math.round(e.watchedSec * 1000);
        let state = changed.get(e.sessionId) ?? sessions.get(e.sessionId);
        if (!state?.viewed && ms > 0) {
          state = { watchedMs: (state?.watchedMs ?? 0) + ms, viewed: false };
          if (state.watchedMs >= thresholdMs) {
            state.viewed = true;
            d.v += 1;
            viewed.push(e.sessionId);
          }
          changed.set(e.sessionId, state);
        }
        d.w += ms;
        d.q.watchMs += ms;
        const duration = lesson?.durationSec ?? e.duration;
        if (duration !== undefined && ms > 0) {
          const r = retentionOf(retention, e.lessonId);
          r.durationSec = Math.max(r.durationSec, duration);
          addRetention(r.b, e.position, e.watchedSec, duration);
        }
        break;
      }
      default: {
        const never: never = e;
        throw new Error(`unknown beacon ${JSON.stringify(never)}`);
      }
    }
  }

  const rollups = new RollupBatch();
  for (const d of dims.values()) {
    const { lessonId, day, hour, grade, subject, district, school, platform: p } = d;
    const inc: Record<string, number> = { v: d.v, w: d.w, s: d.s };
    const perPlatform: Record<string, number> = { [`v.${p}`]: d.v, [`w.${p}`]: d.w, [`s.${p}`]: d.s };
    rollups.add('lesson_hour', `${lessonId}|${hour}`, { lessonId, hour, day }, perPlatform);
    rollups.add('lesson_day', `${lessonId}|${day}`, { lessonId, day, grade, subject }, perPlatform);
    rollups.add('dim_day', `${day}|${grade}|${subject}|${p}`, { day, grade, subject, platform: p }, inc);
    rollups.add('city_hour', `${hour}|${p}`, { hour, day, platform: p }, inc);
    rollups.add('city_day', `${day}|${p}`, { day, platform: p }, inc);
    rollups.add('area_day', `${day}|${district}|${school}|${p}`, { day, district, school, platform: p }, inc);
  }
  for (const q of quality.values()) {
    const inc: Record<string, number> = { startups: q.startups, startupMs: q.startupMs };
    q.h.forEach((n, i) => {
      if (n !== 0) inc[`h.${i}`] = n;
    });
    inc['watchMs'] = q.watchMs;
    inc['stalls'] = q.stalls;
    inc['stallMs'] = q.stallMs;
    rollups.add('quality_day', `${q.day}|${q.platform}`, { day: q.day, platform: q.platform }, inc);
  }
  for (const [lessonId, r] of retention) {
    const inc: Record<string, number> = { sessions: r.sessions };
    r.b.forEach((n, i) => {
      if (n !== 0) inc[`b.${i}`] = n;
    });
    // The duration a curve was drawn against, for lessons the api has no record of.
    rollups.add(
      'retention',
      lessonId,
      { lessonId },
      inc,
      r.durationSec > 0 ? { durationSec: r.durationSec } : {},
    );
  }
  return { rollups, sessions: changed, viewed };
}

function qualityOf(quality: Map<string, QualityCounts>, day: string, platform: Platform): QualityCounts {
  const key = `${day}|${platform}`;
  let q = quality.get(key);
  if (!q) {
    q = {
      day,
      platform,
      startups: 0,
      startupMs: 0,
      h: new Array<number>(STARTUP_BUCKETS_MS.length + 1).fill(0),
      watchMs: 0,
      stalls: 0,
      stallMs: 0,
    };
    quality.set(key, q);
  }
  return q;
}

function retentionOf(retention: Map<string, RetentionCounts>, lessonId: string): RetentionCounts {
  let r = retention.get(lessonId);
  if (!r) {
    r = { sessions: 0, durationSec: 0, b: new Array<number>(RETENTION_BUCKETS).fill(0) };
    retention.set(lessonId, r);
  }
  return r;
}
