import { z } from 'zod';
import type { Ack } from './errors.js';
import { ObjectIdString } from './lessons.js';

/**
 * Q&A rooms, one per lesson, live and on its replay: socket.io namespace `/qa` plus a few HTTP routes.
 *
 * Who is who in a room. The lesson's own teacher and admins are the room's *staff*: they answer,
 * pin, hide and mute, see hidden questions and the real author of anonymous ones. Everyone else who is
 * signed in (students, families, other teachers, analysts) is a *peer*: peers never see hidden
 * questions (except their own) nor who asked an anonymous question. Roles come from the access token
 * only; any role a payload claims is ignored.
 *
 * Sequence numbers. Every change in a room (new question, vote, answer, pin, hide, edit, delete) gets
 * the next number of the room's sequence, `seq`, and reaches every api process in that order. A
 * client keeps the highest `seq` it has applied and:
 *  - applies an event for a question only when its `seq` is higher than the `seq` of the copy it
 *    holds (a `question:new` for an id it already has is an update);
 *  - buffers events that arrive before its `room:join` ack, then drops those with `seq` ≤ the ack's
 *    `seq` (the ack's page or `events` already include them);
 *  - after a reconnect, sends `room:join {lessonId, since: lastSeq}`: the ack's `events` are exactly
 *    the changes after `lastSeq` it may see, in order. When the server no longer holds them all the ack
 *    says `reset: true` and carries a fresh first page instead: drop local state and start over.
 * Numbers may skip (changes a viewer may not see are left out), so a gap is not an error.
 *
 * HTTP (every route needs a signed-in user):
 *  - GET  /api/lessons/:id/questions?filter=&cursor=&limit=  the `room:join` page (QuestionPage)
 *  - GET  /api/lessons/:id/faq?cursor=&limit=                answered questions by votes (FaqPage)
 *  - GET  /api/lessons/:id/qa/audit                          moderation log (staff; QaAuditList)
 *  - GET  /api/lessons/:id/qa/stats                          room size (staff; QaStats)
 *  - GET  /api/qa/inbox?sort=new|top&cursor=&limit=          unanswered questions (teachers, admins; InboxPage)
 *  - POST /api/qa/questions/:id/answer {text}                answer in place; the room sees it live (Question)
 *  - POST /api/qa/pairing {lessonId}                         TV second-screen code (families, students; Pairing)
 *  - POST /api/qa/pairing/claim {code}                       → {lessonId, playback?} (PairingClaim)
 *  - GET  /api/qa/pairing/:code                              the same, again, for the phone holding it
 *  - PUT  /api/qa/pairing/:code/playback                     the TV's playback (its maker) → {claimed}
 * Errors are application/problem+json like every api route.
 */

export const QA_LIMITS = {
  /** Characters of a question (as typed, before clean-up). */
  questionChars: 500,
  answerChars: 1000,
  reasonChars: 200,
  /** Bytes of one event's JSON payload; larger events are refused with PAYLOAD_TOO_LARGE. */
  eventBytes: 4096,
  /** One question per user per room in this many seconds. */
  askIntervalSec: 10,
  votesPerMinute: 30,
  /** Events one connection may send per second, whatever they are. */
  eventsPerSecond: 20,
  pageSize: 30,
  pageMax: 100,
  /** Longest mute; 0 minutes lifts a mute. */
  muteMaxMinutes: 7 * 24 * 60,
  pairingTtlSec: 600,
} as const;

/**
 * Text as typed → text as stored: Unicode NFC, line breaks unified, control characters and invisible
 * direction overrides (which can disguise text) removed, runs of spaces and blank lines collapsed,
 * trimmed. Text is stored and sent as plain text and must be rendered as text, never as HTML.
 */
