import { ScheduleSummary, type GradeId, type ScheduleEntry } from '@sky/contracts';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, withQuery } from '../api/client';
import { buildSchedule, ChangeList, CURRICULUM, TeacherList, TermInfo } from '../api/curriculum';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { LeaveForm } from '../components/LeaveForm';
import { LessonDialog } from '../components/LessonDialog';
import { GradeOptions } from '../components/Options';
import { PlanImport } from '../components/PlanImport';
import { DiagnosisList, MovedList } from '../components/ScheduleNotes';
import { formatDay } from '../components/week';
import { WeekTimetable } from '../components/WeekTimetable';

const HISTORY_LIMIT = 20;

/** Times of the schedule are Beijing time; so is when it was built. */
function formatInstant(iso: string, lang: string): string {
  return new Date(iso).toLocaleString(lang, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Asia/Shanghai',
  });
}

/** The bureau's curriculum desk: import the plan, build the schedule, look at a week, repair it. */
export function CurriculumAdmin() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const [grade, setGrade] = useState<GradeId>('p1');
  const [selected, setSelected] = useState<ScheduleEntry | null>(null);
  /** Bumped after every change, so each part of the page loads what it shows again. */
  const [refreshKey, setRefreshKey] = useState(0);
  const info = useApi(`${CURRICULUM}/term`, TermInfo);
  const teachers = useApi(`${CURRICULUM}/teachers`, TeacherList);
  const summary = useApi(`${CURRICULUM}/schedule/summary`, ScheduleSummary);
  const { reload: reloadInfo } = info;
  const { reload: reloadTeachers } = teachers;
  const { reload: reloadSummary } = summary;
  useEffect(() => {
    if (refreshKey === 0) return;
    reloadInfo();
    reloadTeachers();
    reloadSummary();
  }, [refreshKey, reloadInfo, reloadTeachers, reloadSummary]);
  const changed = () => setRefreshKey((k) => k + 1);
  const names = new Map((teachers.data ?? []).map((x) => [x.id, x.name]));
  const term = info.data?.term;

  return (
    <section className="curriculum">
      <div className="page-head">
        <div>
          <h1>{t('curriculum.title')}</h1>
          {term && (
            <p className="muted">
              {t('curriculum.term', {
                name: term.name,
                from: formatDay(term.startDate, lang),
                to: formatDay(term.endDate, lang),
              })}
            </p>
          )}
        </div>
        <Link to="/">{t('curriculum.back')}</Link>
      </div>
      {info.error && info.error.code !== 'NOT_FOUND' && (
        <ErrorNote error={info.error} onRetry={info.reload} />
      )}
      {info.error?.code === 'NOT_FOUND' && (
        <p className="notice" role="status">
          {t('curriculum.noPlan')}
        </p>
      )}
      <div className="cur-row">
        <SummaryPanel
          summary={summary.data}
          loading={summary.loading}
          error={summary.error}
          onRetry={summary.reload}
          teacherNames={names}
          onBuilt={changed}
        />
        <PlanImport onImported={changed} />
      </div>
      <WeekTimetable
        grade={grade}
        testId="week-view"
        refreshKey={refreshKey}
        onSelect={setSelected}
        controls={
          <label className="inline week-grade">
            {t('lesson.grade')}
            <select
              data-testid="week-grade"
              value={grade}
              onChange={(e) => setGrade(e.target.value as GradeId)}
            >
              <GradeOptions />
            </select>
          </label>
        }
      />
      <div className="cur-row">
        {info.data && teachers.data ? (
          <LeaveForm info={info.data} teachers={teachers.data} onChanged={changed} />
        ) : (
          <div className="panel">{info.loading || teachers.loading ? <Loading /> : null}</div>
        )}
        <ChangeHistory refreshKey={refreshKey} teacherNames={names} />
      </div>
      {selected && info.data && (
        <LessonDialog
          key={selected.lessonId}
          entry={selected}
          info={info.data}
          teacherNames={names}
          onClose={() => setSelected(null)}
          onMoved={changed}
        />
      )}
    </section>
  );
}

function Score({ label, value }: { label: string; value: number }) {
  const pct = Math.round(value * 100);
  return (
    <div className="score">
      <span className="score-label">{label}</span>
      <meter min={0} max={100} low={60} high={85} optimum={100} value={pct} aria-label={label} />
      <span className="score-value">{pct}%</span>
    </div>
  );
}

