import type { LessonStatus } from '@sky/contracts';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';

export function StatusBadge({ status }: { status: LessonStatus }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${status}`}>{t(`status.${status}`)}</span>;
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="muted" aria-busy="true">
      {t('errors.loading')}
    </p>
  );
}

export function ErrorNote({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const { t } = useTranslation();
  const text =
    error.code === 'NETWORK' || error.status === 0
      ? t('errors.network')
      : t('errors.generic', { detail: error.detail });
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

/** A refusal in the reader's language: by its error code, the server's own words as the fallback. */
export function problemText(error: ApiError, t: TFunction): string {
  if (error.status === 0) return t('errors.network');
  return t(`problems.${error.code}`, {
    detail: error.detail,
    defaultValue: t('errors.generic', { detail: error.detail }),
  });
}
