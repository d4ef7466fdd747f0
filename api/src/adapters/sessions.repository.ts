import { Schema, type Connection, type Model } from 'mongoose';

/** A refresh-token session; the token itself is never stored, only its SHA-256. */
interface SessionDoc {
  _id: string;
  userId: string;
  tokenHash: string;
  expiresAt: Date;
}

const sessionSchema = new Schema<SessionDoc>({
  _id: { type: String, required: true },
  userId: { type: String, required: true, index: true },
  tokenHash: { type: String, required: true },
  expiresAt: { type: Date, required: true },
});
// MongoDB drops expired sessions by itself.
sessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export class SessionRepository {
  private readonly model: Model<SessionDoc>;
  constructor(conn: Connection) {
    this.model = conn.model<SessionDoc>('Session', sessionSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async create(s: SessionDoc): Promise<void> {
    await this.model.create(s);
  }

  /** Removes and returns the session in one step, so a refresh token works exactly once. */
  async take(id: string): Promise<SessionDoc | null> {
    return this.model.findOneAndDelete({ _id: id }).lean();
  }

  async deleteForUser(userId: string): Promise<void> {
    await this.model.deleteMany({ userId });
  }
}
