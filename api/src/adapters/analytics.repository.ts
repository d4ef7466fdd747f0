import { Types, type ClientSession, type Connection, type mongo } from 'mongoose';
import {
  compareStreamIds,
  ROLLUPS,
  type LessonMeta,
  type Rollup,
  type RollupBatch,
  type SessionState,
} from '../services/analytics.aggregate.js';

/** A rollup document as stored: dimension fields and integer counters (nested per platform). */
export type RollupDoc = Record<string, unknown> & { _id: string };

interface SessionDoc {
  _id: string;
  watchedMs: number;
  viewed: boolean;
  expiresAt: Date;
}
interface CheckpointDoc {
  _id: string;
  lastId?: string;
  at?: Date;
  /** The process that may apply this consumer's entries, until `leaseUntil` (fencing token). */
  owner?: string;
  leaseUntil?: Date;
  /** The holder's MongoDB session, which its flush transactions run in (killed when another takes over). */
  lsid?: mongo.ServerSessionId;
}

/** Another process holds the consumer's lease: this one must not apply anything. */
export class LeaseLost extends Error {
  constructor(consumer: string) {
    super(`another process aggregates as ${consumer}`);
    this.name = 'LeaseLost';
  }
}
interface PeakDoc {
  _id: string;
  peak: number;
  at: Date;
  m?: Record<string, number>;
}

/** What one flush commits: the plan is computed inside the transaction from the state it read. */
export interface FlushPlan {
  rollups: RollupBatch;
  sessions: Map<string, SessionState>;
}

/** Session state outlives the session's last event by this long (then a replay would count again). */
const SESSION_TTL_MS = 2 * 24 * 3600_000;

/** What a flush did: the entries applied, the plan committed, the session states it read, its attempts. */
export interface FlushResult<E> {
  fresh: readonly E[];
  plan: FlushPlan;
  /** Session states as read (absent: no state yet) for the sessions asked about. */
  read: Map<string, SessionState>;
  /** Transaction attempts (more than 1: a transient error such as a write conflict was retried). */
  attempts: number;
}

/**
 * A rollup document's id for a stream shard: shard 0 writes the key itself, shard n the key with `|s<n>`
 * (every key ends in a platform, an hour, a day or a lesson id, none of which holds '|'). Each shard's
 * aggregator so writes documents of its own, and readers add the shards' documents up.
 */
export const shardDocId = (id: string, shard: number) => (shard === 0 ? id : `${id}|s${shard}`);

/**
 * MongoDB side of analytics: rollup collections (`analytics_<rollup>`), per-session view state and
 * each consumer's checkpoint — written together in one transaction per flush, so a crashed
 * aggregator's redelivered entries are recognised (≤ checkpoint) and skipped. Each stream shard's
 * aggregator writes rollup documents of its own (shardDocId) and its sessions (its viewers'), so two
 * shards' transactions never touch one document: they run side by side without write conflicts.
 */
export class AnalyticsRepository {
  /** Each consumer's MongoDB session for its flush transactions (one at a time), while it holds the lease. */
  private readonly txns = new Map<string, ClientSession>();

  constructor(private readonly conn: Connection) {}

  private txnOf(consumer: string): ClientSession {
    let s = this.txns.get(consumer);
    if (!s) this.txns.set(consumer, (s = this.conn.getClient().startSession()));
    return s;
  }

  private async endTxn(consumer: string): Promise<void> {
    const s = this.txns.get(consumer);
    this.txns.delete(consumer);
    await s?.endSession().catch(() => {});
  }

  private get db() {
    const db = this.conn.db;
    if (!db) throw new Error('mongo not connected');
    return db;
  }
  private rollup(r: Rollup) {
    return this.db.collection<RollupDoc>(`analytics_${r}`);
  }
  private get sessions() {
    return this.db.collection<SessionDoc>('analytics_sessions');
  }
  private get checkpoints() {
    return this.db.collection<CheckpointDoc>('analytics_checkpoints');
  }
  private get peaks() {
    return this.db.collection<PeakDoc>('analytics_peaks');
  }

