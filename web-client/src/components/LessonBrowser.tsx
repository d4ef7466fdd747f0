import { LessonList, LessonUnits, type GradeId } from '@sky/contracts';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { withQuery } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from './Bits';
import { LessonCard } from './LessonCard';

/** A grade's ready lessons: subject chips, then unit chips, and a title search (the api filters; typing waits for Enter). */
export function LessonBrowser({ grade, emptyText }: { grade: GradeId | undefined; emptyText: string }) {
  const { t } = useTranslation();
  const [subject, setSubjectState] = useState<string | undefined>();
  const [unit, setUnit] = useState<string | undefined>();
  const setSubject = (s: string | undefined) => {
    setSubjectState(s);
    setUnit(undefined);
  };
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState<string | undefined>();
  // subjects come from the grade's whole list, so picking one never hides the others
  const all = useApi(withQuery('/api/lessons', { limit: 100, grade }), LessonList);
  const subjects = [...new Set(all.data?.items.map((l) => l.subject) ?? [])].sort((a, b) =>
    a.localeCompare(b, 'zh-CN'),
  );
  // grade → subject → unit, in textbook order
  const units = useApi(
    grade && subject ? withQuery('/api/lessons/units', { grade, subject }) : null,
    LessonUnits,
  );
  const lessons = useApi(withQuery('/api/lessons', { limit: 48, grade, subject, unit, q }), LessonList);
  return (
    <>
      <form
        className="browse-bar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(typed.trim() || undefined);
        }}
      >
        <input
          data-testid="lesson-search"
          type="search"
          value={typed}
          maxLength={50}
          placeholder={t('library.search')}
          aria-label={t('library.search')}
          onChange={(e) => setTyped(e.target.value)}
        />
        <div className="chips" role="group" aria-label={t('lesson.subject')}>
          <button
            type="button"
            className="chip"
            aria-pressed={subject === undefined}
            onClick={() => setSubject(undefined)}
          >
            {t('library.allSubjects')}
          </button>
          {subjects.map((s) => (
            <button
              key={s}
              type="button"
              className="chip"
              aria-pressed={subject === s}
              onClick={() => setSubject(s)}
            >
              {s}
            </button>
          ))}
        </div>
        {subject && (units.data?.length ?? 0) > 0 && (
          <div className="chips" role="group" aria-label={t('library.allUnits')} data-testid="unit-chips">
            <button
              type="button"
              className="chip"
              aria-pressed={unit === undefined}
              onClick={() => setUnit(undefined)}
            >
              {t('library.allUnits')}
            </button>
            {units.data?.map((u) => (
              <button
                key={u}
                type="button"
                className="chip"
                aria-pressed={unit === u}
                onClick={() => setUnit(u)}
              >
                {u}
              </button>
            ))}
          </div>
        )}
      </form>
      {lessons.loading && !lessons.data && <Loading />}
      {lessons.error && <ErrorNote error={lessons.error} onRetry={lessons.reload} />}
      {lessons.data && lessons.data.items.length === 0 && (
        <p className="empty">{q || subject || unit ? t('library.noMatch') : emptyText}</p>
      )}
      <div className="grid">
        {lessons.data?.items.map((l) => (
          <LessonCard key={l.id} lesson={l} />
        ))}
      </div>
    </>
  );
}
