import type { GradeId, PublicUser, Role } from '@sky/contracts';
import { GRADE_IDS, ROLES } from '@sky/contracts';
import { Schema, type Connection, type Model } from 'mongoose';

export interface UserDoc {
  username: string;
  passwordHash: string;
  displayName: string;
  role: Role;
  grade?: GradeId | undefined;
  school?: string | undefined;
  district?: string | undefined;
  /** Set by an admin: the account cannot sign in (its sessions were ended when it was set). */
  disabled?: boolean | undefined;
  /** Set by an admin's password reset: the temporary password only lets the user choose a new one. */
  mustChangePassword?: boolean | undefined;
  createdAt: Date;
}

const userSchema = new Schema<UserDoc>(
  {
    username: { type: String, required: true, unique: true },
    passwordHash: { type: String, required: true },
    displayName: { type: String, required: true },
    role: { type: String, required: true, enum: ROLES },
    grade: { type: String, enum: GRADE_IDS },
    school: String,
    district: String,
    disabled: Boolean,
    mustChangePassword: Boolean,
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
userSchema.index({ role: 1, grade: 1 });
userSchema.index({ createdAt: -1, _id: -1 });

export type NewUser = Omit<UserDoc, 'createdAt'>;

export class UserRepository {
  private readonly model: Model<UserDoc>;
  constructor(conn: Connection) {
    this.model = conn.model<UserDoc>('User', userSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async findByUsername(username: string): Promise<(UserDoc & { id: string }) | null> {
    const doc = await this.model.findOne({ username }).lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  async findById(id: string): Promise<(UserDoc & { id: string }) | null> {
    const doc = await this.model.findById(id).lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /** Creates the user; returns null when the username is taken. */
  async create(user: NewUser): Promise<(UserDoc & { id: string }) | null> {
    try {
      const doc = await this.model.create(user);
      return { ...doc.toObject(), id: String(doc._id) };
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return null;
      throw err;
    }
  }

  /** Disables or enables the account; null when there is no such user. */
  async setDisabled(id: string, disabled: boolean): Promise<(UserDoc & { id: string }) | null> {
    const update = disabled ? { $set: { disabled: true } } : { $unset: { disabled: 1 } };
    const doc = await this.model.findByIdAndUpdate(id, update, { new: true }).lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /** Sets a temporary password (an admin's reset): it only lets the user choose a new one. */
  async setTemporaryPassword(id: string, passwordHash: string): Promise<(UserDoc & { id: string }) | null> {
    const doc = await this.model
      .findByIdAndUpdate(id, { $set: { passwordHash, mustChangePassword: true } }, { new: true })
      .lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /**
   * Replaces the password only while `oldHash` is still the stored one: of two changes racing with the
   * same old password (a temporary one used twice at once), one wins; null for the other.
   */
  async replacePassword(
    id: string,
    oldHash: string,
    passwordHash: string,
  ): Promise<(UserDoc & { id: string }) | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, passwordHash: oldHash },
        { $set: { passwordHash }, $unset: { mustChangePassword: 1 } },
        { new: true },
      )
      .lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /** True when the user existed. */
  async delete(id: string): Promise<boolean> {
    return (await this.model.deleteOne({ _id: id })).deletedCount === 1;
  }

  async count(): Promise<number> {
    return this.model.estimatedDocumentCount();
  }

  /** Newest first; `words`: a literal part of the username or the name, in any case. */
  async list(filter: { role?: Role; words?: string }, limit: number, skip: number) {
    const query: Record<string, unknown> = {};
    if (filter.role) query['role'] = filter.role;
    if (filter.words) {
      const part = new RegExp(filter.words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      query['$or'] = [{ username: part }, { displayName: part }];
    }
    const [docs, total] = await Promise.all([
      // _id breaks ties of createdAt, so consecutive pages neither repeat nor skip anyone
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean(),
      this.model.countDocuments(query),
    ]);
    return { items: docs.map((d) => toPublicUser({ ...d, id: String(d._id) })), total };
  }
}

export function toPublicUser(u: UserDoc & { id: string }): PublicUser {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    ...(u.grade ? { grade: u.grade } : {}),
    ...(u.school ? { school: u.school } : {}),
    ...(u.district ? { district: u.district } : {}),
    ...(u.disabled ? { disabled: true } : {}),
    ...(u.mustChangePassword ? { mustChangePassword: true } : {}),
  };
}
