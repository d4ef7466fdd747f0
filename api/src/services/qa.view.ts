// Pure Q&A helpers: what each viewer may see of a question or a change, and page cursors.
import { AppError, QuestionChange, type QaEvent, type Question } from '@sky/contracts';
import { z } from 'zod';
import type { After, QuestionRecord, SortOrder } from '../adapters/qa.repository.js';

/** Who looks: staff of the room (the lesson's teacher, admins) or a peer; `userId` finds their own questions. */
export interface Viewer {
  userId: string;
  staff: boolean;
}
/** The three audiences a change is delivered to (peers match no author). */
export const STAFF: Viewer = { userId: '', staff: true };
export const PEERS: Viewer = { userId: '', staff: false };

/** A question as the room log keeps it: everything, JSON-safe. */
export const Snapshot = z.object({
  id: z.string(),
  lessonId: z.string(),
  authorId: z.string(),
  authorName: z.string(),
  anonymous: z.boolean(),
  text: z.string(),
  votes: z.number(),
  answer: z.object({ text: z.string(), byName: z.string(), at: z.string() }).optional(),
  answeredOnAir: z.boolean(),
  pinned: z.boolean(),
  hidden: z.boolean(),
  hiddenReason: z.string().optional(),
  deleted: z.boolean(),
  position: z.number().optional(),
  liveOffset: z.number().optional(),
  createdAt: z.string(),
  editedAt: z.string().optional(),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** One change of a room, as logged for `room:join {since}` (with its seq) and broadcast. */
export const Change = z.object({
  kind: z.enum(['new', 'updated', 'deleted']),
  change: QuestionChange.optional(),
  /** Hidden before this change: peers then saw nothing of it. */
  hiddenBefore: z.boolean(),
  q: Snapshot,
});
export type Change = z.infer<typeof Change>;
export const LoggedChange = Change.extend({ seq: z.number().int() });

export function snapshot(r: QuestionRecord): Snapshot {
  return {
    id: r.id,
    lessonId: r.lessonId,
    authorId: r.authorId,
    authorName: r.authorName,
    anonymous: r.anonymous,
    text: r.text,
    votes: r.votes,
    ...(r.answer
      ? { answer: { text: r.answer.text, byName: r.answer.byName, at: r.answer.at.toISOString() } }
      : {}),
    answeredOnAir: r.answeredOnAir,
    pinned: r.pinned,
    hidden: r.hidden,
    ...(r.hiddenReason ? { hiddenReason: r.hiddenReason } : {}),
    deleted: r.deleted,
    ...(r.position !== undefined && r.position !== null ? { position: r.position } : {}),
    ...(r.liveOffset !== undefined && r.liveOffset !== null ? { liveOffset: r.liveOffset } : {}),
    createdAt: r.createdAt.toISOString(),
    ...(r.editedAt ? { editedAt: r.editedAt.toISOString() } : {}),
  };
}

const isOwn = (q: Snapshot, v: Viewer) => v.userId !== '' && q.authorId === v.userId;

/** Whether the viewer sees the question at all. */
export function visibleTo(q: Pick<Snapshot, 'deleted' | 'hidden' | 'authorId'>, v: Viewer): boolean {
  return !q.deleted && (!q.hidden || v.staff || (v.userId !== '' && q.authorId === v.userId));
}

/** The question as this viewer may see it: anonymity towards peers, author ids for staff and the author. */
export function toQuestion(q: Snapshot, v: Viewer, seq: number, votedByMe?: boolean): Question {
  const knowsAuthor = v.staff || isOwn(q, v);
  return {
    id: q.id,
    lessonId: q.lessonId,
    text: q.text,
    author: q.anonymous && !knowsAuthor ? null : q.authorName,
    ...(knowsAuthor ? { authorId: q.authorId } : {}),
    anonymous: q.anonymous,
    votes: q.votes,
    ...(votedByMe === undefined ? {} : { votedByMe }),
    ...(q.answer ? { answer: { text: q.answer.text, by: q.answer.byName, at: q.answer.at } } : {}),
    answeredOnAir: q.answeredOnAir,
    pinned: q.pinned,
    hidden: q.hidden,
    ...(v.staff && q.hiddenReason ? { hiddenReason: q.hiddenReason } : {}),
    ...(q.position !== undefined ? { position: q.position } : {}),
    ...(q.liveOffset !== undefined ? { liveOffset: q.liveOffset } : {}),
    createdAt: q.createdAt,
    ...(q.editedAt ? { editedAt: q.editedAt } : {}),
    seq,
  };
}

/**
 * The event a viewer gets for a change, or none. For peers hiding a question removes it
 * (`question:deleted`) and showing it again adds it (`question:new`); hidden questions stay silent.
 */
export function eventFor(c: Change, v: Viewer, seq: number): QaEvent | null {
  const q = c.q;
  const before = c.kind !== 'new' && visibleTo({ ...q, deleted: false, hidden: c.hiddenBefore }, v);
  const after = visibleTo(q, v);
  const base = { seq, lessonId: q.lessonId };
  if (!before && !after) return null;
  if (before && !after) return { type: 'question:deleted', ...base, questionId: q.id };
  const question = toQuestion(q, v, seq);
  if (!before) return { type: 'question:new', ...base, question };
  return { type: 'question:updated', ...base, question, change: c.change ?? 'edit' };
}

// Cursors: base64url JSON of the last item's sort keys and the order they belong to.
const CursorBody = z.object({
  o: z.enum(['top', 'new', 'votes']),
  id: z.string().regex(/^[a-f0-9]{24}$/),
  p: z.boolean().optional(),
  v: z.number().int().optional(),
});

export function encodeCursor(order: SortOrder, last: QuestionRecord): string {
  const body: z.infer<typeof CursorBody> = {
    o: order,
    id: last.id,
    ...(order === 'top' ? { p: last.pinned } : {}),
    ...(order === 'new' ? {} : { v: last.votes }),
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(order: SortOrder, cursor: string | undefined): After | undefined {
  if (cursor === undefined) return undefined;
  let parsed: z.infer<typeof CursorBody> | undefined;
  try {
    const body = CursorBody.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (body.success) parsed = body.data;
  } catch {
    // not JSON: handled below
  }
  if (!parsed || parsed.o !== order)
    throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor of this list');
  if (order === 'new') return { id: parsed.id };
  if (parsed.v === undefined) throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor of this list');
  if (order === 'votes') return { votes: parsed.v, id: parsed.id };
  return { pinned: parsed.p ?? false, votes: parsed.v, id: parsed.id };
}
