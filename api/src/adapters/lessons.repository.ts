import type { GradeId, Lesson, LessonStatus } from '@sky/contracts';
import {
  GRADE_IDS,
  LESSON_STATUSES,
  MEDIA_FAILURES,
  withoutServerPaths,
  type MediaFailure,
} from '@sky/contracts';
import { Schema, Types, type Connection, type Model } from 'mongoose';

interface LessonDoc {
  title: string;
  description?: string;
  grade: GradeId;
  subject: string;
  unit?: string | undefined;
  teacherId: string;
  teacherName?: string | undefined;
  status: LessonStatus;
  /** Master playlist path relative to the media root, once ready. */
  master?: string | undefined;
  tvMaster?: string | undefined;
  poster?: string | undefined;
  storyboard?: string | undefined;
  durationSec?: number | undefined;
  failureReason?: string | undefined;
  failureCode?: MediaFailure | undefined;
  /** The teacher's upload in the media store, once one finished. */
  source?: string | undefined;
  /** Taught live (issue 5): written by LiveRepository. */
  live?:
    { state: 'live' | 'ended'; teacherId: string; startedAt: Date; endedAt?: Date | undefined } | undefined;
  createdAt: Date;
  updatedAt: Date;
}

const lessonSchema = new Schema<LessonDoc>(
  {
    title: { type: String, required: true },
    description: String,
    grade: { type: String, required: true, enum: GRADE_IDS },
    subject: { type: String, required: true },
    unit: String,
    teacherId: { type: String, required: true },
    teacherName: String,
    status: { type: String, required: true, enum: LESSON_STATUSES },
    master: String,
    tvMaster: String,
    poster: String,
    storyboard: String,
    durationSec: Number,
    failureReason: String,
    failureCode: { type: String, enum: MEDIA_FAILURES },
    source: String,
    live: {
      type: new Schema({ state: String, teacherId: String, startedAt: Date, endedAt: Date }, { _id: false }),
      required: false,
    },
  },
  { timestamps: true },
);
lessonSchema.index({ grade: 1, subject: 1, unit: 1, createdAt: -1 });
lessonSchema.index({ teacherId: 1, createdAt: -1 });
// a student's home asks every few seconds for the grade's lessons on the air: few, among many
lessonSchema.index({ 'live.state': 1, grade: 1, createdAt: -1 }, { sparse: true });

export type LessonRecord = LessonDoc & { id: string };

