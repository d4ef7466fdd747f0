import type { Connection, Model } from 'mongoose';
import type { LessonRecord } from './lessons.repository.js';

type LessonModel = Model<Omit<LessonRecord, 'id'>>;

/**
 * The live state of lessons, changed only by conditional updates so that two "go live" clicks or a
 * re-delivered "live ended" job cannot both win. Shares the lessons collection (LessonRepository's model).
 */
export class LiveRepository {
  private readonly model: LessonModel;
  constructor(conn: Connection) {
    this.model = conn.model('Lesson') as unknown as LessonModel;
  }

  /** Sets `live` on a draft lesson that has no video and was never live; null when that does not hold. */
  async start(id: string, teacherId: string, at: Date): Promise<LessonRecord | null> {
    const doc = await this.model
      .findOneAndUpdate(
        {
          _id: id,
          live: { $exists: false },
          status: 'draft',
          master: { $exists: false },
          source: { $exists: false },
        },
        { $set: { live: { state: 'live', teacherId, startedAt: at } } },
        { new: true },
      )
      .lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /**
   * Ends the live lesson once: live → ended, and the lesson goes to `status` (processing for the replay,
   * failed when nothing was recorded). Returns null when it had already ended.
   */
  async end(
    id: string,
    live: { teacherId: string; startedAt: Date; endedAt: Date },
    outcome: { status: 'processing' } | { status: 'failed'; failureReason: string },
  ): Promise<LessonRecord | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, 'live.state': { $ne: 'ended' } },
        {
          $set: {
            live: { state: 'ended', ...live },
            status: outcome.status,
            ...(outcome.status === 'failed'
              ? { failureCode: 'NO_STREAMS', failureReason: outcome.failureReason }
              : {}),
          },
        },
        { new: true },
      )
      .lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }
}
