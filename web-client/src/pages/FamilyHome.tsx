import { GRADE_IDS, LessonList, type GradeId } from '@sky/contracts';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { withQuery } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { LessonCard } from '../components/LessonCard';
import { MyTvs } from '../manage/MyTvs';
import { WeekTimetable } from '../components/WeekTimetable';

export function FamilyHome() {
  const { t } = useTranslation();
  const [grade, setGrade] = useState<GradeId>('p1');
  const lessons = useApi(withQuery('/api/lessons', { limit: 48, grade }), LessonList);
  return (
    <section>
      <div className="page-head">
        <h1>{t('family.title')}</h1>
      </div>
      <MyTvs />
      <div className="chips" role="group" aria-label={t('family.pickGrade')}>
        {GRADE_IDS.map((g) => (
          <button
            key={g}
            type="button"
            aria-pressed={g === grade}
            className="chip"
            onClick={() => setGrade(g)}
          >
            {t(`grades.${g}`)}
          </button>
        ))}
      </div>
      <WeekTimetable grade={grade} testId="timetable" />
      <h2 className="section-title">{t('family.library', { grade: t(`grades.${grade}`) })}</h2>
      {lessons.loading && <Loading />}
      {lessons.error && <ErrorNote error={lessons.error} onRetry={lessons.reload} />}
      {lessons.data && lessons.data.items.length === 0 && (
        <p className="empty">{t('family.empty', { grade: t(`grades.${grade}`) })}</p>
      )}
      <div className="grid">
        {lessons.data?.items.map((l) => (
          <LessonCard key={l.id} lesson={l} />
        ))}
      </div>
    </section>
  );
}
