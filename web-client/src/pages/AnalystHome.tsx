import { LESSON_STATUSES, LessonList, type LessonStatus } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { withQuery } from '../api/client';
import { useApi, type Loaded } from '../api/useApi';
import { ErrorNote } from '../components/Bits';

/** A count is the list's `total` for one status filter; `limit=1` keeps the answer small. */
function countPath(status?: LessonStatus): string {
  return withQuery('/api/lessons', { limit: 1, status });
}

/** The number, or a dash when it could not be counted: never a made-up figure. */
function CountValue({ res }: { res: Loaded<LessonList> }) {
  const { t } = useTranslation();
  if (res.data) return <span className="stat-value">{res.data.total}</span>;
  return (
    <span
      className="stat-value stat-unknown"
      title={res.error ? t('analyst.countFailed') : t('errors.loading')}
    >
      {res.error ? '—' : '…'}
    </span>
  );
}

function StatusCount({ status }: { status: LessonStatus }) {
  const { t } = useTranslation();
  const res = useApi(countPath(status), LessonList);
  return (
    <div className={`stat stat-${status}`}>
      <span className="stat-label">{t(`status.${status}`)}</span>
      <CountValue res={res} />
    </div>
  );
}

export function AnalystHome() {
  const { t } = useTranslation();
  const all = useApi(countPath(), LessonList);
  return (
    <section>
      <div className="page-head">
        <h1>{t('analyst.title')}</h1>
      </div>
      {all.error && <ErrorNote error={all.error} onRetry={all.reload} />}
      <h2>{t('analyst.byStatus')}</h2>
      <div className="stats">
        <div className="stat stat-total">
          <span className="stat-label">{t('analyst.total')}</span>
          <CountValue res={all} />
        </div>
        {LESSON_STATUSES.map((s) => (
          <StatusCount key={s} status={s} />
        ))}
      </div>
      <p className="panel notice">{t('analyst.viewsLater')}</p>
    </section>
  );
}
