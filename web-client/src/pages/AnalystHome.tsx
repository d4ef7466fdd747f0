import { AnalyticsSummary, LESSON_STATUSES, LessonList, type LessonStatus } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { withQuery } from '../api/client';
import { useApi, type Loaded } from '../api/useApi';
import { ErrorNote } from '../components/Bits';
import '../i18n/analytics';

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

/** Today's headline viewing figures (the api's default range is today, China time), and the way in. */
function TodayViewing() {
  const { t, i18n } = useTranslation();
  const res = useApi('/api/analytics/summary', AnalyticsSummary);
  const n = new Intl.NumberFormat(i18n.language);
  const s = res.data;
  const value = (v: number | undefined) =>
    v !== undefined ? (
      <span className="stat-value">{n.format(v)}</span>
    ) : (
      <span
        className="stat-value stat-unknown"
        title={res.error ? t('analytics.home.failed') : t('errors.loading')}
      >
        {res.error ? '—' : '…'}
      </span>
    );
  return (
    <section data-testid="today-viewing">
      <div className="page-head">
        <h2>{t('analytics.home.title')}</h2>
        <Link to="/analytics" data-testid="open-dashboard">
          {t('analytics.home.open')}
        </Link>
      </div>
      {res.error && <p className="notice notice-error">{t('analytics.home.failed')}</p>}
      <div className="stats">
        <div className="stat">
          <span className="stat-label">{t('analytics.home.views')}</span>
          {value(s?.views.total)}
        </div>
        <div className="stat">
          <span className="stat-label">{t('analytics.summary.viewsWeb')}</span>
          {value(s?.views.web)}
        </div>
        <div className="stat">
          <span className="stat-label">{t('analytics.summary.viewsTv')}</span>
          {value(s?.views.tv)}
        </div>
        <div className="stat">
          <span className="stat-label">{t('analytics.home.uniques')}</span>
          {value(s?.uniques.total)}
        </div>
        <div className="stat">
          <span className="stat-label">{t('analytics.home.concurrent')}</span>
          {value(s?.concurrentNow.total)}
        </div>
      </div>
    </section>
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
      <TodayViewing />
    </section>
  );
}
