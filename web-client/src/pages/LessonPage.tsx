import { Lesson, ownsLesson } from '@sky/contracts';
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { ErrorNote, formatDuration, LessonStateBadge, Loading } from '../components/Bits';
import { Player } from '../components/Player';
import { FaqList } from '../qa/FaqList';
import { QaPanel } from '../qa/QaPanel';
import '../live/live.css';

// Edit and delete are for the lesson's teacher and admins: a chunk of their own (with the dialogs), which a
// student opening a lesson never downloads.
const LessonActions = lazy(() =>
  import('../manage/LessonActions').then((m) => ({ default: m.LessonActions })),
);

export function LessonPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const lesson = useApi(id ? `/api/lessons/${encodeURIComponent(id)}` : null, Lesson);
  const l = lesson.data;
  const video = useRef<HTMLVideoElement>(null);
  const [answersKey, setAnswersKey] = useState('');
  const ready = l?.status === 'ready' && !!l.playbackUrl;
  // A live lesson's page follows it: live → ended → replay ready, without a reload.
  const following = !!l?.live && l.status !== 'ready' && l.status !== 'failed';
  const { reload } = lesson;
  const { user } = useAuth();
  const navigate = useNavigate();
  const owner = !!user && !!l && ownsLesson({ sub: user.id, role: user.role }, l);
  useEffect(() => {
    if (!following) return;
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [following, reload]);
  return (
    <section className="lesson-page">
      <Link to="/" className="back">
        ← {t('lesson.back')}
      </Link>
      {lesson.loading && !l && <Loading />}
      {lesson.error && <ErrorNote error={lesson.error} onRetry={lesson.reload} />}
      {l && (
        <>
          <div className="player-wrap">
            {l.status === 'ready' && l.playbackUrl ? (
              <Player
                src={l.playbackUrl}
                title={l.title}
                poster={l.posterUrl}
                lessonId={l.id}
                storyboardUrl={l.storyboardUrl}
                videoRef={video}
              />
            ) : l.live?.state === 'live' ? (
              // a lesson being taught now: join it (the replay takes this place after the end)
              <div className="player-placeholder live-now" data-testid="lesson-live-now">
                <span className="live-badge">● {t('live.lesson.liveNow')}</span>
                <Link className="btn btn-primary" to={`/live/${l.id}`} data-testid="lesson-live-join">
                  {t('live.lesson.join')} →
                </Link>
              </div>
            ) : (
              <div className="player-placeholder">
                {l.live?.state === 'ended' && l.status !== 'failed'
                  ? t('live.lesson.liveEnded')
                  : l.status === 'failed'
                    ? l.failureCode
                      ? t(`mediaFailures.${l.failureCode}`)
                      : t('lesson.failed', { reason: l.failureReason ?? '' })
                    : t('lesson.notReady')}
              </div>
            )}
            {ready && (
              <FaqList
                lessonId={l.id}
                version={answersKey}
                onSeek={(sec) => {
                  if (video.current) video.current.currentTime = sec;
                }}
              />
            )}
          </div>
          <div className="lesson-side">
            <div className="lesson-meta">
              <h1>{l.title}</h1>
              <LessonStateBadge lesson={l} />
              {owner && (
                <Suspense fallback={null}>
                  <LessonActions
                    lesson={l}
                    onSaved={reload}
                    onDeleted={(title) => void navigate('/', { state: { deleted: title } })}
                  />
                </Suspense>
              )}
              <dl>
                {l.teacherName && (
                  <>
                    <dt>{t('lesson.teacher')}</dt>
                    <dd>{l.teacherName}</dd>
                  </>
                )}
                <dt>{t('lesson.grade')}</dt>
                <dd>{t(`grades.${l.grade}`)}</dd>
                <dt>{t('lesson.subject')}</dt>
                <dd>{l.subject}</dd>
                <dt>{t('lesson.duration')}</dt>
                <dd>{formatDuration(l.durationSec, t)}</dd>
              </dl>
              {l.description && <p>{l.description}</p>}
            </div>
            <QaPanel
              lessonId={l.id}
              position={() => (ready ? video.current?.currentTime : undefined)}
              onAnswersChange={setAnswersKey}
            />
          </div>
        </>
      )}
    </section>
  );
}
