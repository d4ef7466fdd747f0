import { beijingToday, type GradeId, type ScheduleEntry } from '@sky/contracts';
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { withQuery, type ApiError } from '../api/client';
import { CURRICULUM, EntryList, TeacherList, TermInfo } from '../api/curriculum';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from './Bits';
import {
  addDays,
  defaultWeek,
  firstWeek,
  formatDay,
  lastWeek,
  stageRules,
  termWeek,
  weekDays,
  weekStart,
} from './week';
import { WeekGrid } from './WeekGrid';

interface WeekTimetableProps {
  grade: GradeId;
  testId: string;
  /** Admins open a lesson to move it; without this the timetable is read-only. */
  onSelect?: (entry: ScheduleEntry) => void;
  /** Changes when the plan or the schedule changed elsewhere on the page: load everything again. */
  refreshKey?: number;
  /** Extra controls in the toolbar (the admin's grade picker). */
  controls?: ReactNode;
}

/** A grade's timetable one week at a time, from the published schedule. */
export function WeekTimetable({ grade, testId, onSelect, refreshKey = 0, controls }: WeekTimetableProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const today = beijingToday();
  const info = useApi(`${CURRICULUM}/term`, TermInfo);
  const teachers = useApi(withQuery(`${CURRICULUM}/teachers`, { grade }), TeacherList);
  const [picked, setPicked] = useState<string | null>(null);
  const term = info.data?.term;
  const week = term ? (picked ?? defaultWeek(term, today)) : undefined;
  const days = term && week ? weekDays(term, week) : [];
  const entries = useApi(
    days.length > 0
      ? withQuery(`${CURRICULUM}/schedule`, { grade, from: days[0], to: days[days.length - 1] })
      : null,
    EntryList,
  );
  const { reload: reloadInfo } = info;
  const { reload: reloadTeachers } = teachers;
  const { reload: reloadEntries } = entries;
  useEffect(() => {
    if (refreshKey === 0) return;
    reloadInfo();
    reloadTeachers();
    reloadEntries();
  }, [refreshKey, reloadInfo, reloadTeachers, reloadEntries]);

  const names = new Map((teachers.data ?? []).map((x) => [x.id, x.name]));
  const current = term ? defaultWeek(term, today) : undefined;
  const heading =
    term && week && week !== weekStart(today)
      ? t('timetable.weekN', { n: termWeek(term, week) })
      : t('timetable.thisWeek');

  return (
    <section className="panel week-view" data-testid={testId} aria-label={heading}>
      <div className="week-toolbar">
        <h2>{heading}</h2>
        {controls}
        {term && week && (
          <>
            <div className="week-nav" role="group" aria-label={t('timetable.nav')}>
              <button
                type="button"
                className="btn btn-small"
                data-testid="week-prev"
                disabled={week <= firstWeek(term)}
                onClick={() => setPicked(addDays(week, -7))}
              >
                ‹ {t('timetable.prev')}
              </button>
              <button
                type="button"
                className="btn btn-small"
                data-testid="week-current"
                aria-pressed={week === current}
                onClick={() => setPicked(null)}
              >
                {t('timetable.current')}
              </button>
              <button
                type="button"
                className="btn btn-small"
                data-testid="week-next"
                disabled={week >= lastWeek(term)}
                onClick={() => setPicked(addDays(week, 7))}
              >
                {t('timetable.next')} ›
              </button>
            </div>
            <span className="week-label muted small" data-testid="week-label">
              {t('timetable.range', {
                n: termWeek(term, week),
                from: formatDay(week, lang, false),
                to: formatDay(addDays(week, 6), lang, false),
              })}
            </span>
          </>
        )}
      </div>
      {info.loading && !info.data && <Loading />}
      {info.error && <TimetableError error={info.error} onRetry={info.reload} />}
      {term && days.length === 0 && <p className="empty">{t('timetable.noSchool')}</p>}
      {entries.error && <TimetableError error={entries.error} onRetry={entries.reload} />}
      {term && info.data && days.length > 0 && (
        <>
          {entries.data && entries.data.length === 0 && (
            <p className="notice small" role="status">
              {t('timetable.noLessons')}
            </p>
          )}
          <div aria-busy={entries.loading}>
            <WeekGrid
              days={days}
              slots={stageRules(term, grade).slots}
              lessonMinutes={stageRules(term, grade).lessonMinutes}
              entries={entries.data ?? []}
              subjects={info.data.subjects}
              teacherNames={names}
              today={today}
              onSelect={onSelect}
            />
          </div>
        </>
      )}
    </section>
  );
}

/** No plan yet is not a failure; a curriculum service that is down is said as such, not as a server error. */
export function TimetableError({ error, onRetry }: { error: ApiError; onRetry: () => void }) {
  const { t } = useTranslation();
  if (error.code === 'NOT_FOUND') return <p className="empty">{t('timetable.noPlan')}</p>;
  // Through the api's proxy a stopped curriculum service answers 5xx (or nothing at all).
  const down = error.code === 'NETWORK' || error.code === 'DEPENDENCY_DOWN' || error.status >= 500;
  if (!down) return <ErrorNote error={error} onRetry={onRetry} />;
  return (
    <div className="notice" role="status">
      <span>{t('timetable.unavailable')}</span>
      <button type="button" className="btn btn-small" onClick={onRetry}>
        {t('errors.retry')}
      </button>
    </div>
  );
}
