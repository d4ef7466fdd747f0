import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One refresh token; the token itself is never stored, only its SHA-256. Every token belongs to the
 * family of one sign-in (`familyId`, also the access tokens' `sid`); a rotated token stays, marked
 * `usedAt`, until it expires, so that presenting it again is recognised as reuse.
 */
export interface SessionDoc {
  _id: string;
  /** Absent on tokens issued before families existed: such a token is its own family. */
  familyId?: string;
  userId: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt?: Date;
}

const sessionSchema = new Schema<SessionDoc>({
  _id: { type: String, required: true },
  familyId: { type: String, index: true },
  userId: { type: String, required: true, index: true },
  tokenHash: { type: String, required: true },
  expiresAt: { type: Date, required: true },
  usedAt: Date,
});
// MongoDB drops expired sessions by itself.
sessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const familyOf = (s: SessionDoc): string => s.familyId ?? s._id;

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

  async find(id: string): Promise<SessionDoc | null> {
    return this.model.findById(id).lean();
  }

  /** Marks the token used in one step; null when it already was (or is gone), so it rotates exactly once. */
  async markUsed(id: string): Promise<SessionDoc | null> {
    return this.model
      .findOneAndUpdate({ _id: id, usedAt: { $exists: false } }, { $set: { usedAt: new Date() } })
      .lean();
  }

  /** Deletes every token of one sign-in. */
  async deleteFamily(familyId: string): Promise<void> {
    await this.model.deleteMany({ $or: [{ familyId }, { _id: familyId }] });
  }

  /** Deletes every token of a user but those of one sign-in; returns the sign-ins that ended. */
  async deleteForUserExcept(userId: string, keepFamilyId: string): Promise<string[]> {
    const others = { userId, familyId: { $ne: keepFamilyId }, _id: { $ne: keepFamilyId } };
    const docs = await this.model.find(others, { familyId: 1 }).lean();
    await this.model.deleteMany(others);
    return [...new Set(docs.map(familyOf))];
  }

  /** Deletes every token of a user; returns the sign-ins that held them. */
  async deleteForUser(userId: string): Promise<string[]> {
    const docs = await this.model.find({ userId }, { familyId: 1 }).lean();
    await this.model.deleteMany({ userId });
    return [...new Set(docs.map(familyOf))];
  }
}
