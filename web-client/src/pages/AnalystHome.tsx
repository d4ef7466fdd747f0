import { LESSON_STATUSES, type LessonList } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { useApi } from '../api/useApi';
import { ErrorNote } from '../components/Bits';

function StatusCount({ status }: { status: (typeof LESSON_STATUSES)[number] }) {
  const { t } = useTranslation();
  const res = useApi<LessonList>(`/api/lessons?limit=1&status=${status}`);
  return (
    <div className={`stat stat-${status}`}>
      <span className="stat-label">{t(`status.${status}`)}</span>
      <span className="stat-value">{res.data?.total ?? (res.error ? '!' : '…')}</span>
    </div>
  );
}

export function AnalystHome() {
  const { t } = useTranslation();
  const all = useApi<LessonList>('/api/lessons?limit=1');
  return (
    <section>
      <div className="page-head">
        <h1>{t('analyst.title')}</h1>
      </div>
      {all.error && <ErrorNote error={all.error} onRetry={all.reload} />}
      <div className="stats">
        <div className="stat stat-total">
          <span className="stat-label">{t('analyst.total')}</span>
          <span className="stat-value">{all.data?.total ?? '…'}</span>
        </div>
        {LESSON_STATUSES.map((s) => (
          <StatusCount key={s} status={s} />
        ))}
      </div>
      <p className="panel notice">{t('analyst.viewsLater')}</p>
    </section>
  );
}