  /** Creates every collection up front: MongoDB 4.0 cannot create one inside a transaction. */
  async init(): Promise<void> {
    const existing = new Set(
      (await this.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
    );
    const names = [
      ...ROLLUPS.map((r) => `analytics_${r}`),
      'analytics_sessions',
      'analytics_checkpoints',
      'analytics_peaks',
    ];
    for (const n of names) {
      if (!existing.has(n)) await this.db.createCollection(n).catch(ignoreExists);
    }
    await Promise.all([
      this.sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
      this.rollup('lesson_hour').createIndex({ day: 1 }),
      this.rollup('lesson_day').createIndex({ day: 1 }),
      this.rollup('dim_day').createIndex({ day: 1 }),
      this.rollup('city_hour').createIndex({ day: 1 }),
      this.rollup('city_day').createIndex({ day: 1 }),
      this.rollup('area_day').createIndex({ day: 1, district: 1 }),
      this.rollup('quality_day').createIndex({ day: 1 }),
      this.rollup('retention').createIndex({ lessonId: 1 }),
    ]);
  }

  /**
   * One flush, exactly once: in a transaction, reads the consumer's checkpoint, drops entries at or
   * before it (applied before a crash), reads the sessions the rest touch, lets `plan` fold them, and
   * writes the rollups, the sessions and the new checkpoint. Returns what was applied (or null).
   */
  async flush<E extends { id: string }>(
    consumer: string,
    shard: number,
    lease: { owner: string; ms: number },
    entries: readonly E[],
    sessionsOf: (fresh: readonly E[]) => string[],
    plan: (fresh: readonly E[], states: Map<string, SessionState>) => FlushPlan,
    /** Fault injection (crash tests): called inside the transaction once the rollups are written. */
    written?: () => void,
  ): Promise<FlushResult<E> | null> {
    const last = entries.at(-1);
    if (!last) return null;
    const session = this.txnOf(consumer);
    let attempts = 0;
    try {
      let applied: FlushResult<E> | null = null;
      await session.withTransaction(
        async () => {
          applied = null;
          attempts += 1;
          const cp = await this.checkpoints.findOne({ _id: consumer }, { session });
          if (
            cp?.owner !== undefined &&
            cp.owner !== lease.owner &&
            (cp.leaseUntil?.getTime() ?? 0) > Date.now()
          ) {
            throw new LeaseLost(consumer);
          }
          const lastId = cp?.lastId;
          const fresh = lastId ? entries.filter((e) => compareStreamIds(e.id, lastId) > 0) : entries;
          if (fresh.length === 0) return;
          const ids = sessionsOf(fresh);
          const states = new Map<string, SessionState>();
          if (ids.length > 0) {
            for (const s of await this.sessions.find({ _id: { $in: ids } }, { session }).toArray()) {
              states.set(s._id, { watchedMs: s.watchedMs, viewed: s.viewed });
            }
          }
          const read = new Map(states);
          const p = plan(fresh, states);
          for (const [r, docs] of p.rollups.docs) {
            if (docs.size === 0) continue;
            const ops = [...docs].map(([id, c]) => {
              const update: Record<string, Record<string, unknown>> = { $setOnInsert: c.set };
              if (Object.keys(c.inc).length > 0) update['$inc'] = c.inc;
              if (Object.keys(c.max).length > 0) update['$max'] = c.max;
              return { updateOne: { filter: { _id: shardDocId(id, shard) }, update, upsert: true } };
            });
            await this.rollup(r).bulkWrite(ops, { session, ordered: false });
          }
          written?.();
          if (p.sessions.size > 0) {
            const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
            await this.sessions.bulkWrite(
              [...p.sessions].map(([_id, s]) => ({
                updateOne: {
                  filter: { _id },
                  update: { $set: { watchedMs: s.watchedMs, viewed: s.viewed, expiresAt } },
                  upsert: true,
                },
              })),
              { session, ordered: false },
            );
          }
          await this.checkpoints.updateOne(
            { _id: consumer },
            {
              $set: {
                lastId: last.id,
                at: new Date(),
                owner: lease.owner,
                leaseUntil: new Date(Date.now() + lease.ms),
              },
            },
            { session, upsert: true },
          );
          applied = { fresh, plan: p, read, attempts };
        },
        { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } },
      );
      return applied;
    } catch (err) {
      await this.endTxn(consumer); // the next flush starts from a fresh session
      throw err;
    }
  }

  /** The last stream id each consumer has applied ('0-0' before its first flush), in the given order. */
  async appliedUpTo(consumers: readonly string[]): Promise<string[]> {
    const docs = await this.checkpoints.find({ _id: { $in: [...consumers] } }).toArray();
    const by = new Map(docs.map((c) => [c._id, c.lastId ?? '0-0']));
    return consumers.map((c) => by.get(c) ?? '0-0');
  }

  /**
   * Takes or renews the consumer's lease: true when `owner` holds it for the next `ms`. Only the
   * holder reads and applies the consumer's entries, so two processes configured with the same
   * consumer name (two api processes with the inline aggregator) never interleave; the flush
   * transaction checks the lease again (fencing).
   */
  async lease(consumer: string, owner: string, ms: number): Promise<boolean> {
    const now = new Date();
    const lsid = this.txnOf(consumer).id;
    let before: CheckpointDoc | null;
    try {
      before = await this.checkpoints.findOneAndUpdate(
        {
          _id: consumer,
          $or: [{ owner }, { owner: { $exists: false } }, { leaseUntil: { $lt: now } }],
        },
        { $set: { owner, leaseUntil: new Date(now.getTime() + ms), ...(lsid ? { lsid } : {}) } },
        { upsert: true, returnDocument: 'before' },
      );
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false; // held by another process
      throw err;
    }
    if (before?.owner !== undefined && before.owner !== owner && before.lsid) {
      // Taken over from a holder that stopped answering (killed, or paused past its lease): a transaction
      // it left open would hold its documents until MongoDB's transaction lifetime (60 s) ran out, and
      // the holder must not commit one now. Ending its session aborts it at once.
      await this.conn
        .getClient()
        .db('admin')
        .command({ killSessions: [before.lsid] })
        .catch(() => {});
    }
    return true;
  }

