import { GRADE_IDS } from '@sky/contracts';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useKeys, useNav } from '../context';
import { fetchLessons, type TvLesson } from '../gateway';
import { Focusable, Header, Notice, useErrorText } from '../ui';

type Load<T> = { status: 'loading' } | { status: 'done'; value: T } | { status: 'failed'; error: unknown };

/** Loads with `load` whenever `key` changes (undefined: nothing to load); `retry` loads again. */
function useLoad<T>(key: string | undefined, load: () => Promise<T>): [Load<T>, () => void] {
  const [state, setState] = useState<{ request: string; load: Load<T> } | null>(null);
  const [attempt, setAttempt] = useState(0);
  // `key` names what `load` fetches: a new closure for the same key is not a new request
  const latestLoad = useRef(load);
  useEffect(() => {
    latestLoad.current = load;
  }, [load]);
  const request = key === undefined ? undefined : `${attempt}:${key}`;
  useEffect(() => {
    if (request === undefined) return;
    let alive = true;
    latestLoad
      .current()
      .then((value) => {
        if (alive) setState({ request, load: { status: 'done', value } });
      })
      .catch((error: unknown) => {
        if (alive) setState({ request, load: { status: 'failed', error } });
      });
    return () => {
      alive = false;
    };
  }, [request]);
  // Loading until the answer to this very request is in: what was loaded for another key (the grade
  // before) or before a retry is not shown meanwhile.
  return [
    state && state.request === request ? state.load : { status: 'loading' },
    () => setAttempt((a) => a + 1),
  ];
}

/** Subjects of a grade's lessons, most lessons first. */
function subjectsOf(lessons: readonly TvLesson[]): { subject: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const l of lessons) counts.set(l.subject, (counts.get(l.subject) ?? 0) + 1);
  return Array.from(counts, ([subject, count]) => ({ subject, count })).sort(
    (a, b) => b.count - a.count || a.subject.localeCompare(b.subject),
  );
}

/** On demand: grade → subject → lesson → play. Back steps back through them. */
export function OnDemandScreen({
  grade,
  subject,
}: {
  grade: string | undefined;
  subject: string | undefined;
}) {
  const { t } = useTranslation();
  const nav = useNav();
  const errorText = useErrorText();
  // The grade or subject Back just left, to land on it again.
  const [leaving, setLeaving] = useState<string | undefined>(undefined);
  const [toast, setToast] = useState<string | null>(null);
  const [gradeLessons, retryGrade] = useLoad(
    grade !== undefined && subject === undefined ? grade : undefined,
    () => fetchLessons(grade!),
  );
  const [lessons, retryLessons] = useLoad(
    grade !== undefined && subject !== undefined ? `${grade}|${subject}` : undefined,
    () => fetchLessons(grade!, subject),
  );

  useKeys((key) => {
    if (key !== 'back') return false;
    if (subject !== undefined) {
      setLeaving(subject);
      nav.update({ name: 'ondemand', ...(grade === undefined ? {} : { grade }) });
      return true;
    }
    if (grade !== undefined) {
      setLeaving(grade);
      nav.update({ name: 'ondemand' });
      return true;
    }
    return false;
  });

  useEffect(() => {
    if (toast === null) return;
    const timer = window.setTimeout(() => setToast(null), 3000);
    return () => window.clearTimeout(timer);
  }, [toast]);

  const gradeName = grade ? t(`grades.${grade}`) : undefined;
  const title = [t('tv.ondemand.title'), gradeName, subject].filter(Boolean).join(' · ');
  const failed = (error: unknown, retry: () => void) => (
    <Notice tone="error" text={errorText(error)} action={t('tv.retry')} onAction={retry} />
  );

  let body;
  if (grade === undefined) {
    body = (
      <>
        <h2 className="tv-step">{t('tv.ondemand.pickGrade')}</h2>
        <div className="grade-grid">
          {GRADE_IDS.map((g, i) => (
            <Focusable
              key={g}
              className="tv-tile grade-tile"
              focusKey={`grade:${g}`}
              autoFocus={leaving ? leaving === g : i === 0}
              testId={`grade-${g}`}
              onPress={() => {
                setLeaving(undefined);
                nav.update({ name: 'ondemand', grade: g });
              }}
            >
              {t(`grades.${g}`)}
            </Focusable>
          ))}
        </div>
      </>
    );
  } else if (subject === undefined) {
    if (gradeLessons.status === 'loading') body = <Notice text={t('tv.loading')} />;
    else if (gradeLessons.status === 'failed') body = failed(gradeLessons.error, retryGrade);
    else {
      const subjects = subjectsOf(gradeLessons.value.items);
      body =
        subjects.length === 0 ? (
          <Notice
            text={t('tv.ondemand.empty')}
            action={t('tv.back')}
            onAction={() => nav.update({ name: 'ondemand' })}
          />
        ) : (
          <>
            <h2 className="tv-step">{t('tv.ondemand.pickSubject')}</h2>
            <div className="grade-grid">
              {subjects.map((s, i) => (
                <Focusable
                  key={s.subject}
                  className="tv-tile subject-tile"
                  focusKey={`subject:${s.subject}`}
                  autoFocus={leaving ? leaving === s.subject : i === 0}
                  testId={`subject-${s.subject}`}
                  onPress={() => {
                    setLeaving(undefined);
                    nav.update({ name: 'ondemand', grade, subject: s.subject });
                  }}
                >
                  <span className="tile-name">{s.subject}</span>
                  <span className="tile-count">{t('tv.ondemand.count', { count: s.count })}</span>
                </Focusable>
              ))}
            </div>
          </>
        );
    }
  } else if (lessons.status === 'loading') {
    body = <Notice text={t('tv.loading')} />;
  } else if (lessons.status === 'failed') {
    body = failed(lessons.error, retryLessons);
  } else if (lessons.value.items.length === 0) {
    body = (
      <Notice
        text={t('tv.ondemand.empty')}
        action={t('tv.back')}
        onAction={() => nav.update({ name: 'ondemand', grade })}
      />
    );
  } else {
    body = (
      <>
        <h2 className="tv-step">{t('tv.ondemand.pickLesson')}</h2>
        <div className="lesson-list">
          {lessons.value.items.map((l, i) => (
            <Focusable
              key={l.id}
              className={`lesson-row ${l.tvPlaybackUrl ? '' : 'is-unplayable'}`}
              focusKey={`lesson:${l.id}`}
              autoFocus={i === 0}
              testId={`lesson-${l.id}`}
              onPress={() =>
                l.tvPlaybackUrl
                  ? nav.push({ name: 'player', playback: { kind: 'vod', lesson: l } })
                  : setToast(t('tv.ondemand.noTv'))
              }
            >
              <span className="lesson-title">{l.title}</span>
              <span className="lesson-meta">
                {[
                  l.teacherName,
                  l.durationSec === undefined
                    ? undefined
                    : t('tv.ondemand.minutes', { count: Math.max(1, Math.round(l.durationSec / 60)) }),
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </span>
            </Focusable>
          ))}
        </div>
      </>
    );
  }

  return (
    <div className="tv-screen tv-ondemand">
      <Header title={title} />
      {body}
      {toast && (
        <div className="tv-toast" role="status">
          {toast}
        </div>
      )}
    </div>
  );
}
