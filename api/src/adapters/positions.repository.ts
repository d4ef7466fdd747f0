import { Schema, type Connection, type Model } from 'mongoose';

/** One viewer's place in one lesson. */
interface PositionDoc {
  userId: string;
  lessonId: string;
  positionSec: number;
  updatedAt: Date;
}

const positionSchema = new Schema<PositionDoc>({
  userId: { type: String, required: true },
  lessonId: { type: String, required: true },
  positionSec: { type: Number, required: true, min: 0 },
  updatedAt: { type: Date, required: true },
});
positionSchema.index({ userId: 1, lessonId: 1 }, { unique: true });

export class PositionRepository {
  private readonly model: Model<PositionDoc>;
  constructor(conn: Connection) {
    this.model = conn.model<PositionDoc>('PlaybackPosition', positionSchema, 'playback_positions');
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async get(userId: string, lessonId: string): Promise<number | undefined> {
    return (await this.model.findOne({ userId, lessonId }, { positionSec: 1 }).lean())?.positionSec;
  }

  async save(userId: string, lessonId: string, positionSec: number, at: Date): Promise<void> {
    await this.model.updateOne(
      { userId, lessonId },
      { $set: { positionSec, updatedAt: at } },
      { upsert: true },
    );
  }
}
