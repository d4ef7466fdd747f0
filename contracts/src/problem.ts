import type { z } from 'zod';
import type { RowError, Violation } from './curriculum.js';
import { FieldRule, type ErrorCode, type FieldError, type Problem } from './errors.js';

/** The HTTP status of every error code: one table for every service. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  INVALID_CREDENTIALS: 401,
  PASSWORD_CHANGE_REQUIRED: 403,
  TEMPORARY_PASSWORD_EXPIRED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  MEDIA_INVALID: 422,
  PLAN_INVALID: 422,
  SCHEDULE_INFEASIBLE: 422,
  NOT_JOINED: 409,
  NOT_LIVE: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  DEPENDENCY_DOWN: 503,
  OVERLOADED: 503,
  ROOM_FULL: 503,
};

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Invalid request',
  UNAUTHENTICATED: 'Authentication required',
  TOKEN_EXPIRED: 'Token expired',
  INVALID_CREDENTIALS: 'Wrong username or password',
  PASSWORD_CHANGE_REQUIRED: 'A new password is required',
  TEMPORARY_PASSWORD_EXPIRED: 'The temporary password has expired',
  FORBIDDEN: 'Not allowed for your role',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  MEDIA_INVALID: 'Media file is not usable',
  PLAN_INVALID: 'The plan has unusable rows',
  SCHEDULE_INFEASIBLE: 'The plan cannot be scheduled',
  ROOM_FULL: 'The live room is full',
  NOT_JOINED: 'Join the live room first',
  NOT_LIVE: 'The lesson is not live',
  RATE_LIMITED: 'Too many requests',
  INTERNAL: 'Internal error',
  DEPENDENCY_DOWN: 'A dependency is unavailable',
  OVERLOADED: 'Over capacity for now; retry later',
};

/** What services throw; the HTTP edge turns it into problem+json, a socket edge into an error ack. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ProblemDetails,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Machine-readable extras a problem may carry. */
export interface ProblemDetails {
  errors?: FieldError[];
  rows?: RowError[];
  diagnosis?: Violation[];
}