function SummaryPanel({
  summary,
  loading,
  error,
  onRetry,
  teacherNames,
  onBuilt,
}: {
  summary: ScheduleSummary | undefined;
  loading: boolean;
  error: ApiError | undefined;
  onRetry: () => void;
  teacherNames: ReadonlyMap<string, string>;
  onBuilt: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [built, setBuilt] = useState<ScheduleSummary | null>(null);

  const build = async () => {
    setBusy(true);
    setFailure(null);
    setBuilt(null);
    try {
      setBuilt(await buildSchedule());
      onBuilt();
    } catch (err) {
      setFailure(err instanceof ApiError ? err : new ApiError(0, 'UNKNOWN', String(err)));
    } finally {
      setBusy(false);
    }
  };

  // The build's own answer until the reloaded summary catches up with it (or a later change passes it).
  const shown = summary && (!built || summary.version >= built.version) ? summary : (built ?? undefined);
  return (
    <section className="panel summary-panel" data-testid="schedule-summary" aria-labelledby="summary-title">
      <div className="panel-head">
        <h2 id="summary-title">{t('summary.title')}</h2>
        <button
          type="button"
          className="btn btn-primary"
          data-testid="build"
          disabled={busy}
          onClick={() => void build()}
        >
          {busy ? t('summary.building') : shown ? t('summary.rebuild') : t('summary.build')}
        </button>
      </div>
      {loading && !shown && <Loading />}
      {error && <ErrorNote error={error} onRetry={onRetry} />}
      {!loading && !error && !shown && <p className="empty">{t('summary.empty')}</p>}
      {shown && (
        <>
          <dl className="facts-grid">
            <div>
              <dt>{t('summary.version')}</dt>
              <dd data-testid="summary-version">v{shown.version}</dd>
            </div>
            <div>
              <dt>{t('summary.lessons')}</dt>
              <dd>{shown.lessons.toLocaleString(lang)}</dd>
            </div>
            <div>
              <dt>{t('summary.days')}</dt>
              <dd>{shown.days}</dd>
            </div>
            <div>
              <dt>{t('summary.ms')}</dt>
              <dd>{shown.ms.toLocaleString(lang)}</dd>
            </div>
          </dl>
          <p className="hint">{t('summary.builtAt', { time: formatInstant(shown.builtAt, lang) })}</p>
          <div className="scores">
            <h3>{t('summary.score')}</h3>
            <Score label={t('summary.spread')} value={shown.score.spread} />
            <Score label={t('summary.coreMorning')} value={shown.score.coreMorning} />
            <Score label={t('summary.steadiness')} value={shown.score.steadiness} />
            <Score label={t('summary.total')} value={shown.score.total} />
          </div>
        </>
      )}
      {built && (
        <p className="notice notice-ok" role="status" data-testid="build-done">
          {t('summary.built', { version: built.version, lessons: built.lessons, ms: built.ms })}
        </p>
      )}
      {failure &&
        (failure.diagnosis.length > 0 ? (
          <DiagnosisList diagnosis={failure.diagnosis} teacherNames={teacherNames} />
        ) : (
          <ErrorNote error={failure} />
        ))}
    </section>
  );
}

function ChangeHistory({
  refreshKey,
  teacherNames,
}: {
  refreshKey: number;
  teacherNames: ReadonlyMap<string, string>;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const changes = useApi(withQuery(`${CURRICULUM}/schedule/changes`, { limit: HISTORY_LIMIT }), ChangeList);
  const { reload } = changes;
  useEffect(() => {
    if (refreshKey > 0) reload();
  }, [refreshKey, reload]);
  return (
    <section className="panel history" data-testid="history" aria-labelledby="history-title">
      <h2 id="history-title">{t('history.title', { count: HISTORY_LIMIT })}</h2>
      {changes.loading && !changes.data && <Loading />}
      {changes.error && <ErrorNote error={changes.error} onRetry={changes.reload} />}
      {changes.data?.length === 0 && <p className="empty">{t('history.empty')}</p>}
      {changes.data && changes.data.length > 0 && (
        <ol className="history-list">
          {changes.data.map((c) => (
            <li key={c.version}>
              <div className="history-head">
                <span className="history-version">v{c.version}</span>
                <span className={`reason reason-${c.reason}`}>{t(`history.reason.${c.reason}`)}</span>
                <span className="muted small">{formatInstant(c.at, lang)}</span>
              </div>
              {c.moved.length > 0 ? (
                <details>
                  <summary>{t('diff.count', { count: c.moved.length })}</summary>
                  <MovedList diff={c} teacherNames={teacherNames} testId="history-diff" heading={false} />
                </details>
              ) : (
                c.reason !== 'build' && <p className="muted small">{t('diff.count', { count: 0 })}</p>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