  /** Gives the lease up (clean shutdown), so a standby takes over at once. */
  async release(consumer: string, owner: string): Promise<void> {
    await this.checkpoints.updateOne(
      { _id: consumer, owner },
      { $unset: { owner: '', leaseUntil: '', lsid: '' } },
    );
    await this.endTxn(consumer);
  }

  /** Records a concurrency sample: the day's peak (and when), and the minute's highest. */
  async samplePeak(day: string, minute: number, viewers: number, at: Date): Promise<void> {
    await this.peaks.updateOne({ _id: day }, { $max: { [`m.${minute}`]: viewers } }, { upsert: true });
    await this.peaks.updateOne(
      { _id: day, $or: [{ peak: { $lt: viewers } }, { peak: { $exists: false } }] },
      {
        $set: { peak: viewers, at },
      },
    );
  }

  async peak(day: string): Promise<{ viewers: number; at: Date | null }> {
    const doc = await this.peaks.findOne({ _id: day }, { projection: { m: 0 } });
    return { viewers: doc?.peak ?? 0, at: doc?.at ?? null };
  }

  /** Rollup documents whose `day` is within [from, to], optionally narrowed by more fields. */
  async byDays(
    r: Rollup,
    from: string,
    to: string,
    extra: Record<string, string> = {},
  ): Promise<RollupDoc[]> {
    return this.rollup(r)
      .find({ day: { $gte: from, $lte: to }, ...extra })
      .toArray();
  }

  /** Lessons by total views over the range (per-platform sums), highest first. */
  async topLessons(from: string, to: string, limit: number): Promise<RollupDoc[]> {
    return this.rollup('lesson_day')
      .aggregate<RollupDoc>([
        { $match: { day: { $gte: from, $lte: to } } },
        {
          $group: {
            _id: '$lessonId',
            grade: { $first: '$grade' },
            subject: { $first: '$subject' },
            vweb: { $sum: '$v.web' },
            vtv: { $sum: '$v.tv' },
            vrtc: { $sum: '$v.live-webrtc' },
            wweb: { $sum: '$w.web' },
            wtv: { $sum: '$w.tv' },
            wrtc: { $sum: '$w.live-webrtc' },
          },
        },
        { $addFields: { total: { $add: ['$vweb', '$vtv', '$vrtc'] } } },
        { $sort: { total: -1, _id: 1 } },
        { $limit: limit },
      ])
      .toArray();
  }

  /** A lesson's retention, its shards' documents added up (the longest duration drawn against). */
  async retention(lessonId: string): Promise<RollupDoc | null> {
    const docs = await this.rollup('retention').find({ lessonId }).toArray();
    if (docs.length === 0) return null;
    const b: Record<string, number> = {};
    let sessions = 0;
    let durationSec = 0;
    for (const d of docs) {
      sessions += typeof d['sessions'] === 'number' ? d['sessions'] : 0;
      if (typeof d['durationSec'] === 'number') durationSec = Math.max(durationSec, d['durationSec']);
      for (const [i, ms] of Object.entries((d['b'] ?? {}) as Record<string, unknown>))
        if (typeof ms === 'number') b[i] = (b[i] ?? 0) + ms;
    }
    return { _id: lessonId, lessonId, sessions, b, ...(durationSec > 0 ? { durationSec } : {}) };
  }

  /** The api's own lesson records (title, grade, subject, duration) for these ids. */
  async lessons(ids: readonly string[]): Promise<Map<string, LessonMeta>> {
    const oids = ids.filter((id) => /^[a-f0-9]{24}$/.test(id)).map((id) => new Types.ObjectId(id));
    const out = new Map<string, LessonMeta>();
    if (oids.length === 0) return out;
    const docs = await this.db
      .collection('lessons')
      .find({ _id: { $in: oids } }, { projection: { title: 1, grade: 1, subject: 1, durationSec: 1 } })
      .toArray();
    for (const d of docs) {
      const meta: LessonMeta = {};
      if (typeof d['title'] === 'string') meta.title = d['title'];
      if (typeof d['grade'] === 'string') meta.grade = d['grade'];
      if (typeof d['subject'] === 'string') meta.subject = d['subject'];
      if (typeof d['durationSec'] === 'number') meta.durationSec = d['durationSec'];
      out.set(String(d._id), meta);
    }
    return out;
  }
}

function ignoreExists(err: unknown): void {
  if ((err as { code?: number }).code !== 48) throw err;
}
