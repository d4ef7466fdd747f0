import { Schema, Types, type Connection, type Model } from 'mongoose';

interface AnswerDoc {
  text: string;
  byId: string;
  byName: string;
  at: Date;
}

interface QuestionDoc {
  lessonId: string;
  /** The lesson's teacher when it was asked: the teacher's inbox reads by it. */
  teacherId: string;
  authorId: string;
  authorName: string;
  anonymous: boolean;
  text: string;
  votes: number;
  answer?: AnswerDoc | undefined;
  answeredOnAir: boolean;
  /** answer or answeredOnAir, kept as a field so that lists can be indexed by it. */
  answered: boolean;
  pinned: boolean;
  hidden: boolean;
  hiddenReason?: string | undefined;
  /** Deleted by its author: kept as a tombstone, never listed. */
  deleted: boolean;
  position?: number | undefined;
  liveOffset?: number | undefined;
  /** Counts every change; a change's snapshot with a higher rev includes all earlier ones. */
  rev: number;
  editedAt?: Date | undefined;
  createdAt: Date;
}

export type QuestionRecord = QuestionDoc & { id: string };

interface VoteDoc {
  lessonId: string;
  questionId: string;
  userId: string;
}

export type AuditAction = 'hide' | 'unhide' | 'mute' | 'unmute';
interface AuditDoc {
  lessonId: string;
  action: AuditAction;
  actorId: string;
  actorRole: string;
  questionId?: string | undefined;
  userId?: string | undefined;
  reason?: string | undefined;
  minutes?: number | undefined;
  at: Date;
}
export type AuditRecord = AuditDoc & { id: string };

interface MuteDoc {
  lessonId: string;
  userId: string;
  until: Date;
  byId: string;
}

const questionSchema = new Schema<QuestionDoc>(
  {
    lessonId: { type: String, required: true },
    teacherId: { type: String, required: true },
    authorId: { type: String, required: true },
    authorName: { type: String, required: true },
    anonymous: { type: Boolean, required: true },
    text: { type: String, required: true },
    votes: { type: Number, required: true, default: 0 },
    answer: {
      type: new Schema<AnswerDoc>({ text: String, byId: String, byName: String, at: Date }, { _id: false }),
    },
    answeredOnAir: { type: Boolean, required: true, default: false },
    answered: { type: Boolean, required: true, default: false },
    pinned: { type: Boolean, required: true, default: false },
    hidden: { type: Boolean, required: true, default: false },
    hiddenReason: String,
    deleted: { type: Boolean, required: true, default: false },
    position: Number,
    liveOffset: Number,
    rev: { type: Number, required: true, default: 1 },
    editedAt: Date,
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'qa_questions' },
);
// Room pages (top, new), the FAQ, and the inbox of one teacher or of everyone.
questionSchema.index({ lessonId: 1, pinned: -1, votes: -1, _id: 1 });
questionSchema.index({ lessonId: 1, _id: -1 });
questionSchema.index({ lessonId: 1, answered: 1, votes: -1, _id: 1 });
questionSchema.index({ teacherId: 1, answered: 1, _id: -1 });
questionSchema.index({ teacherId: 1, answered: 1, votes: -1, _id: 1 });
questionSchema.index({ answered: 1, _id: -1 });
questionSchema.index({ answered: 1, votes: -1, _id: 1 });

