import type { PublicUser } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { LessonBrowser } from '../components/LessonBrowser';
import { WeekTimetable } from '../components/WeekTimetable';
import { MyTvs } from '../manage/MyTvs';

export function StudentHome({ user }: { user: PublicUser }) {
  const { t } = useTranslation();
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
      <MyTvs />
      {user.grade && <WeekTimetable grade={user.grade} testId="timetable" />}
      <h2 className="section-title">{t('student.library')}</h2>
      {/* the api shows students only lessons that are ready to watch */}
      <LessonBrowser grade={user.grade} emptyText={t('student.empty')} />
    </section>
  );
}
