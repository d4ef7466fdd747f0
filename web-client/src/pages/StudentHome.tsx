import type { PublicUser } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { LessonBrowser } from '../components/LessonBrowser';
import { LiveNow, ON_AIR_POLL_MS, useLessonsOnAir } from '../components/LiveNow';
import { TodayLessons } from '../components/TodayLessons';
import { WeekTimetable } from '../components/WeekTimetable';
import { MyTvs } from '../manage/MyTvs';

/**
 * A student's day: the grade's lessons on the air, today's lessons each leading where it plays (recording,
 * live lesson, or the grade's channel for what is on now), the week, and the library.
 */
export function StudentHome({ user }: { user: PublicUser }) {
  const { t } = useTranslation();
  const onAir = useLessonsOnAir(user.grade, 'live', ON_AIR_POLL_MS);
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
      {user.grade && (
        <div className="student-day">
          <LiveNow onAir={onAir} />
          <TodayLessons grade={user.grade} onAir={onAir} />
        </div>
      )}
      <MyTvs />
      {user.grade && <WeekTimetable grade={user.grade} testId="timetable" />}
      <h2 className="section-title">{t('student.library')}</h2>
      {/* the api shows students only lessons that are ready to watch */}
      <LessonBrowser grade={user.grade} emptyText={t('student.empty')} />
    </section>
  );
}