export class LessonRepository {
  private readonly model: Model<LessonDoc>;
  constructor(conn: Connection) {
    this.model = conn.model<LessonDoc>('Lesson', lessonSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async create(l: Omit<LessonDoc, 'createdAt' | 'updatedAt'>): Promise<LessonRecord> {
    const doc = await this.model.create(l);
    return { ...doc.toObject(), id: String(doc._id) };
  }

  async findById(id: string): Promise<LessonRecord | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const doc = await this.model.findById(id).lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  async update(
    id: string,
    set: Partial<LessonDoc>,
    unset: (keyof LessonDoc)[] = [],
  ): Promise<LessonRecord | null> {
    const update: Record<string, unknown> = { $set: set };
    if (unset.length) update['$unset'] = Object.fromEntries(unset.map((k) => [k, 1]));
    const doc = await this.model.findByIdAndUpdate(id, update, { new: true }).lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /**
   * Sets the lesson's new state unless it is being processed, in one step: of two uploads finishing at
   * once, or two transcode requests, exactly one gets the lesson (null for the other).
   */
  async updateUnlessProcessing(
    id: string,
    set: Partial<LessonDoc>,
    unset: (keyof LessonDoc)[] = [],
  ): Promise<LessonRecord | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const update: Record<string, unknown> = { $set: set };
    if (unset.length) update['$unset'] = Object.fromEntries(unset.map((k) => [k, 1]));
    const doc = await this.model
      .findOneAndUpdate({ _id: id, status: { $ne: 'processing' } }, update, { new: true })
      .lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /**
   * Like `update`, for a change of grade or subject: only while the lesson is a draft or a failed upload
   * and was never taught live (`lessonPlacementFixed` in contracts, as a query); null otherwise.
   */
  async updateWhilePlacementOpen(
    id: string,
    set: Partial<LessonDoc>,
    unset: (keyof LessonDoc)[] = [],
  ): Promise<LessonRecord | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const update: Record<string, unknown> = { $set: set };
    if (unset.length) update['$unset'] = Object.fromEntries(unset.map((k) => [k, 1]));
    const doc = await this.model
      .findOneAndUpdate({ _id: id, status: { $in: ['draft', 'failed'] }, live: { $exists: false } }, update, {
        new: true,
      })
      .lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /** Deletes the lesson if it is as it was when read (`updatedAt`) and not live; false otherwise. */
  async deleteUnchanged(id: string, updatedAt: Date): Promise<boolean> {
    if (!Types.ObjectId.isValid(id)) return false;
    const res = await this.model.deleteOne({ _id: id, updatedAt, 'live.state': { $ne: 'live' } });
    return res.deletedCount === 1;
  }

  async units(filter: { grade: GradeId; subject: string; status?: LessonStatus }): Promise<string[]> {
    const found: unknown[] = await this.model.distinct('unit', { ...filter, unit: { $exists: true } });
    const units = found.filter((u): u is string => typeof u === 'string');
    return units.sort((a, b) => unitNumber(a) - unitNumber(b) || a.localeCompare(b, 'zh-CN'));
  }

  async list(
    filter: {
      grade?: GradeId;
      subject?: string;
      unit?: string;
      status?: LessonStatus | { not: LessonStatus };
      teacherId?: string;
      titleWords?: string;
      /** Taught live: on the air now, or ended. */
      live?: 'live' | 'ended';
    },
    limit: number,
    skip: number,
  ) {
    const query: Record<string, string | RegExp | { $ne: string }> = {};
    if (filter.grade) query['grade'] = filter.grade;
    if (filter.subject) query['subject'] = filter.subject;
    if (filter.unit) query['unit'] = filter.unit;
    // Titles are short and Chinese has no spaces: a literal substring match (escaped) serves both.
    if (filter.titleWords)
      query['title'] = new RegExp(filter.titleWords.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    if (typeof filter.status === 'string') query['status'] = filter.status;
    else if (filter.status) query['status'] = { $ne: filter.status.not };
    if (filter.teacherId) query['teacherId'] = filter.teacherId;
    if (filter.live) query['live.state'] = filter.live;
    const [docs, total] = await Promise.all([
      this.model.find(query).sort({ createdAt: -1 }).skip(skip).limit(limit).lean(),
      this.model.countDocuments(query),
    ]);
    return { items: docs.map((d) => ({ ...d, id: String(d._id) })), total };
  }
}

const DIGITS: Record<string, number> = {
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/** 第十二单元 → 12, "Unit 3" → 3: textbooks number their units; names without a number sort last. */
export function unitNumber(unit: string): number {
  const arabic = /\d+/.exec(unit);
  if (arabic) return Number(arabic[0]);
  const zh = /[一二两三四五六七八九十]+/.exec(unit)?.[0];
  if (!zh) return Number.MAX_SAFE_INTEGER;
  const [tens, ones] = zh.includes('十') ? zh.split('十') : ['', zh];
  const t = zh.includes('十') ? (tens ? (DIGITS[tens] ?? 0) : 1) : 0;
  return t * 10 + (ones ? (DIGITS[ones] ?? 0) : 0);
}

export function toLesson(r: LessonRecord, mediaBaseUrl: string): Lesson {
  return {
    id: r.id,
    title: r.title,
    ...(r.description ? { description: r.description } : {}),
    grade: r.grade,
    subject: r.subject,
    ...(r.unit ? { unit: r.unit } : {}),
    teacherId: r.teacherId,
    ...(r.teacherName ? { teacherName: r.teacherName } : {}),
    status: r.status,
    ...(r.master ? { playbackUrl: `${mediaBaseUrl}/${r.master}` } : {}),
    ...(r.tvMaster ? { tvPlaybackUrl: `${mediaBaseUrl}/${r.tvMaster}` } : {}),
    ...(r.poster ? { posterUrl: `${mediaBaseUrl}/${r.poster}` } : {}),
    ...(r.storyboard ? { storyboardUrl: `${mediaBaseUrl}/${r.storyboard}` } : {}),
    ...(r.durationSec !== undefined ? { durationSec: r.durationSec } : {}),
    // rows written before reasons were cleaned may still name server paths
    ...(r.failureReason ? { failureReason: withoutServerPaths(r.failureReason) } : {}),
    ...(r.failureCode ? { failureCode: r.failureCode } : {}),
    ...(r.live
      ? {
          live: {
            state: r.live.state,
            teacherId: r.live.teacherId,
            startedAt: r.live.startedAt.toISOString(),
            ...(r.live.endedAt ? { endedAt: r.live.endedAt.toISOString() } : {}),
          },
        }
      : {}),
    createdAt: r.createdAt.toISOString(),
  };
}
