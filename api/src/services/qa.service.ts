import { randomInt } from 'node:crypto';
import {
  AppError,
  ownsLesson,
  QA_LIMITS,
  type AccessClaims,
  type DeleteReply,
  type FaqPage,
  type FaqQuery,
  type InboxPage,
  type InboxQuery,
  type MuteReply,
  type Pairing,
  type PairingClaim,
  type PairingPlaybackBody,
  type PairingPlaybackReply,
  type QaAuditList,
  type QaRequest,
  type QaStats,
  type Question,
  type QuestionChange,
  type QuestionFilter,
  type QuestionPage,
  type RoomJoinReply,
  type UpvoteReply,
} from '@sky/contracts';
import { z } from 'zod';
import type { LessonRepository } from '../adapters/lessons.repository.js';
import type { QaRepository, QuestionRecord, SortOrder } from '../adapters/qa.repository.js';
import type { Delivery, QaRedis, RoomRef } from '../adapters/qa.redis.js';
import type { UserRepository } from '../adapters/users.repository.js';
import {
  Change,
  LoggedChange,
  PEERS,
  STAFF,
  decodeCursor,
  encodeCursor,
  eventFor,
  snapshot,
  toQuestion,
  visibleTo,
  type Viewer,
} from './qa.view.js';

/** A `room:join {since}` further back than this many changes gets a fresh page instead. */
const REPLAY_MAX = 500;
const LESSON_CACHE_MS = 30_000;
const PAIRING_PER_10_MIN = 10;
const CLAIMS_PER_10_MIN = 10;

const PairingValue = z.object({ lessonId: z.string(), by: z.string() });
/** The TV's report as kept: what it said, and when the api heard it (epoch ms, the api's clock). */
const StoredPlayback = z.object({
  position: z.number().optional(),
  liveOffset: z.number().optional(),
  playing: z.boolean(),
  at: z.number(),
});

interface LessonMeta {
  teacherId: string;
  title: string;
}

export interface QaServiceOptions {
  pairingTtlSec: number;
  now?: () => Date;
}

/**
 * Q&A rooms: questions, votes, answers and moderation. Every change goes through `publish`, which
 * gives it the room's next sequence number and delivers what each audience may see of it.
 */
export class QaService {
  private readonly lessonCache = new Map<string, LessonMeta & { until: number }>();
  private readonly now: () => Date;