export function problem(
  code: ErrorCode,
  detail: string,
  instance?: string,
  errors?: FieldError[],
  extra: Omit<ProblemDetails, 'errors'> = {},
): Problem {
  return {
    type: `https://sky-classroom.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[code],
    status: ERROR_STATUS[code],
    code,
    detail,
    ...(instance === undefined ? {} : { instance }),
    ...(errors === undefined ? {} : { errors }),
    ...(extra.rows === undefined ? {} : { rows: extra.rows }),
    ...(extra.diagnosis === undefined ? {} : { diagnosis: extra.diagnosis }),
  };
}

/** What a zod issue (code and its own fields) or an ajv error (keyword and params) says about a field. */
export function fieldRule(
  code: string | undefined,
  params: Readonly<Record<string, unknown>>,
  message = '',
): { rule: FieldRule; limit?: number } {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? { limit: v } : {});
  const origin = params['origin'];
  switch (code) {
    case 'too_small': {
      const min = params['minimum'];
      if (origin === 'string') return min === 1 ? { rule: 'required' } : { rule: 'too_short', ...num(min) };
      if (origin === 'array' || origin === 'set') return { rule: 'too_few', ...num(min) };
      return { rule: 'too_small', ...num(min) };
    }
    case 'too_big': {
      const max = params['maximum'];
      if (origin === 'string') return { rule: 'too_long', ...num(max) };
      if (origin === 'array' || origin === 'set') return { rule: 'too_many', ...num(max) };
      return { rule: 'too_big', ...num(max) };
    }
    // zod says what it received only in its message: "…, received undefined" is a missing field
    case 'invalid_type':
      return { rule: /received undefined$/.test(message) ? 'required' : 'type' };
    case 'invalid_format':
    case 'format':
    case 'pattern':
      return { rule: 'format' };
    case 'invalid_value':
    case 'enum':
    case 'const':
      return { rule: 'one_of' };
    case 'unrecognized_keys':
    case 'additionalProperties':
      return { rule: 'unknown' };
    // a refinement that names its rule (auth.ts NewPassword): zod keeps it in the issue's params
    case 'custom': {
      const own = params['params'] as Readonly<Record<string, unknown>> | undefined;
      const rule = FieldRule.safeParse(own?.['rule']);
      return rule.success ? { rule: rule.data, ...num(own?.['limit']) } : { rule: 'invalid' };
    }
    case 'required':
      return { rule: 'required' };
    case 'type':
      return { rule: 'type' };
    case 'minLength':
      return params['limit'] === 1 ? { rule: 'required' } : { rule: 'too_short', ...num(params['limit']) };
    case 'maxLength':
      return { rule: 'too_long', ...num(params['limit']) };
    case 'minimum':
    case 'exclusiveMinimum':
      return { rule: 'too_small', ...num(params['limit']) };
    case 'maximum':
    case 'exclusiveMaximum':
      return { rule: 'too_big', ...num(params['limit']) };
    case 'minItems':
      return { rule: 'too_few', ...num(params['limit']) };
    case 'maxItems':
      return { rule: 'too_many', ...num(params['limit']) };
    case undefined:
    default:
      return { rule: 'invalid' };
  }
}

/** Zod issues → field errors with dotted paths; unknown keys are named one by one. */
export function fieldErrorsFromIssues(issues: readonly z.core.$ZodIssue[], prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    const base = [prefix, ...issue.path.map(String)].filter((s) => s !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: base ? `${base}.${key}` : key, message: 'unknown field', rule: 'unknown' });
    } else {
      const params = issue as unknown as Record<string, unknown>;
      out.push({ path: base, message: issue.message, ...fieldRule(issue.code, params, issue.message) });
    }
  }
  return out;
}

/** One item of fastify's `error.validation` (zod issues via fastify-type-provider-zod, or ajv errors). */
interface ValidationItem {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { keys?: unknown; additionalProperty?: unknown; missingProperty?: unknown } & Record<
    string,
    unknown
  >;
}

function fieldErrorsFromValidation(v: ValidationItem, context: string): FieldError[] {
  const base = [context, ...(v.instancePath ?? '').split('/').filter((s) => s !== '')].join('.');
  const unknownKeys = Array.isArray(v.params?.keys)
    ? v.params.keys.map(String)
    : typeof v.params?.additionalProperty === 'string'
      ? [v.params.additionalProperty]
      : [];
  if (v.keyword === 'unrecognized_keys' || v.keyword === 'additionalProperties') {
    return unknownKeys.map((key) => ({ path: `${base}.${key}`, message: 'unknown field', rule: 'unknown' }));
  }
  // ajv names a missing property on its parent
  const missing = v.keyword === 'required' && typeof v.params?.missingProperty === 'string';
  const path = missing ? `${base}.${String(v.params?.missingProperty)}` : base;
  const message = v.message ?? 'invalid';
  return [{ path, message, ...fieldRule(v.keyword, v.params ?? {}, message) }];
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  validationContext?: string;
  validation?: unknown;
}

/**
 * Maps whatever a request handler threw to a problem document. Knows AppError, fastify's body
 * parser and schema validation errors (zod issues from fastify-type-provider-zod), and hides every
 * other error behind INTERNAL so internals never reach a user.
 */
export function problemFromError(err: unknown, instance?: string): Problem {
  if (err instanceof AppError) {
    const { errors, ...extra } = err.details ?? {};
    return problem(err.code, err.message, instance, errors, extra);
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  if (Array.isArray(e.validation)) {
    const context = e.validationContext ?? 'body';
    const errors = (e.validation as ValidationItem[]).flatMap((v) => fieldErrorsFromValidation(v, context));
    return problem(
      'VALIDATION_FAILED',
      errors.map((f) => `${f.path}: ${f.message}`).join('; '),
      instance,
      errors,
    );
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('VALIDATION_FAILED', 'unsupported content type', instance, [
        { path: 'headers.content-type', message: 'must be application/json', rule: 'format' },
      ]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('VALIDATION_FAILED', 'the JSON body is empty', instance, [
        { path: 'body', message: 'empty', rule: 'required' },
      ]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('PAYLOAD_TOO_LARGE', 'the request body is too large', instance);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem('VALIDATION_FAILED', `malformed JSON: ${e.message ?? ''}`, instance, [
        { path: 'body', message: 'malformed JSON', rule: 'format' },
      ]);
    case undefined:
    default:
      break;
  }
  if (e.name === 'SyntaxError' && e.statusCode === 400) {
    return problem('VALIDATION_FAILED', `malformed JSON: ${e.message ?? ''}`, instance, [
      { path: 'body', message: 'malformed JSON', rule: 'format' },
    ]);
  }
  if (e.statusCode === 404) return problem('NOT_FOUND', e.message ?? 'not found', instance);
  if (e.statusCode === 429) return problem('RATE_LIMITED', e.message ?? 'too many requests', instance);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return problem('VALIDATION_FAILED', e.message ?? 'bad request', instance);
  }
  return problem('INTERNAL', 'Something went wrong on our side; it has been logged.', instance);
}
