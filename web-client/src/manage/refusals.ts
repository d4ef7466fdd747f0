import { LESSON_REFUSALS, passwordFieldError, type PasswordRule } from '@sky/contracts';
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';
import { problemText } from '../components/Bits';
import { fieldMessage } from '../components/FieldErrors';

/**
 * A password rule the form finds broken before sending, in the same words as the api's refusal of it
 * (the field error's rule and limit, FieldErrors.fieldMessage).
 */
export function passwordRuleText(field: string, rule: PasswordRule, t: TFunction): string {
  return fieldMessage(passwordFieldError(field, rule), t);
}

/** Why a lesson edit or delete was refused, in the reader's language. */
export function lessonRefusalText(err: unknown, t: TFunction): string {
  if (!(err instanceof ApiError)) return t('errors.network');
  for (const f of err.fields)
    if (f.rule && f.rule in LESSON_REFUSALS) return t(`manage.lesson.refused.${f.rule}`);
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
