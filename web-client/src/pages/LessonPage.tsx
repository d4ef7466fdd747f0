import { ownsLesson, type Lesson } from '@sky/contracts';
import { lazy, Suspense, useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { typed } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { ErrorNote, formatDuration, LessonStateBadge, Loading } from '../components/Bits';
import { Player } from '../components/Player';
import '../live/live.css';

// Edit and delete are for the lesson's teacher and admins: a chunk of their own (with the dialogs), which a
// student opening a lesson never downloads.
const LessonActions = lazy(() =>
  import('../manage/LessonActions').then((m) => ({ default: m.LessonActions })),
);
// Q&A (with socket.io) and the answered questions are chunks of their own, asked for once the replay shows
// its first frame: a phone on a slow line spends its first bytes on the video (issue 17).
const QaPanel = lazy(() => import('../qa/QaPanel').then((m) => ({ default: m.QaPanel })));
const FaqList = lazy(() => import('../qa/FaqList').then((m) => ({ default: m.FaqList })));
/** How long Q&A waits for a first frame that does not come (a stalled line, a failing stream). */
const QA_WAIT_MS = 4000;

/**
 * True once the lesson's video has shown its first frame (or failed, or kept us waiting QA_WAIT_MS), and
 * at once for a lesson with no video to wait for (`playing` false; undefined: the lesson is not known yet).
 * It stays true: a live lesson whose replay turns ready keeps its Q&A room.
 */
function useFirstFrame(video: RefObject<HTMLVideoElement | null>, playing: boolean | undefined): boolean {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    if (playing === undefined || seen) return;
    // read here, after the commit that mounted the player's <video>
    const el = playing ? video.current : null;
    const done = () => setSeen(true);
    // no video, or its frame came before this effect (a cached stream): the next tick
    const timer = setTimeout(done, !el || el.readyState >= 2 ? 0 : QA_WAIT_MS);
    el?.addEventListener('loadeddata', done, { once: true });
    el?.addEventListener('error', done, { once: true });
    return () => {
      clearTimeout(timer);
      el?.removeEventListener('loadeddata', done);
      el?.removeEventListener('error', done);
    };
  }, [video, playing, seen]);
  return seen || playing === false;
}

export function LessonPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const lesson = useApi(id ? `/api/lessons/${encodeURIComponent(id)}` : null, typed<Lesson>());
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
  const firstFrame = useFirstFrame(video, l ? ready : undefined);
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
            {ready && firstFrame && (
              <Suspense fallback={null}>
                <FaqList
                  lessonId={l.id}
                  version={answersKey}
                  onSeek={(sec) => {
                    if (video.current) video.current.currentTime = sec;
                  }}
                />
              </Suspense>
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
            {firstFrame && (
              <Suspense fallback={null}>
                <QaPanel
                  lessonId={l.id}
                  position={() => (ready ? video.current?.currentTime : undefined)}
                  onAnswersChange={setAnswersKey}
                />
              </Suspense>
            )}
          </div>
        </>
      )}
    </section>
  );
}
