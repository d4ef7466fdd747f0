import { LessonList, type PublicUser } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { withQuery } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { LessonCard } from '../components/LessonCard';

export function StudentHome({ user }: { user: PublicUser }) {
  const { t } = useTranslation();
  // The api shows students only lessons that are ready to watch.
  const lessons = useApi(withQuery('/api/lessons', { limit: 48, grade: user.grade }), LessonList);
  return (
    <section>
      <div className="page-head">
        <div>
          <h1>{t('student.title')}</h1>
          <p className="muted">
            {t('student.greeting', { name: user.displayName })}{' '}
            {[user.grade && t(`grades.${user.grade}`), user.school].filter(Boolean).join(' · ')}
          </p>
        </div>
      </div>
      {lessons.loading && <Loading />}
      {lessons.error && <ErrorNote error={lessons.error} onRetry={lessons.reload} />}
      {lessons.data && lessons.data.items.length === 0 && <p className="empty">{t('student.empty')}</p>}
      <div className="grid">
        {lessons.data?.items.map((l) => (
          <LessonCard key={l.id} lesson={l} />
        ))}
      </div>
    </section>
  );
}
