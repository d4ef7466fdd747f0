import { ApiError } from '../api/client';

/** Field errors of a refused form, keyed by field name (`body.title` → `title`). */
export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  return Object.fromEntries(err.fields.map((f) => [f.path.replace(/^body\./, ''), f.message]));
}
