import type { Lesson } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { formatDuration, LessonStateBadge } from './Bits';

/** A lesson as a card; the whole card links to its page. */
export function LessonCard({ lesson, showStatus = false }: { lesson: Lesson; showStatus?: boolean }) {
  const { t } = useTranslation();
  return (
    <Link to={`/lessons/${lesson.id}`} className="lesson-card" data-testid="lesson-card">
      <div className={`lesson-thumb subject-${(lesson.subject.codePointAt(0) ?? 0) % 6}`} aria-hidden="true">
        <span>{lesson.subject}</span>
      </div>
      <div className="lesson-body">
        <h3>{lesson.title}</h3>
        <p className="muted">
          {t(`grades.${lesson.grade}`)} · {lesson.subject} · {formatDuration(lesson.durationSec, t)}
        </p>
        {showStatus && <LessonStateBadge lesson={lesson} />}
        {showStatus && lesson.status === 'failed' && (
          <p className="failure" data-testid="failure">
            {lesson.failureCode
              ? t(`mediaFailures.${lesson.failureCode}`)
              : t('lesson.failed', { reason: lesson.failureReason ?? '' })}
          </p>
        )}
      </div>
    </Link>
  );
}