export function cleanText(raw: string): string {
  return (
    raw
      .normalize('NFC')
      .replace(/\r\n?|[\u2028\u2029]/g, '\n')
      // zero-width space, LRM/RLM, bidi embeddings, overrides and isolates, BOM (ZWJ stays: emoji use it)
      .replace(/[\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '')
      .replace(/(?!\n)\p{Cc}/gu, ' ')
      .replace(/ {2,}/g, ' ')
      .replace(/ ?\n ?/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

const text = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .transform(cleanText)
    .pipe(z.string().min(1, 'must not be empty'));

export const QuestionText = text(QA_LIMITS.questionChars);
export const AnswerText = text(QA_LIMITS.answerChars);

/** top: pinned first, then most votes (oldest first among equals); new: newest first; unanswered: top order. */
export const QuestionFilter = z.enum(['top', 'new', 'unanswered']);
export type QuestionFilter = z.infer<typeof QuestionFilter>;

/** An opaque page cursor from a previous page's `nextCursor`. */
export const PageCursor = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor from this api');

/** Seconds into the recording (replay) or since the live lesson started. */
const Seconds = z.number().min(0).max(86_400);

export const Answer = z.object({
  text: z.string(),
  /** The display name of whoever answered. */
  by: z.string(),
  at: z.string(),
});
export type Answer = z.infer<typeof Answer>;

/** A question as one viewer may see it. */
export const Question = z.object({
  id: z.string(),
  lessonId: z.string(),
  text: z.string(),
  /** The author's display name; null when asked anonymously and the viewer is a peer. */
  author: z.string().nullable(),
  /** Only for staff and for the author. */
  authorId: z.string().optional(),
  /** Asked anonymously (hidden from peers, not from staff). */
  anonymous: z.boolean(),
  votes: z.number().int(),
  /** Whether this viewer voted; left out of broadcasts (each client tracks its own votes). */
  votedByMe: z.boolean().optional(),
  answer: Answer.optional(),
  answeredOnAir: z.boolean(),
  pinned: z.boolean(),
  /** Hidden by a moderator: only staff and the author still see it. */
  hidden: z.boolean(),
  /** Why it was hidden (staff only). */
  hiddenReason: z.string().optional(),
  /** Asked while watching the replay, this many seconds in. */
  position: z.number().optional(),
  /** Asked during the live lesson, this many seconds after it started. */
  liveOffset: z.number().optional(),
  createdAt: z.string(),
  editedAt: z.string().optional(),
  /** The room sequence number of this question's latest change (0 when unknown). */
  seq: z.number().int(),
});
export type Question = z.infer<typeof Question>;

export const QuestionChange = z.enum(['votes', 'answer', 'onAir', 'pin', 'hide', 'edit']);
export type QuestionChange = z.infer<typeof QuestionChange>;

// Server → client events. Peers see a question hidden as `question:deleted`, and shown again as `question:new`.
export const QuestionNewEvent = z.object({ seq: z.number().int(), lessonId: z.string(), question: Question });
export type QuestionNewEvent = z.infer<typeof QuestionNewEvent>;
export const QuestionUpdatedEvent = QuestionNewEvent.extend({ change: QuestionChange });
export type QuestionUpdatedEvent = z.infer<typeof QuestionUpdatedEvent>;
export const QuestionDeletedEvent = z.object({
  seq: z.number().int(),
  lessonId: z.string(),
  questionId: z.string(),
});
export type QuestionDeletedEvent = z.infer<typeof QuestionDeletedEvent>;
/** To the muted user only (not sequenced): `until` null when the mute is lifted. */
export const UserMutedEvent = z.object({ lessonId: z.string(), until: z.string().nullable() });
export type UserMutedEvent = z.infer<typeof UserMutedEvent>;

/** A missed event in a `room:join` ack: the event's name and its payload. */
export const QaEvent = z.discriminatedUnion('type', [
  QuestionNewEvent.extend({ type: z.literal('question:new') }),
  QuestionUpdatedEvent.extend({ type: z.literal('question:updated') }),
  QuestionDeletedEvent.extend({ type: z.literal('question:deleted') }),
]);
export type QaEvent = z.infer<typeof QaEvent>;

// Client → server payloads. Unknown keys are dropped (a forged `role` changes nothing).
const QuestionRef = z.object({ questionId: ObjectIdString });

export const RoomJoinRequest = z.object({
  lessonId: ObjectIdString,
  /** The last `seq` applied before a disconnect: the ack then carries the missed events. */
  since: z.number().int().min(0).optional(),
  filter: QuestionFilter.default('top'),
  cursor: PageCursor.optional(),
  limit: z.number().int().min(1).max(QA_LIMITS.pageMax).default(QA_LIMITS.pageSize),
});
export const RoomJoinReply = z.object({
  lessonId: z.string(),
  /** The room's latest sequence number this answer covers. */
  seq: z.number().int(),
  /** Whether this viewer is staff here (may answer, pin, hide, mute). */
  staff: z.boolean(),
  /** A page of questions (empty when resuming with `events`). */
  questions: z.array(Question),
  nextCursor: PageCursor.optional(),
  /** With `since`: the changes after it, in order. */
  events: z.array(QaEvent).optional(),
  /** `since` was too old or unknown here: `questions` is a fresh first page; drop local state. */
  reset: z.boolean().optional(),
  /** The viewer is muted in this room until then. */
  mutedUntil: z.string().optional(),
});
export type RoomJoinReply = z.infer<typeof RoomJoinReply>;

export const RoomLeaveRequest = z.object({ lessonId: ObjectIdString });

export const AskRequest = z
  .object({
    lessonId: ObjectIdString,
    text: QuestionText,
    /** Hide my name from other students and families (staff still see it). */
    anonymous: z.boolean().default(false),
    position: Seconds.optional(),
    liveOffset: Seconds.optional(),
  })
  .refine((r) => r.position === undefined || r.liveOffset === undefined, {
    path: ['liveOffset'],
    message: 'give position (replay) or liveOffset (live), not both',
  });

export const UpvoteRequest = QuestionRef;
/** Votes toggle: the reply says where this user's vote now stands. */
export const UpvoteReply = z.object({
  questionId: z.string(),
  votes: z.number().int(),
  votedByMe: z.boolean(),
});
export type UpvoteReply = z.infer<typeof UpvoteReply>;

/** Staff: answers in text (again to change the answer). */
export const AnswerRequest = QuestionRef.extend({ text: AnswerText });
/** Staff: answered out loud in the lesson (false takes it back). */
export const AnsweredOnAirRequest = QuestionRef.extend({ answeredOnAir: z.boolean().default(true) });
export const PinRequest = QuestionRef.extend({ pinned: z.boolean() });
/** Staff moderation, written to the room's audit log. */
export const HideRequest = QuestionRef.extend({
  hidden: z.boolean(),
  reason: z.string().trim().min(1).max(QA_LIMITS.reasonChars).optional(),
});
/** Staff moderation, audited: the user cannot ask or edit in this room for `minutes` (0 lifts it). */
export const MuteRequest = z.object({
  lessonId: ObjectIdString,
  userId: ObjectIdString,
  minutes: z.number().int().min(0).max(QA_LIMITS.muteMaxMinutes),
});
export const MuteReply = z.object({ lessonId: z.string(), userId: z.string(), until: z.string().nullable() });
export type MuteReply = z.infer<typeof MuteReply>;
/** The author, before any answer. */
export const EditRequest = QuestionRef.extend({ text: QuestionText });
export const DeleteRequest = QuestionRef;
export const DeleteReply = z.object({ questionId: z.string() });
export type DeleteReply = z.infer<typeof DeleteReply>;

/** Every client → server event and its payload schema (the server validates with these). */
export const QA_REQUESTS = {
  'room:join': RoomJoinRequest,
  'room:leave': RoomLeaveRequest,
  'question:ask': AskRequest,
  'question:upvote': UpvoteRequest,
  'question:answer': AnswerRequest,
  'question:answeredOnAir': AnsweredOnAirRequest,
  'question:pin': PinRequest,
  'question:hide': HideRequest,
  'user:mute': MuteRequest,
  'question:edit': EditRequest,
  'question:delete': DeleteRequest,
} as const;
export type QaEventName = keyof typeof QA_REQUESTS;
export type QaRequest<K extends QaEventName> = z.output<(typeof QA_REQUESTS)[K]>;

/** What each event's ack carries on success. */
export interface QaReplies {
  'room:join': RoomJoinReply;
  'room:leave': { lessonId: string };
  'question:ask': Question;
  'question:upvote': UpvoteReply;
  'question:answer': Question;
  'question:answeredOnAir': Question;
  'question:pin': Question;
  'question:hide': Question;
  'user:mute': MuteReply;
  'question:edit': Question;
  'question:delete': DeleteReply;
}

/**
 * Namespace /qa (socket.io). Connect with `auth: { token: <access token> }`; a refused connection's
 * error carries `data.code` (UNAUTHENTICATED, TOKEN_EXPIRED). Every event needs an ack callback, which
 * gets `{ ok: true, data }` or `{ ok: false, error: { code, message } }`: VALIDATION_FAILED (the
 * message names the field), FORBIDDEN, NOT_FOUND, CONFLICT (already answered), RATE_LIMITED,
 * PAYLOAD_TOO_LARGE (over 4 KB), INTERNAL. Unknown events get VALIDATION_FAILED.
 */
export type QaClientEvents = {
  [K in QaEventName]: (req: z.input<(typeof QA_REQUESTS)[K]>, ack: (res: Ack<QaReplies[K]>) => void) => void;
};
export interface QaServerEvents {
  'question:new': (e: QuestionNewEvent) => void;
  'question:updated': (e: QuestionUpdatedEvent) => void;
  'question:deleted': (e: QuestionDeletedEvent) => void;
  'user:muted': (e: UserMutedEvent) => void;
}

// HTTP

/** GET /api/lessons/:id/questions: the same page as `room:join`, for clients without a socket. */
export const QuestionListQuery = z.strictObject({
  filter: QuestionFilter.default('top'),
  cursor: PageCursor.optional(),
  limit: z.coerce.number().int().min(1).max(QA_LIMITS.pageMax).default(QA_LIMITS.pageSize),
});
export type QuestionListQuery = z.infer<typeof QuestionListQuery>;
export const QuestionPage = z.object({
  questions: z.array(Question),
  /** The room's latest sequence number when the page was read (a socket may resume from it). */
  seq: z.number().int(),
  nextCursor: PageCursor.optional(),
});
export type QuestionPage = z.infer<typeof QuestionPage>;

/** GET /api/lessons/:id/faq: answered questions (in text or on air), not hidden, most votes first. */
export const FaqQuery = z.strictObject({
  cursor: PageCursor.optional(),
  limit: z.coerce.number().int().min(1).max(QA_LIMITS.pageMax).default(QA_LIMITS.pageSize),
});
export type FaqQuery = z.infer<typeof FaqQuery>;
export const FaqItem = Question.extend({
  /** Where the replay should seek to hear the moment it was asked (position, else live offset). */
  jumpToSec: z.number().optional(),
});
export type FaqItem = z.infer<typeof FaqItem>;
export const FaqPage = z.object({ items: z.array(FaqItem), nextCursor: PageCursor.optional() });
export type FaqPage = z.infer<typeof FaqPage>;

/**
 * GET /api/qa/inbox (teachers: unanswered questions of their own lessons; admins: of every lesson),
 * not hidden, newest or most voted first. Answer in place with POST /api/qa/questions/:id/answer.
 */
export const InboxQuery = z.strictObject({
  sort: z.enum(['new', 'top']).default('new'),
  cursor: PageCursor.optional(),
  limit: z.coerce.number().int().min(1).max(QA_LIMITS.pageMax).default(QA_LIMITS.pageSize),
});
export type InboxQuery = z.infer<typeof InboxQuery>;
export const InboxItem = Question.extend({ lessonTitle: z.string() });
export type InboxItem = z.infer<typeof InboxItem>;
export const InboxPage = z.object({ items: z.array(InboxItem), nextCursor: PageCursor.optional() });
export type InboxPage = z.infer<typeof InboxPage>;

export const QuestionParams = z.strictObject({ id: ObjectIdString });
/** POST /api/qa/questions/:id/answer → the answered Question; the room sees it live. */
export const AnswerBody = z.strictObject({ text: AnswerText });

/**
 * TV second screen. The TV asks POST /api/qa/pairing {lessonId} as its household (the family or
 * student account that paired the box: a set-top box asks the tv-gateway, which asks the api on its
 * behalf) for a 6-digit code, valid 10 minutes (longer while the TV reports its playback), and shows
 * it. A phone signed in with its own
 * account sends the code to POST /api/qa/pairing/claim and gets the lessonId back; it then joins
 * `/qa` as itself (its own name, votes and rate limits; the code carries no identity and grants no
 * rights). The first phone to claim a code keeps it (the same phone may claim again after a reload);
 * another is refused with 409 CONFLICT, since anyone in the room can read a code off the TV screen.
 */
export const PairingBody = z.strictObject({ lessonId: ObjectIdString });
export const Pairing = z.object({
  code: z.string(),
  lessonId: z.string(),
  expiresAt: z.string(),
  ttlSec: z.number().int(),
});
export type Pairing = z.infer<typeof Pairing>;
export const PairingClaimBody = z.strictObject({
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, 'six digits'),
});
export const PairingCodeParams = z.strictObject({ code: PairingClaimBody.shape.code });

/**
 * PUT /api/qa/pairing/:code/playback (the TV that made the code, through the tv-gateway): where the
 * lesson on screen is — `liveOffset` on a channel airing it, `position` on demand or in catch-up —
 * and whether it plays. Each report keeps the code valid for another `ttlSec` (a code stays good while
 * the TV shows it) → PairingPlaybackReply: once a phone holds the code, the TV shows a new one for the
 * next phone and keeps reporting to both.
 */
export const PairingPlaybackBody = z
  .strictObject({ position: Seconds.optional(), liveOffset: Seconds.optional(), playing: z.boolean() })
  .refine((r) => (r.position === undefined) !== (r.liveOffset === undefined), {
    path: ['position'],
    message: 'give position (on demand) or liveOffset (on air), one of them',
  });
export type PairingPlaybackBody = z.infer<typeof PairingPlaybackBody>;
export const PairingPlaybackReply = z.object({ claimed: z.boolean() });
export type PairingPlaybackReply = z.infer<typeof PairingPlaybackReply>;
/** The TV's last report, `ageSec` old when the api answered (the api's clock, so the phone's may be off). */
export const PairingPlayback = z.object({
  position: z.number().optional(),
  liveOffset: z.number().optional(),
  playing: z.boolean(),
  ageSec: z.number().min(0),
});
export type PairingPlayback = z.infer<typeof PairingPlayback>;
/**
 * The claim's answer, and GET /api/qa/pairing/:code for the phone holding the code: the lesson and,
 * once the TV has reported, where its playback was.
 */
export const PairingClaim = z.object({ lessonId: z.string(), playback: PairingPlayback.optional() });
export type PairingClaim = z.infer<typeof PairingClaim>;

/** A playing TV keeps going for a report this old at most; past it, the phone sends no moment. */
export const PAIRING_PLAYBACK_STALE_SEC = 90;

/**
 * The moment of the lesson on the TV now, for a question asked from the phone: the TV's last report
 * moved on by the seconds since (`elapsedSec` more since the phone heard it), while it plays.
 */
export function playbackMoment(
  p: PairingPlayback | undefined,
  elapsedSec = 0,
): { position?: number; liveOffset?: number } {
  if (!p) return {};
  const age = p.ageSec + Math.max(0, elapsedSec);
  if (p.playing && age > PAIRING_PLAYBACK_STALE_SEC) return {};
  const moved = p.playing ? age : 0;
  if (p.liveOffset !== undefined) return { liveOffset: Math.min(86_400, p.liveOffset + moved) };
  if (p.position !== undefined) return { position: Math.min(86_400, p.position + moved) };
  return {};
}

/** GET /api/lessons/:id/qa/audit (the lesson's teacher, admins): moderation, newest first. */
export const QaAuditEntry = z.object({
  id: z.string(),
  lessonId: z.string(),
  action: z.enum(['hide', 'unhide', 'mute', 'unmute']),
  actorId: z.string(),
  questionId: z.string().optional(),
  userId: z.string().optional(),
  reason: z.string().optional(),
  minutes: z.number().int().optional(),
  at: z.string(),
});
export type QaAuditEntry = z.infer<typeof QaAuditEntry>;
export const QaAuditList = z.object({ items: z.array(QaAuditEntry) });
export type QaAuditList = z.infer<typeof QaAuditList>;

/** GET /api/lessons/:id/qa/stats (the lesson's teacher, admins): room size across every api process. */
export const QaStats = z.object({
  lessonId: z.string(),
  /** Connections in the room now. */
  online: z.number().int(),
  questions: z.number().int(),
  unanswered: z.number().int(),
});
export type QaStats = z.infer<typeof QaStats>;
