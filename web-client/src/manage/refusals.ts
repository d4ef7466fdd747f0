import { LESSON_REFUSALS, PASSWORD_RULES, type PasswordRule } from '@sky/contracts';
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';
import { problemText } from '../components/Bits';

const byMessage = <K extends string>(table: Record<K, string>) =>
  new Map(Object.entries(table).map(([k, message]) => [message as string, k as K]));
const PASSWORD_KEYS = byMessage(PASSWORD_RULES);
const LESSON_KEYS = byMessage(LESSON_REFUSALS);

/** A broken password rule in the reader's language. */
export function passwordRuleText(rule: PasswordRule, t: TFunction): string {
  return t(`manage.rules.${rule}`);
}

/**
 * Field errors of a refused password form, keyed by field (`body.newPassword` → `newPassword`), in the
 * reader's language where the contract names the rule, else the server's own words.
 */
export function passwordFieldErrors(err: unknown, t: TFunction): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  return Object.fromEntries(
    err.fields.map((f) => {
      const field = f.path.replace(/^body\./, '');
      const rule = PASSWORD_KEYS.get(f.message);
      if (rule) return [field, passwordRuleText(rule, t)];
      if (field === 'currentPassword') return [field, t('manage.rules.current')];
      return [field, f.message];
    }),
  );
}

/** Why a lesson edit or delete was refused, in the reader's language. */
export function lessonRefusalText(err: unknown, t: TFunction): string {
  if (!(err instanceof ApiError)) return t('errors.network');
  for (const f of err.fields) {
    const key = LESSON_KEYS.get(f.message);
    if (key) return t(`manage.lesson.refused.${key}`);
  }
  return problemText(err, t);
}

/** Any refusal as an ApiError (a thrown non-ApiError means the network failed). */
export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
}

/** Dates and times in Beijing time, as every time of the platform. */
export function formatInstant(iso: string, lang: string): string {
  return new Date(iso).toLocaleString(lang, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Asia/Shanghai',
  });
}