const voteSchema = new Schema<VoteDoc>(
  {
    lessonId: { type: String, required: true },
    questionId: { type: String, required: true },
    userId: { type: String, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'qa_votes' },
);
voteSchema.index({ lessonId: 1, questionId: 1, userId: 1 }, { unique: true });

const auditSchema = new Schema<AuditDoc>(
  {
    lessonId: { type: String, required: true },
    action: { type: String, required: true, enum: ['hide', 'unhide', 'mute', 'unmute'] },
    actorId: { type: String, required: true },
    actorRole: { type: String, required: true },
    questionId: String,
    userId: String,
    reason: String,
    minutes: Number,
    at: { type: Date, required: true },
  },
  { collection: 'qa_audit' },
);
auditSchema.index({ lessonId: 1, at: -1 });

const muteSchema = new Schema<MuteDoc>(
  {
    lessonId: { type: String, required: true },
    userId: { type: String, required: true },
    until: { type: Date, required: true },
    byId: { type: String, required: true },
  },
  { collection: 'qa_mutes' },
);
muteSchema.index({ lessonId: 1, userId: 1 }, { unique: true });
// Mongo drops a mute within a minute of its end; reads also check `until`.
muteSchema.index({ until: 1 }, { expireAfterSeconds: 0 });

/** Keyset pagination: the sort keys of the last item seen. */
export type SortOrder = 'top' | 'new' | 'votes';
export type After =
  { pinned: boolean; votes: number; id: string } | { id: string } | { votes: number; id: string };

export interface ListQuery {
  /** Equality conditions on question fields. */
  where: Partial<Pick<QuestionDoc, 'lessonId' | 'teacherId' | 'answered' | 'hidden'>>;
  /** Peers see hidden questions only when they wrote them. */
  hiddenVisibleTo?: string;
  order: SortOrder;
  after?: After | undefined;
  limit: number;
}

const SORTS: Record<SortOrder, Record<string, 1 | -1>> = {
  top: { pinned: -1, votes: -1, _id: 1 },
  new: { _id: -1 },
  votes: { votes: -1, _id: 1 },
};

/** Mongo conditions for "after this item" in each order. */
function afterCondition(order: SortOrder, after: After): Record<string, unknown> {
  const id = new Types.ObjectId(after.id);
  switch (order) {
    case 'new':
      return { _id: { $lt: id } };
    case 'votes': {
      const { votes } = after as { votes: number };
      return { $or: [{ votes: { $lt: votes } }, { votes, _id: { $gt: id } }] };
    }
    case 'top': {
      const { pinned, votes } = after as { pinned: boolean; votes: number };
      return {
        $or: [
          { pinned: { $lt: pinned } },
          { pinned, votes: { $lt: votes } },
          { pinned, votes, _id: { $gt: id } },
        ],
      };
    }
  }
}

type Lean<T> = T & { _id: Types.ObjectId };
const toRecord = (d: Lean<QuestionDoc>): QuestionRecord => {
  const { _id, ...rest } = d;
  return { ...rest, id: String(_id) };
};

/** Questions, votes (one per user and question), mutes with an end, and the moderation audit log. */
export class QaRepository {
  private readonly questions: Model<QuestionDoc>;
  private readonly votes: Model<VoteDoc>;
  private readonly audit: Model<AuditDoc>;
  private readonly mutes: Model<MuteDoc>;

  constructor(conn: Connection) {
    this.questions = conn.model<QuestionDoc>('QaQuestion', questionSchema);
    this.votes = conn.model<VoteDoc>('QaVote', voteSchema);
    this.audit = conn.model<AuditDoc>('QaAudit', auditSchema);
    this.mutes = conn.model<MuteDoc>('QaMute', muteSchema);
  }

  async init(): Promise<void> {
    await Promise.all([this.questions.init(), this.votes.init(), this.audit.init(), this.mutes.init()]);
  }

  async create(
    q: Omit<
      QuestionDoc,
      'votes' | 'answeredOnAir' | 'answered' | 'pinned' | 'hidden' | 'deleted' | 'rev' | 'createdAt'
    >,
  ): Promise<QuestionRecord> {
    const doc = await this.questions.create(q);
    return toRecord(doc.toObject());
  }

  /** A question that is not deleted. */
  async get(id: string): Promise<QuestionRecord | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const doc = await this.questions.findOne({ _id: id, deleted: false }).lean();
    return doc ? toRecord(doc) : null;
  }

  /** Applies a change to a question that matches `where` (and is not deleted); null when none does. */
  private async change(
    id: string,
    where: Record<string, unknown>,
    update: { $set?: Record<string, unknown>; $unset?: Record<string, 1>; $inc?: Record<string, number> },
  ): Promise<QuestionRecord | null> {
    const doc = await this.questions
      .findOneAndUpdate(
        { _id: id, deleted: false, ...where },
        { ...update, $inc: { ...update.$inc, rev: 1 } },
        { new: true },
      )
      .lean();
    return doc ? toRecord(doc) : null;
  }

  setAnswer(id: string, answer: AnswerDoc) {
    return this.change(id, {}, { $set: { answer, answered: true } });
  }

  /** Marks it answered on air (or not); `answered` follows whether a text answer exists too. */
  async setOnAir(id: string, onAir: boolean) {
    const withText = await this.change(id, { answer: { $exists: true } }, { $set: { answeredOnAir: onAir } });
    return (
      withText ??
      this.change(id, { answer: { $exists: false } }, { $set: { answeredOnAir: onAir, answered: onAir } })
    );
  }

  setPinned(id: string, pinned: boolean) {
    return this.change(id, {}, { $set: { pinned } });
  }

  /** Only a real transition (shown → hidden or back) changes anything; null otherwise. */
  setHidden(id: string, hidden: boolean, reason: string | undefined) {
    return this.change(
      id,
      { hidden: !hidden },
      hidden
        ? { $set: { hidden, ...(reason ? { hiddenReason: reason } : {}) } }
        : { $set: { hidden }, $unset: { hiddenReason: 1 } },
    );
  }

  /** The author's edit, only while unanswered. */
  edit(id: string, authorId: string, text: string, at: Date) {
    return this.change(id, { authorId, answered: false }, { $set: { text, editedAt: at } });
  }

  /** The author's delete, only while unanswered. */
  async remove(id: string, authorId: string): Promise<QuestionRecord | null> {
    const doc = await this.questions
      .findOneAndUpdate(
        { _id: id, deleted: false, authorId, answered: false },
        { $set: { deleted: true }, $inc: { rev: 1 } },
        { new: true },
      )
      .lean();
    return doc ? toRecord(doc) : null;
  }

  /** Adds the user's vote, or takes it back when there was one. */
  async toggleVote(
    q: QuestionRecord,
    userId: string,
  ): Promise<{ question: QuestionRecord; voted: boolean } | null> {
    const key = { lessonId: q.lessonId, questionId: q.id, userId };
    let voted: boolean;
    try {
      await this.votes.create(key);
      voted = true;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const { deletedCount } = await this.votes.deleteOne(key);
      // A concurrent toggle took it back already: nothing changed.
      if (deletedCount === 0) return null;
      voted = false;
    }
    const question = await this.change(q.id, {}, { $inc: { votes: voted ? 1 : -1 } });
    return question && { question, voted };
  }

  /** Which of these questions the user voted for. */
  async votedBy(lessonId: string, userId: string, questionIds: string[]): Promise<Set<string>> {
    if (questionIds.length === 0) return new Set();
    const found = await this.votes
      .find({ lessonId, questionId: { $in: questionIds }, userId }, { questionId: 1 })
      .lean();
    return new Set(found.map((v) => v.questionId));
  }

  async list(q: ListQuery): Promise<QuestionRecord[]> {
    const and: Record<string, unknown>[] = [{ ...q.where, deleted: false }];
    if (q.hiddenVisibleTo !== undefined)
      and.push({ $or: [{ hidden: false }, { authorId: q.hiddenVisibleTo }] });
    if (q.after) and.push(afterCondition(q.order, q.after));
    const docs = await this.questions
      .find(and.length === 1 ? and[0]! : { $and: and })
      .sort(SORTS[q.order])
      .limit(q.limit)
      .lean();
    return docs.map(toRecord);
  }

  async counts(lessonId: string): Promise<{ questions: number; unanswered: number }> {
    const [questions, unanswered] = await Promise.all([
      this.questions.countDocuments({ lessonId, deleted: false }),
      this.questions.countDocuments({ lessonId, deleted: false, answered: false }),
    ]);
    return { questions, unanswered };
  }

  async writeAudit(entry: Omit<AuditDoc, 'at'>, at: Date): Promise<void> {
    await this.audit.create({ ...entry, at });
  }

  async auditLog(lessonId: string, limit: number): Promise<AuditRecord[]> {
    const docs = await this.audit.find({ lessonId }).sort({ at: -1, _id: -1 }).limit(limit).lean();
    return docs.map(({ _id, ...rest }) => ({ ...rest, id: String(_id) }));
  }

  /** Mutes until `until`, or lifts the mute when `until` is null. */
  async setMute(lessonId: string, userId: string, until: Date | null, byId: string): Promise<void> {
    if (until === null) await this.mutes.deleteOne({ lessonId, userId });
    else await this.mutes.updateOne({ lessonId, userId }, { $set: { until, byId } }, { upsert: true });
  }

  async mutedUntil(lessonId: string, userId: string, now: Date): Promise<Date | null> {
    const mute = await this.mutes.findOne({ lessonId, userId, until: { $gt: now } }).lean();
    return mute?.until ?? null;
  }
}