  constructor(
    private readonly questions: QaRepository,
    private readonly redis: QaRedis,
    private readonly lessons: Pick<LessonRepository, 'findById'>,
    private readonly users: Pick<UserRepository, 'findById'>,
    private readonly opts: QaServiceOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Enters the room (through `enter`, before anything is read, so no change falls between the answer
   * and the live events) and answers with a page of questions, or with the changes after `since`.
   */
  async join(
    actor: AccessClaims,
    req: QaRequest<'room:join'>,
    enter: (rooms: RoomRef[]) => Promise<void>,
  ): Promise<RoomJoinReply> {
    const lesson = await this.lesson(req.lessonId);
    const viewer = viewerOf(actor, lesson);
    await enter([viewer.staff ? 'staff' : 'peers', { user: actor.sub }]);
    const muted = viewer.staff ? null : await this.questions.mutedUntil(req.lessonId, actor.sub, this.now());
    const base = {
      lessonId: req.lessonId,
      staff: viewer.staff,
      ...(muted ? { mutedUntil: muted.toISOString() } : {}),
    };
    if (req.since !== undefined) {
      const { latest, entries } = await this.redis.replay(req.lessonId, req.since, REPLAY_MAX);
      if (entries) {
        const events = entries.flatMap((raw) => {
          const logged = LoggedChange.safeParse(JSON.parse(raw));
          const event = logged.success ? eventFor(logged.data, viewer, logged.data.seq) : null;
          return event ? [event] : [];
        });
        return { ...base, seq: latest, questions: [], events };
      }
      const page = await this.list(req.lessonId, viewer, req.filter, undefined, req.limit);
      return { ...base, seq: latest, ...page, reset: true };
    }
    const seq = await this.redis.latest(req.lessonId);
    return { ...base, seq, ...(await this.list(req.lessonId, viewer, req.filter, req.cursor, req.limit)) };
  }

  /** The page `room:join` answers with, for clients without a socket. */
  async page(
    actor: AccessClaims,
    lessonId: string,
    q: { filter: QuestionFilter; cursor?: string | undefined; limit: number },
  ): Promise<QuestionPage> {
    const viewer = viewerOf(actor, await this.lesson(lessonId));
    const seq = await this.redis.latest(lessonId);
    return { seq, ...(await this.list(lessonId, viewer, q.filter, q.cursor, q.limit)) };
  }

  async ask(actor: AccessClaims, req: QaRequest<'question:ask'>): Promise<Question> {
    const lesson = await this.lesson(req.lessonId);
    const viewer = viewerOf(actor, lesson);
    if (!viewer.staff) {
      await this.assertNotMuted(req.lessonId, actor.sub);
      const free = await this.redis.takeSlot(`ask:${req.lessonId}:${actor.sub}`, QA_LIMITS.askIntervalSec);
      if (!free) {
        throw new AppError('RATE_LIMITED', `one question every ${QA_LIMITS.askIntervalSec} s in a room`);
      }
    }
    const rec = await this.questions.create({
      lessonId: req.lessonId,
      teacherId: lesson.teacherId,
      authorId: actor.sub,
      authorName: await this.nameOf(actor),
      anonymous: req.anonymous,
      text: req.text,
      ...(req.position === undefined ? {} : { position: req.position }),
      ...(req.liveOffset === undefined ? {} : { liveOffset: req.liveOffset }),
    });
    return this.publish(rec, 'new', undefined, false, viewer);
  }

  /** Toggles the user's vote. */
  async upvote(actor: AccessClaims, req: QaRequest<'question:upvote'>): Promise<UpvoteReply> {
    const q = await this.question(req.questionId);
    const viewer = viewerOf(actor, await this.lesson(q.lessonId));
    if (!visibleTo(q, viewer)) throw new AppError('NOT_FOUND', `no question ${req.questionId}`);
    const hits = await this.redis.hit(`votes:${actor.sub}`, 60);
    if (hits > QA_LIMITS.votesPerMinute) {
      throw new AppError('RATE_LIMITED', `at most ${QA_LIMITS.votesPerMinute} votes a minute`);
    }
    const toggled = await this.questions.toggleVote(q, actor.sub);
    if (!toggled) {
      // Another connection of this user toggled it back meanwhile.
      const now = await this.question(req.questionId);
      const voted = await this.questions.votedBy(q.lessonId, actor.sub, [q.id]);
      return { questionId: q.id, votes: now.votes, votedByMe: voted.has(q.id) };
    }
    await this.publish(toggled.question, 'updated', 'votes', toggled.question.hidden, viewer);
    return { questionId: q.id, votes: toggled.question.votes, votedByMe: toggled.voted };
  }

  async answer(actor: AccessClaims, req: { questionId: string; text: string }): Promise<Question> {
    const { viewer } = await this.asStaff(actor, req.questionId);
    const name = await this.nameOf(actor);
    const rec = await this.questions.setAnswer(req.questionId, {
      text: req.text,
      byId: actor.sub,
      byName: name,
      at: this.now(),
    });
    if (!rec) throw new AppError('NOT_FOUND', `no question ${req.questionId}`);
    return this.publish(rec, 'updated', 'answer', rec.hidden, viewer);
  }

  async answeredOnAir(actor: AccessClaims, req: QaRequest<'question:answeredOnAir'>): Promise<Question> {
    const { viewer } = await this.asStaff(actor, req.questionId);
    const rec = await this.questions.setOnAir(req.questionId, req.answeredOnAir);
    if (!rec) throw new AppError('NOT_FOUND', `no question ${req.questionId}`);
    return this.publish(rec, 'updated', 'onAir', rec.hidden, viewer);
  }

  async pin(actor: AccessClaims, req: QaRequest<'question:pin'>): Promise<Question> {
    const { viewer } = await this.asStaff(actor, req.questionId);
    const rec = await this.questions.setPinned(req.questionId, req.pinned);
    if (!rec) throw new AppError('NOT_FOUND', `no question ${req.questionId}`);
    return this.publish(rec, 'updated', 'pin', rec.hidden, viewer);
  }

  /** Moderation: hides a question from peers (its author still sees it), or shows it again; audited. */
  async hide(actor: AccessClaims, req: QaRequest<'question:hide'>): Promise<Question> {
    const { q, viewer } = await this.asStaff(actor, req.questionId);
    const rec = await this.questions.setHidden(req.questionId, req.hidden, req.reason);
    if (!rec) {
      // Already in that state (or deleted meanwhile): nothing to change, nothing to audit.
      const current = await this.question(req.questionId);
      const [seq] = await this.redis.questionSeqs(q.lessonId, [q.id]);
      return toQuestion(snapshot(current), viewer, seq ?? 0);
    }
    await this.questions.writeAudit(
      {
        lessonId: q.lessonId,
        action: req.hidden ? 'hide' : 'unhide',
        actorId: actor.sub,
        actorRole: actor.role,
        questionId: q.id,
        ...(req.reason ? { reason: req.reason } : {}),
      },
      this.now(),
    );
    return this.publish(rec, 'updated', 'hide', !req.hidden, viewer);
  }

  /** Moderation: the user may not ask or edit in this room for a while (0 minutes lifts it); audited. */
  async mute(actor: AccessClaims, req: QaRequest<'user:mute'>): Promise<MuteReply> {
    const lesson = await this.lesson(req.lessonId);
    if (!viewerOf(actor, lesson).staff) throw forbidden();
    const target = await this.users.findById(req.userId);
    if (!target) throw new AppError('NOT_FOUND', `no user ${req.userId}`);
    if (ownsLesson({ sub: req.userId, role: target.role }, lesson)) {
      throw new AppError('FORBIDDEN', 'the lesson’s staff cannot be muted');
    }
    const now = this.now();
    const until = req.minutes === 0 ? null : new Date(now.getTime() + req.minutes * 60_000);
    await this.questions.setMute(req.lessonId, req.userId, until, actor.sub);
    await this.questions.writeAudit(
      {
        lessonId: req.lessonId,
        action: until ? 'mute' : 'unmute',
        actorId: actor.sub,
        actorRole: actor.role,
        userId: req.userId,
        ...(until ? { minutes: req.minutes } : {}),
      },
      now,
    );
    const reply = { lessonId: req.lessonId, userId: req.userId, until: until?.toISOString() ?? null };
    await this.redis.notify(req.lessonId, { user: req.userId }, 'user:muted', {
      lessonId: req.lessonId,
      until: reply.until,
    });
    return reply;
  }

  /** The author changes the text, while nobody has answered. */
  async edit(actor: AccessClaims, req: QaRequest<'question:edit'>): Promise<Question> {
    const { q, viewer } = await this.ownQuestion(actor, req.questionId);
    await this.assertNotMuted(q.lessonId, actor.sub);
    const rec = await this.questions.edit(q.id, actor.sub, req.text, this.now());
    if (!rec) return this.explainRefusal(req.questionId);
    return this.publish(rec, 'updated', 'edit', rec.hidden, viewer);
  }

  /** The author takes the question back, while nobody has answered. */
  async remove(actor: AccessClaims, req: QaRequest<'question:delete'>): Promise<DeleteReply> {
    const { q, viewer } = await this.ownQuestion(actor, req.questionId);
    const rec = await this.questions.remove(q.id, actor.sub);
    if (!rec) return this.explainRefusal(req.questionId);
    await this.publish(rec, 'deleted', undefined, rec.hidden, viewer);
    return { questionId: rec.id };
  }

  /** Answered questions that are not hidden, most votes first, each with the moment to jump to. */
  async faq(actor: AccessClaims, lessonId: string, q: FaqQuery): Promise<FaqPage> {
    const viewer = viewerOf(actor, await this.lesson(lessonId));
    const recs = await this.questions.list({
      where: { lessonId, answered: true, hidden: false },
      order: 'votes',
      after: decodeCursor('votes', q.cursor),
      limit: q.limit + 1,
    });
    const { items, nextCursor } = paged(recs, q.limit, 'votes');
    const seqs = await this.redis.questionSeqs(
      lessonId,
      items.map((r) => r.id),
    );
    return {
      items: items.map((r, i) => {
        const jumpToSec = r.position ?? r.liveOffset;
        return {
          ...toQuestion(snapshot(r), viewer, seqs[i] ?? 0),
          ...(jumpToSec === undefined ? {} : { jumpToSec }),
        };
      }),
      ...nextCursor,
    };
  }

  /** Unanswered questions of the teacher's own lessons (every lesson for an admin). */
  async inbox(actor: AccessClaims, q: InboxQuery): Promise<InboxPage> {
    if (actor.role !== 'teacher' && actor.role !== 'admin') throw forbidden();
    const order: SortOrder = q.sort === 'top' ? 'votes' : 'new';
    const recs = await this.questions.list({
      where: { answered: false, hidden: false, ...(actor.role === 'admin' ? {} : { teacherId: actor.sub }) },
      order,
      after: decodeCursor(order, q.cursor),
      limit: q.limit + 1,
    });
    const { items, nextCursor } = paged(recs, q.limit, order);
    const titles = new Map<string, string>();
    for (const id of new Set(items.map((r) => r.lessonId))) {
      titles.set(id, (await this.lesson(id).catch(() => undefined))?.title ?? '');
    }
    const seqs = await Promise.all(
      items.map(async (r) => (await this.redis.questionSeqs(r.lessonId, [r.id]))[0] ?? 0),
    );
    return {
      items: items.map((r, i) => ({
        ...toQuestion(snapshot(r), STAFF, seqs[i] ?? 0),
        lessonTitle: titles.get(r.lessonId) ?? '',
      })),
      ...nextCursor,
    };
  }

  async audit(actor: AccessClaims, lessonId: string): Promise<QaAuditList> {
    if (!viewerOf(actor, await this.lesson(lessonId)).staff) throw forbidden();
    const entries = await this.questions.auditLog(lessonId, 200);
    return {
      items: entries.map((e) => ({
        id: e.id,
        lessonId: e.lessonId,
        action: e.action,
        actorId: e.actorId,
        ...(e.questionId ? { questionId: e.questionId } : {}),
        ...(e.userId ? { userId: e.userId } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        ...(e.minutes === undefined || e.minutes === null ? {} : { minutes: e.minutes }),
        at: e.at.toISOString(),
      })),
    };
  }

  async stats(
    actor: AccessClaims,
    lessonId: string,
    online: (lessonId: string) => Promise<number>,
  ): Promise<QaStats> {
    if (!viewerOf(actor, await this.lesson(lessonId)).staff) throw forbidden();
    const [counts, n] = await Promise.all([this.questions.counts(lessonId), online(lessonId)]);
    return { lessonId, online: n, ...counts };
  }

  /** A 6-digit code a TV shows so that phones find the lesson's room. */
  async createPairing(actor: AccessClaims, lessonId: string): Promise<Pairing> {
    await this.lesson(lessonId);
    if ((await this.redis.hit(`pairing:${actor.sub}`, 600)) > PAIRING_PER_10_MIN) {
      throw new AppError('RATE_LIMITED', 'too many pairing codes; use the one on screen');
    }
    const value = JSON.stringify({ lessonId, by: actor.sub });
    for (let attempt = 0; attempt < 8; attempt++) {
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      if (await this.redis.savePairing(code, value, this.opts.pairingTtlSec)) {
        const expiresAt = new Date(this.now().getTime() + this.opts.pairingTtlSec * 1000).toISOString();
        return { code, lessonId, expiresAt, ttlSec: this.opts.pairingTtlSec };
      }
    }
    throw new AppError('CONFLICT', 'no free pairing code right now; try again');
  }

  async claimPairing(actor: AccessClaims, code: string): Promise<PairingClaim> {
    if ((await this.redis.hit(`claim:${actor.sub}`, 600)) > CLAIMS_PER_10_MIN) {
      throw new AppError('RATE_LIMITED', 'too many codes tried; wait a few minutes');
    }
    const state = await this.redis.pairingState(code);
    const value = pairingValue(state.value);
    // a code on a TV screen is seen by whoever is in the room: the first phone keeps it (the same phone may
    // claim again, after a reload), any other is refused
    const holder = await this.redis.claimPairing(code, actor.sub, this.opts.pairingTtlSec);
    if (holder !== actor.sub) throw takenByAnother();
    return this.claimed(value.lessonId, state.playback);
  }

  /** The phone holding a code asks again: the lesson and where the TV's playback is now. */
  async pairing(actor: AccessClaims, code: string): Promise<PairingClaim> {
    const state = await this.redis.pairingState(code);
    const value = pairingValue(state.value);
    if (state.holder !== actor.sub) {
      if (state.holder !== null) throw takenByAnother();
      throw new AppError('FORBIDDEN', 'claim the code first (POST /api/qa/pairing/claim)');
    }
    return this.claimed(value.lessonId, state.playback);
  }

  /** The TV that made a code says where its playback is; the code stays valid while it does. */
  async reportPlayback(
    actor: AccessClaims,
    code: string,
    body: PairingPlaybackBody,
  ): Promise<PairingPlaybackReply> {
    const value = pairingValue((await this.redis.pairingState(code)).value);
    if (value.by !== actor.sub)
      throw new AppError('FORBIDDEN', 'only the TV that made this code reports to it');
    const stored = JSON.stringify({ ...body, at: this.now().getTime() });
    const saved = await this.redis.savePairingPlayback(code, stored, this.opts.pairingTtlSec);
    if (saved === 'expired') throw new AppError('NOT_FOUND', 'no such code, or it has expired');
    return { claimed: saved === 'claimed' };
  }

  private claimed(lessonId: string, rawPlayback: string | null): PairingClaim {
    const parsed = rawPlayback === null ? undefined : StoredPlayback.safeParse(JSON.parse(rawPlayback));
    if (!parsed?.success) return { lessonId };
    const { at, ...playback } = parsed.data;
    return { lessonId, playback: { ...playback, ageSec: Math.max(0, (this.now().getTime() - at) / 1000) } };
  }

  private async list(
    lessonId: string,
    viewer: Viewer,
    filter: QuestionFilter,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ questions: Question[]; nextCursor?: string }> {
    const order: SortOrder = filter === 'new' ? 'new' : 'top';
    const recs = await this.questions.list({
      where: { lessonId, ...(filter === 'unanswered' ? { answered: false } : {}) },
      ...(viewer.staff ? {} : { hiddenVisibleTo: viewer.userId }),
      order,
      after: decodeCursor(order, cursor),
      limit: limit + 1,
    });
    const { items, nextCursor } = paged(recs, limit, order);
    const ids = items.map((r) => r.id);
    const [seqs, voted] = await Promise.all([
      this.redis.questionSeqs(lessonId, ids),
      this.questions.votedBy(lessonId, viewer.userId, ids),
    ]);
    return {
      questions: items.map((r, i) => toQuestion(snapshot(r), viewer, seqs[i] ?? 0, voted.has(r.id))),
      ...nextCursor,
    };
  }

  /**
   * Commits a change: the room's next sequence number, the room log, and to each audience what it may
   * see (staff everything; the author their own question; peers the rest). Answers with the question
   * as the actor sees it.
   */
  private async publish(
    rec: QuestionRecord,
    kind: Change['kind'],
    change: QuestionChange | undefined,
    hiddenBefore: boolean,
    actor: Viewer,
  ): Promise<Question> {
    const c: Change = { kind, ...(change ? { change } : {}), hiddenBefore, q: snapshot(rec) };
    const author: RoomRef = { user: rec.authorId };
    const deliveries: Delivery[] = [];
    const deliver = (to: RoomRef, except: RoomRef | undefined, viewer: Viewer) => {
      const probe = eventFor(c, viewer, 0);
      if (!probe) return;
      deliveries.push({
        to,
        ...(except ? { except } : {}),
        event: probe.type,
        payload: (seq) => {
          const { type: _type, ...payload } = eventFor(c, viewer, seq)!;
          return payload;
        },
      });
    };
    deliver('staff', undefined, STAFF);
    deliver(author, 'staff', { userId: rec.authorId, staff: false });
    deliver('peers', author, PEERS);
    const { seq } = await this.redis.commit({
      lessonId: rec.lessonId,
      questionId: rec.id,
      rev: rec.rev,
      log: (s) => ({ ...c, seq: s }),
      deliveries,
    });
    return toQuestion(c.q, actor, seq);
  }

  private async lesson(id: string): Promise<LessonMeta> {
    const cached = this.lessonCache.get(id);
    if (cached && cached.until > Date.now()) return cached;
    const rec = await this.lessons.findById(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    if (this.lessonCache.size > 10_000) this.lessonCache.clear();
    const meta = { teacherId: rec.teacherId, title: rec.title, until: Date.now() + LESSON_CACHE_MS };
    this.lessonCache.set(id, meta);
    return meta;
  }

  private async question(id: string): Promise<QuestionRecord> {
    const q = await this.questions.get(id);
    if (!q) throw new AppError('NOT_FOUND', `no question ${id}`);
    return q;
  }

  private async asStaff(actor: AccessClaims, questionId: string) {
    const q = await this.question(questionId);
    const viewer = viewerOf(actor, await this.lesson(q.lessonId));
    if (!viewer.staff) throw forbidden();
    return { q, viewer };
  }

  private async ownQuestion(actor: AccessClaims, questionId: string) {
    const q = await this.question(questionId);
    const viewer = viewerOf(actor, await this.lesson(q.lessonId));
    if (q.authorId !== actor.sub) {
      if (!visibleTo(q, viewer)) throw new AppError('NOT_FOUND', `no question ${questionId}`);
      throw new AppError('FORBIDDEN', 'only its author may change a question');
    }
    if (q.answered) throw new AppError('CONFLICT', 'this question has been answered already');
    return { q, viewer };
  }

  /** Why an author's conditional change matched nothing. */
  private async explainRefusal(questionId: string): Promise<never> {
    const q = await this.question(questionId);
    if (q.answered) throw new AppError('CONFLICT', 'this question has been answered already');
    throw new AppError('CONFLICT', 'the question changed meanwhile; try again');
  }

  private async assertNotMuted(lessonId: string, userId: string): Promise<void> {
    const until = await this.questions.mutedUntil(lessonId, userId, this.now());
    if (until) throw new AppError('FORBIDDEN', `you are muted in this room until ${until.toISOString()}`);
  }

  private async nameOf(actor: AccessClaims): Promise<string> {
    const user = /^[a-f0-9]{24}$/.test(actor.sub) ? await this.users.findById(actor.sub) : null;
    return user?.displayName ?? actor.role;
  }
}

/** Staff of a room: the lesson's own teacher and admins. */
function viewerOf(actor: AccessClaims, lesson: LessonMeta): Viewer {
  return { userId: actor.sub, staff: ownsLesson(actor, lesson) };
}

function pairingValue(raw: string | null): z.infer<typeof PairingValue> {
  const value = raw === null ? undefined : PairingValue.safeParse(JSON.parse(raw));
  if (!value?.success) throw new AppError('NOT_FOUND', 'no such code, or it has expired');
  return value.data;
}

function takenByAnother(): AppError {
  return new AppError('CONFLICT', 'this code has been used by another phone; ask the TV for a new one');
}

function forbidden(): AppError {
  return new AppError('FORBIDDEN', 'only the lesson’s teacher or an admin may do this');
}

function paged(recs: QuestionRecord[], limit: number, order: SortOrder) {
  const items = recs.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: recs.length > limit && last ? { nextCursor: encodeCursor(order, last) } : {},
  };
}
