import type { FieldError } from '@sky/contracts';
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';

/** The bounds a message needs: without its limit (an older server) such a rule reads as plain `invalid`. */
const NEEDS_LIMIT = new Set(['too_short', 'too_long', 'too_small', 'too_big', 'too_few', 'too_many']);

/** A field's name as a form knows it: `body.title` → `title`, `query.to` → `to`. */
export function fieldName(path: string): string {
  return path.replace(/^(body|querystring|query|params|headers)\./, '');
}

/**
 * One refused field in the reader's language, naming the field: by the rule the server says it broke
 * (`validation.too_short`: 密码至少 8 个字符), a field's own wording first (`validation.format_username`).
 */
export function fieldMessage(f: FieldError, t: TFunction): string {
  const name = fieldName(f.path);
  const field = t(`fields.${name}`, { defaultValue: name });
  const rule = f.rule && !(NEEDS_LIMIT.has(f.rule) && f.limit === undefined) ? f.rule : 'invalid';
  return t([`validation.${rule}_${name}`, `validation.${rule}`], { field, limit: f.limit });
}

/** Field errors of a refused form in the reader's language, keyed by field name (`body.title` → `title`). */
export function fieldErrors(err: unknown, t: TFunction): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  // the first message of a field is the one to fix first
  for (const f of err.fields) out[fieldName(f.path)] ??= fieldMessage(f, t);
  return out;
}
