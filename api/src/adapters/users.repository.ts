import type { GradeId, PublicUser, Role } from '@sky/contracts';
import { GRADE_IDS, ROLES } from '@sky/contracts';
import { Schema, type Connection, type Model } from 'mongoose';
import { searchKeys, searchPrefix } from '../services/user-search.js';

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
  /** With mustChangePassword: the temporary password is refused from then on. */
  temporaryPasswordExpiresAt?: Date | undefined;
  /** What the admin's search matches from the start (user-search.ts); kept by every write of the names. */
  searchKeys: string[];
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
    temporaryPasswordExpiresAt: Date,
    searchKeys: [String],
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
userSchema.index({ role: 1, grade: 1 });
const NEWEST_INDEX = { createdAt: -1, _id: -1 } as const;
userSchema.index(NEWEST_INDEX);
// The admin's search: an anchored prefix of one key is a range of this (multikey) index.
const SEARCH_INDEX = { searchKeys: 1 } as const;
userSchema.index(SEARCH_INDEX);

export type NewUser = Omit<UserDoc, 'createdAt' | 'searchKeys'>;

/** The stages of a query plan, outermost first (`FETCH`, `IXSCAN`…), with the index an IXSCAN reads. */
export interface PlanStage {
  stage: string;
  indexName?: string;
}

export class UserRepository {
  private readonly model: Model<UserDoc>;
  constructor(conn: Connection) {
    this.model = conn.model<UserDoc>('User', userSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
    await this.addSearchKeys();
  }

  /** Accounts written before the search had keys get theirs, in batches (once; later writes keep them). */
  private async addSearchKeys(): Promise<void> {
    const older = this.model
      .find({ searchKeys: { $exists: false } }, { username: 1, displayName: 1 })
      .lean()
      .cursor({ batchSize: 500 });
    let batch: { updateOne: { filter: { _id: unknown }; update: { $set: { searchKeys: string[] } } } }[] = [];
    for await (const u of older) {
      batch.push({
        updateOne: {
          filter: { _id: u._id },
          update: { $set: { searchKeys: searchKeys(u.username, u.displayName) } },
        },
      });
      if (batch.length === 500) {
        await this.model.bulkWrite(batch, { ordered: false });
        batch = [];
      }
    }
    if (batch.length > 0) await this.model.bulkWrite(batch, { ordered: false });
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
      const doc = await this.model.create({
        ...user,
        searchKeys: searchKeys(user.username, user.displayName),
      });
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

  /** A family's grade (its child's); null when there is no such account. */
  async setGrade(id: string, grade: GradeId): Promise<(UserDoc & { id: string }) | null> {
    const doc = await this.model.findByIdAndUpdate(id, { $set: { grade } }, { new: true }).lean();
    return doc ? { ...doc, id: String(doc._id) } : null;
  }

  /** Sets a temporary password (an admin's reset) until `expiresAt`: it only lets the user choose a new one. */
  async setTemporaryPassword(
    id: string,
    passwordHash: string,
    expiresAt: Date,
  ): Promise<(UserDoc & { id: string }) | null> {
    const doc = await this.model
      .findByIdAndUpdate(
        id,
        { $set: { passwordHash, mustChangePassword: true, temporaryPasswordExpiresAt: expiresAt } },
        { new: true },
      )
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
        { $set: { passwordHash }, $unset: { mustChangePassword: 1, temporaryPasswordExpiresAt: 1 } },
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

  /** Newest first; `words`: the start of the username, the name or a word of it (user-search.ts). */
  async list(filter: { role?: Role; words?: string }, limit: number, skip: number) {
    const { query, hint } = listQuery(filter);
    const [docs, total] = await Promise.all([
      // _id breaks ties of createdAt, so consecutive pages neither repeat nor skip anyone
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).hint(hint).lean(),
      this.model.countDocuments(query, filter.words ? { hint } : {}),
    ]);
    return { items: docs.map((d) => toPublicUser({ ...d, id: String(d._id) })), total };
  }

  /** The winning plan of a page of `list` (for operators, and the test that it reads an index). */
  async listPlan(filter: { role?: Role; words?: string }, limit: number, skip: number): Promise<PlanStage[]> {
    const { query, hint } = listQuery(filter);
    const explained = (await this.model
      .find(query)
      .sort({ createdAt: -1, _id: -1 })
      .skip(skip)
      .limit(limit)
      .hint(hint)
      .explain('queryPlanner')) as unknown as { queryPlanner: { winningPlan: PlanNode } };
    return stagesOf(explained.queryPlanner.winningPlan);
  }
}

interface PlanNode {
  stage?: string;
  indexName?: string;
  inputStage?: PlanNode;
  inputStages?: PlanNode[];
  queryPlan?: PlanNode;
}

/** A plan tree as a list, outermost first (the slot-based engine nests the classic plan in `queryPlan`). */
function stagesOf(node: PlanNode | undefined): PlanStage[] {
  if (!node) return [];
  const own: PlanStage[] = node.stage
    ? [{ stage: node.stage, ...(node.indexName ? { indexName: node.indexName } : {}) }]
    : [];
  return [
    ...own,
    ...stagesOf(node.queryPlan),
    ...stagesOf(node.inputStage),
    ...(node.inputStages ?? []).flatMap(stagesOf),
  ];
}

/**
 * A search reads the search index (hinted: sorting by the newest could tempt the planner to walk the
 * createdAt index over every account and filter); without one, the newest-first index gives the pages.
 */
function listQuery(filter: { role?: Role; words?: string }) {
  const query: Record<string, unknown> = {};
  if (filter.role) query['role'] = filter.role;
  if (filter.words) query['searchKeys'] = searchPrefix(filter.words);
  const hint: Record<string, 1 | -1> = filter.words ? SEARCH_INDEX : NEWEST_INDEX;
  return { query, hint };
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
    ...(u.mustChangePassword && u.temporaryPasswordExpiresAt
      ? { temporaryPasswordExpiresAt: u.temporaryPasswordExpiresAt.toISOString() }
      : {}),
  };
}
