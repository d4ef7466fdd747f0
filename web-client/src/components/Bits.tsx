import type { Lesson } from '@sky/contracts';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';
import { fieldMessage, fieldName } from './FieldErrors';

/**
 * Where a lesson stands for its reader: a lesson taught live says so (on the air, or its replay coming)
 * rather than the draft or processing status it has meanwhile; otherwise its status.
 */
export function LessonStateBadge({ lesson }: { lesson: Pick<Lesson, 'status' | 'live'> }) {
  const { t } = useTranslation();
  if (lesson.live?.state === 'live')
    return (
      <span className="badge badge-live" data-testid="lesson-state" data-state="live">
        ● {t('live.lesson.liveNow')}
      </span>
    );
  if (lesson.live?.state === 'ended' && (lesson.status === 'processing' || lesson.status === 'draft'))
    return (
      <span className="badge badge-processing" data-testid="lesson-state" data-state="replay-coming">
        {t('live.lesson.replayComing')}
      </span>
    );
  return (
    <span className={`badge badge-${lesson.status}`} data-testid="lesson-state" data-state={lesson.status}>
      {t(`status.${lesson.status}`)}
    </span>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="muted" aria-busy="true">
      {t('errors.loading')}
    </p>
  );
}

/** `marked`: the fields the form already marks with their own message (the note does not repeat them). */
export function ErrorNote({
  error,
  onRetry,
  marked,
}: {
  error: ApiError;
  onRetry?: () => void;
  marked?: readonly string[];
}) {
  const { t } = useTranslation();
  const text = problemText(error, t, marked);
  return (
    <div className="notice notice-error" role="alert">
      <span>{text}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          {t('errors.retry')}
        </button>
      )}
    </div>
  );
}

export function formatDuration(sec: number | undefined, t: TFunction): string {
  if (sec === undefined) return '—';
  return sec >= 60
    ? t('lesson.minutes', { count: Math.round(sec / 60) })
    : t('lesson.seconds', { count: Math.round(sec) });
}

/** How long a service has been up, to the minute (seconds only while it has just started). */
export function formatUptime(sec: number, t: TFunction): string {
  if (sec < 60) return t('uptime.seconds', { count: Math.floor(sec) });
  const days = Math.floor(sec / 86400);
  const hours = Math.floor((sec % 86400) / 3600);
  const minutes = Math.floor((sec % 3600) / 60);
  if (days > 0) return t('uptime.days', { days, hours });
  if (hours > 0) return t('uptime.hours', { hours, minutes });
  return t('uptime.minutes', { count: minutes });
}

/**
 * A refusal in the reader's language: by its error code, the server's own words only as the fallback.
 * Refused fields are named, each with what is wrong with it, unless the form marks them itself (`marked`).
 */
export function problemText(error: ApiError, t: TFunction, marked: readonly string[] = []): string {
  if (error.code === 'NETWORK') return t('errors.network');
  // a refused form (or a name already taken): which fields, and what is wrong with each
  if ((error.code === 'VALIDATION_FAILED' || error.code === 'CONFLICT') && error.fields.length > 0) {
    const rest = error.fields.filter((f) => !marked.includes(fieldName(f.path)));
    if (rest.length === 0) return t('problems.fieldsMarked');
    return t('problems.fields', { list: rest.map((f) => fieldMessage(f, t)).join(t('problems.separator')) });
  }
  return t(`problems.${error.code}`, {
    detail: error.detail,
    defaultValue: t('errors.generic', { detail: error.detail }),
  });
}
