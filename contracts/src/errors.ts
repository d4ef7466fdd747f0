import { z } from 'zod';
import { RowError, Violation } from './curriculum.js';

/** Every error a service may answer with; the HTTP status comes from each service's errors.ts table. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'TOKEN_EXPIRED',
  'INVALID_CREDENTIALS',
  /** Sign-in: the password was set by an admin and works once, to set a new one (NewPasswordLoginBody). */
  'PASSWORD_CHANGE_REQUIRED',
  /** Sign-in: the temporary password an admin set has expired unused; only a new reset helps. */
  'TEMPORARY_PASSWORD_EXPIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'DEPENDENCY_DOWN',
  /** Over capacity for now (the analytics backlog is full): nothing was taken; retry after Retry-After. */
  'OVERLOADED',
  'MEDIA_INVALID',
  'PLAN_INVALID',
  'SCHEDULE_INFEASIBLE',
  /** Live: the WebRTC audience is at its cap (watch the HLS stream instead). */
  'ROOM_FULL',
  /** Live: a media event before `room.join`. */
  'NOT_JOINED',
  /** Live: the lesson is not live (not started, or ended). */
  'NOT_LIVE',
  'INTERNAL',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * What a field broke, for clients to say it in their reader's language: `required` (empty or missing),
 * `too_short` / `too_long` (characters), `too_small` / `too_big` (a number), `too_few` / `too_many` (items),
 * `format` (a pattern, an email, a date), `type`, `one_of` (not among the allowed values), `unknown` (a field
 * the request may not carry), `taken` (already used by another record), `invalid` (anything else); a password's
 * own rules (auth.ts PASSWORD_RULES): `common` (too common or too simple), `contains_username`,
 * `same_as_current`, and `incorrect` (the current password given is not the account's); a lesson that cannot
 * change or go now (lessons.ts LESSON_REFUSALS): `placement_fixed`, `live`, `in_plan`, `transcoding`, `changed`.
 */
export const FIELD_RULES = [
  'required',
  'too_short',
  'too_long',
  'too_small',
  'too_big',
  'too_few',
  'too_many',
  'format',
  'type',
  'one_of',
  'unknown',
  'taken',
  'common',
  'contains_username',
  'same_as_current',
  'incorrect',
  'placement_fixed',
  'live',
  'in_plan',
  'transcoding',
  'changed',
  'invalid',
] as const;
export const FieldRule = z.enum(FIELD_RULES);
export type FieldRule = z.infer<typeof FieldRule>;

/**
 * One field that failed validation: `path` is dotted (`body.title`, `query.grade`); `message` is the
 * server's English, `rule` and `limit` (the bound broken, when there is one) what a client translates.
 */
export const FieldError = z.object({
  path: z.string(),
  message: z.string(),
  rule: FieldRule.optional(),
  limit: z.number().optional(),
});
export type FieldError = z.infer<typeof FieldError>;

/** RFC 9457 problem details, as every HTTP service answers its errors (application/problem+json). */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: ErrorCode,
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(FieldError).optional(),
  /** PLAN_INVALID: every unusable row of an imported plan. */
  rows: z.array(RowError).optional(),
  /** SCHEDULE_INFEASIBLE: which constraint breaks, for which grade, teacher or date. */
  diagnosis: z.array(Violation).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** Socket.io acknowledgements. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string } };
