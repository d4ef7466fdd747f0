import { LessonList, type GradeId, type Lesson } from '@sky/contracts';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { withQuery } from '../api/client';
import { useApi, type Loaded } from '../api/useApi';
import { useNow } from '../tv/useNow';
import { ErrorNote } from './Bits';

/** A teacher going live shows on the students' homes within this (and leaves it as fast after the end). */
export const ON_AIR_POLL_MS = 10_000;

/**
 * The grade's lessons taught live, on the air now (`live`) or ended (`ended`), asked again every
 * `everyMs` while the page is visible, so the home follows without a reload.
 */
export function useLessonsOnAir(
  grade: GradeId | undefined,
  state: 'live' | 'ended',
  everyMs: number | null,
): Loaded<LessonList> {
  const lessons = useApi(
    grade ? withQuery('/api/lessons', { grade, live: state, limit: 50 }) : null,
    LessonList,
  );
  const { reload } = lessons;
  useEffect(() => {
    if (!grade || everyMs === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') reload();
    }, everyMs);
    // back to the tab: ask at once rather than at the next tick
    const onVisible = () => {
      if (document.visibilityState === 'visible') reload();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [grade, everyMs, reload]);
  return lessons;
}

/** The grade's live lessons, each one click from its live page; `noneText`: what says there is none. */
export function LiveNow({ onAir, noneText }: { onAir: Loaded<LessonList>; noneText?: string }) {
  const { t } = useTranslation();
  const items = onAir.data?.items ?? [];
  return (
    <section
      className="panel live-now"
      data-testid="live-now"
      data-count={items.length}
      aria-labelledby="live-now-title"
    >
      <h2 id="live-now-title">
        <span className={items.length > 0 ? 'live-dot on' : 'live-dot'} aria-hidden="true" />
        {t('student.live.title')}
      </h2>
      {onAir.error && !onAir.data && <ErrorNote error={onAir.error} onRetry={onAir.reload} />}
      {onAir.data && items.length === 0 && (
        <p className="muted small">{noneText ?? t('student.live.none')}</p>
      )}
      {items.length > 0 && (
        <ul className="live-now-list">
          {items.map((l) => (
            <LiveNowItem key={l.id} lesson={l} />
          ))}
        </ul>
      )}
    </section>
  );
}

function LiveNowItem({ lesson }: { lesson: Lesson }) {
  const { t } = useTranslation();
  const now = useNow(30_000);
  const started = lesson.live ? Date.parse(lesson.live.startedAt) : now;
  const minutes = Math.max(0, Math.floor((now - started) / 60_000));
  return (
    <li className="live-now-item" data-testid="live-now-item" data-lesson={lesson.id}>
      <div className="live-now-what">
        <strong>{lesson.title}</strong>
        <span className="small muted">
          {[lesson.subject, lesson.teacherName].filter(Boolean).join(' · ')} ·{' '}
          {minutes < 1 ? t('student.live.justStarted') : t('student.live.since', { minutes })}
        </span>
      </div>
      <Link
        className="btn btn-primary btn-live"
        to={`/live/${encodeURIComponent(lesson.id)}`}
        data-testid="live-now-join"
      >
        ● {t('student.live.join')}
      </Link>
    </li>
  );
}
