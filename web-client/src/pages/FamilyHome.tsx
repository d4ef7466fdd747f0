import { GRADE_IDS, PublicUser, type GradeId } from '@sky/contracts';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, renewSession, updateSessionUser } from '../api/client';
import { problemText } from '../components/Bits';
import { LessonBrowser } from '../components/LessonBrowser';
import { LiveNow, ON_AIR_POLL_MS, useLessonsOnAir } from '../components/LiveNow';
import { TodayLessons } from '../components/TodayLessons';
import { WeekTimetable } from '../components/WeekTimetable';
import { MyTvs } from '../manage/MyTvs';
import { asApiError } from '../manage/refusals';

/**
 * A family's day, as its child's: the grade's lessons on the air, today's lessons each leading where it
 * plays (recording, live lesson, the grade's channel), its TVs, the week and the library. The grade is
 * the account's (kept by the api, so every device and the TVs paired from then on agree); a family
 * without one is asked first.
 */
export function FamilyHome({ user }: { user: PublicUser }) {
  const { t } = useTranslation();
  const [changing, setChanging] = useState(false);
  const grade = user.grade;
  const onAir = useLessonsOnAir(grade, 'live', ON_AIR_POLL_MS);
  const gradeName = grade ? t(`grades.${grade}`) : '';
  return (
    <section>
      <div className="page-head">
        <div>
          <h1>{t('family.title')}</h1>
          {grade && (
            <p className="muted family-grade">
              <span data-testid="family-grade">{t('family.childIn', { grade: gradeName })}</span>{' '}
              <button
                type="button"
                className="btn btn-ghost btn-small"
                data-testid="family-change-grade"
                aria-expanded={changing}
                onClick={() => setChanging((c) => !c)}
              >
                {t('family.change')}
              </button>
            </p>
          )}
        </div>
      </div>
      {(!grade || changing) && (
        <GradeChoice
          current={grade}
          onChosen={() => setChanging(false)}
          onCancel={grade ? () => setChanging(false) : undefined}
        />
      )}
      {grade && (
        <div className="student-day">
          <LiveNow onAir={onAir} noneText={t('family.liveNone', { grade: gradeName })} />
          <TodayLessons grade={grade} onAir={onAir} />
        </div>
      )}
      <MyTvs />
      {grade && (
        <>
          <WeekTimetable grade={grade} testId="timetable" />
          <h2 className="section-title">{t('family.library', { grade: gradeName })}</h2>
          {/* the api shows families only lessons that are ready to watch */}
          <LessonBrowser grade={grade} emptyText={t('family.empty', { grade: gradeName })} />
        </>
      )}
    </section>
  );
}

/** Which grade the child is in: saved to the account at once (and the session renewed to carry it). */
function GradeChoice({
  current,
  onChosen,
  onCancel,
}: {
  current: GradeId | undefined;
  onChosen: () => void;
  onCancel: (() => void) | undefined;
}) {
  const { t } = useTranslation();
  const [saving, setSaving] = useState<GradeId | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const choose = async (grade: GradeId) => {
    setSaving(grade);
    setRefusal(null);
    try {
      const user = await api('/api/me', PublicUser, { method: 'PATCH', body: { grade } });
      updateSessionUser(user);
      // the access token names the grade too (TVs paired from here carry it): take one that says the new one
      await renewSession();
      onChosen();
    } catch (err) {
      setRefusal(problemText(asApiError(err), t));
    } finally {
      setSaving(null);
    }
  };
  return (
    <div className="panel family-grade-choice" data-testid="family-grade-choice">
      <h2>{current ? t('family.changeTitle') : t('family.chooseTitle')}</h2>
      <p className="muted">{t('family.chooseIntro')}</p>
      <div className="chips" role="group" aria-label={t('family.pickGrade')}>
        {GRADE_IDS.map((g) => (
          <button
            key={g}
            type="button"
            className="chip"
            data-testid={`family-grade-${g}`}
            aria-pressed={g === (saving ?? current)}
            disabled={saving !== null}
            onClick={() => void choose(g)}
          >
            {t(`grades.${g}`)}
          </button>
        ))}
      </div>
      {refusal && (
        <div className="notice notice-error" role="alert">
          {refusal}
        </div>
      )}
      {onCancel && (
        <button type="button" className="btn btn-ghost btn-small" onClick={onCancel}>
          {t('family.keep')}
        </button>
      )}
    </div>
  );
}
