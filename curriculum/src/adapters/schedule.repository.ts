import type {
  GradeId,
  MovedLesson,
  RecordingStatus,
  ScheduleDiff,
  ScheduleEntry,
  ScheduleScore,
} from '@sky/contracts';
import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';

interface EntryDoc extends ScheduleEntry {
  /** The build that wrote it: concurrent writers never touch each other's rows. */
  build: string;
  version: number;
}
interface MetaDoc {
  _id: string;
  version: number;
  build: string;
  planVersion: number;
  /** Entries and school days of this build: the summary reads them without loading the timetable or the plan. */
  lessons: number;
  days: number;
  builtAt: Date;
  ms: number;
  score: ScheduleScore;
}
export interface ChangeDoc {
  version: number;
  reason: ScheduleDiff['reason'];
  moved: MovedLesson[];
  at: Date;
  by: string;
}

const entrySchema = new Schema<EntryDoc>(
  {
    build: { type: String, required: true },
    version: { type: Number, required: true },
    lessonId: String,
    title: String,
    grade: String,
    subject: String,
    unit: String,
    order: Number,
    teacherId: String,
    date: String,
    slot: Number,
    start: String,
    end: String,
    channels: [String],
    recording: String,
    vodLessonId: String,
  },
  { versionKey: false },
);
// The reads: a grade's or a teacher's days, a channel's programme, api lessons' slots, all for the current version.
entrySchema.index({ build: 1, grade: 1, date: 1, start: 1 });
entrySchema.index({ build: 1, channels: 1, date: 1, start: 1 });
entrySchema.index({ build: 1, teacherId: 1, date: 1 });
entrySchema.index({ build: 1, vodLessonId: 1, date: 1 });
const metaSchema = new Schema<MetaDoc>({
  _id: String,
  version: Number,
  build: String,
  planVersion: Number,
  lessons: Number,
  days: Number,
  builtAt: Date,
  ms: Number,
  score: { spread: Number, coreMorning: Number, steadiness: Number, total: Number },
});
const changeSchema = new Schema<ChangeDoc>({
  version: { type: Number, index: true },
  reason: String,
  moved: Schema.Types.Mixed,
  at: Date,
  by: String,
});

export interface ScheduleMeta {
  version: number;
  build: string;
  planVersion: number;
  /** Entries and school days of this build: the summary reads them without loading the timetable or the plan. */
  lessons: number;
  days: number;
  builtAt: Date;
  ms: number;
  score: ScheduleScore;
}

export interface EntryFilter {
  grade?: GradeId | undefined;
  teacherId?: string | undefined;
  channelId?: string | undefined;
  /** Entries linked to any of these api lessons. */
  vodLessonIds?: readonly string[] | undefined;
  recording?: RecordingStatus | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/**
 * Schedules are versioned: a new version's entries are written beside the old ones, then one atomic
 * update of the meta document makes them current (readers never see a half-written timetable), then
 * the old version is deleted. Two admins changing it at once: the second gets `false` and retries.
 */
export class ScheduleRepository {
  private readonly entries: Model<EntryDoc>;
  private readonly meta: Model<MetaDoc>;
  private readonly changes: Model<ChangeDoc>;
  constructor(conn: Connection) {
    this.entries = conn.model<EntryDoc>('ScheduleEntry', entrySchema, 'schedule_entries');
    this.meta = conn.model<MetaDoc>('ScheduleMeta', metaSchema, 'schedule_meta');
    this.changes = conn.model<ChangeDoc>('ScheduleChange', changeSchema, 'schedule_changes');
  }

  async current(): Promise<ScheduleMeta | undefined> {
    const doc = await this.meta.findById('current').lean();
    return doc
      ? {
          version: doc.version,
          build: doc.build,
          planVersion: doc.planVersion,
          lessons: doc.lessons,
          days: doc.days,
          builtAt: doc.builtAt,
          ms: doc.ms,
          score: doc.score,
        }
      : undefined;
  }

  async find(build: string, f: EntryFilter): Promise<ScheduleEntry[]> {
    const q: Record<string, unknown> = { build };
    if (f.grade) q['grade'] = f.grade;
    if (f.teacherId) q['teacherId'] = f.teacherId;
    if (f.channelId) q['channels'] = f.channelId;
    if (f.vodLessonIds) q['vodLessonId'] = { $in: f.vodLessonIds };
    if (f.recording) q['recording'] = f.recording;
    if (f.from || f.to) q['date'] = { ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lte: f.to } : {}) };
    const docs = await this.entries
      .find(q, { _id: 0, build: 0, version: 0 })
      .sort({ date: 1, start: 1, grade: 1 })
      .lean();
    return docs.map(({ vodLessonId, ...e }) => ({ ...e, ...(vodLessonId ? { vodLessonId } : {}) }));
  }

  /**
   * Makes `entries` the current schedule if the current version is still `expected` (0 = none);
   * records the change. Returns the new version, or undefined when another change won.
   */
  async replace(
    expected: number,
    entries: readonly ScheduleEntry[],
    meta: Omit<ScheduleMeta, 'version' | 'build' | 'lessons'>,
    change: Omit<ChangeDoc, 'version' | 'at'>,
  ): Promise<number | undefined> {
    const version = expected + 1;
    const build = randomUUID();
    await this.entries.insertMany(
      entries.map((e) => ({ ...e, build, version })),
      { ordered: false },
    );
    let won: boolean;
    if (expected === 0) {
      try {
        await this.meta.create({ _id: 'current', version, build, lessons: entries.length, ...meta });
        won = true;
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
        won = false;
      }
    } else {
      const res = await this.meta.updateOne(
        { _id: 'current', version: expected },
        { $set: { version, build, lessons: entries.length, ...meta } },
      );
      won = res.modifiedCount === 1;
    }
    if (!won) {
      await this.entries.deleteMany({ build });
      return undefined;
    }
    // Older builds and leftovers of writers that lost or crashed (never a newer writer's rows).
    await this.entries.deleteMany({ version: { $lte: version }, build: { $ne: build } });
    await this.changes.create({ ...change, version, at: new Date() });
    return version;
  }

  async history(limit: number): Promise<(ChangeDoc & { version: number })[]> {
    return this.changes.find({}, { _id: 0, __v: 0 }).sort({ version: -1 }).limit(limit).lean();
  }
}
