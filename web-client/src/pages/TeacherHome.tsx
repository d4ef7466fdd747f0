import { Lesson, LessonList, type GradeId, type PublicUser } from '@sky/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import { api, ApiError, withQuery } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { fieldErrors } from '../components/FieldErrors';
import { LessonCard } from '../components/LessonCard';
import { ScheduledLive } from '../components/ScheduledLive';
import { UploadPanel } from '../components/UploadPanel';
import { useLessonProgress } from '../api/useLessonProgress';
import { GradeOptions } from '../components/Options';
import { LessonActions } from '../manage/LessonActions';

// The api caps a page at 100 and has no teacher filter yet: a teacher's own lessons are picked from the newest 100.
/** The fields the new-lesson form marks with their own message when the api refuses them. */
const LESSON_FIELDS = ['title', 'grade', 'subject', 'unit', 'description'];
const LESSONS = withQuery('/api/lessons', { limit: 100, mine: 'true' });

export function TeacherHome({ user }: { user: PublicUser }) {
  const { t } = useTranslation();
  const lessons = useApi(LESSONS, LessonList);
  const mine = lessons.data?.items.filter((l) => l.teacherId === user.id) ?? [];
  const processing = mine.some((l) => l.status === 'processing');
  const progress = useLessonProgress(mine.filter((l) => l.status === 'processing').map((l) => l.id));
  const [title, setTitle] = useState('');
  const [grade, setGrade] = useState<GradeId>(user.grade ?? 'p1');
  const [subject, setSubject] = useState('');
  const [unit, setUnit] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // what the last edit or delete did (a delete from the lesson's own page comes back here with it)
  const deletedOnItsPage = (useLocation().state as { deleted?: string } | null)?.deleted;
  const [done, setDone] = useState<string | null>(
    deletedOnItsPage ? t('manage.lesson.deleted', { title: deletedOnItsPage }) : null,
  );

  // While a lesson is being transcoded, look again every 5 s so it turns ready (or failed) by itself.
  const { reload } = lessons;
  useEffect(() => {
    if (!processing) return;
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [processing, reload]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFailure(null);
    setMessage(null);
    setBusy(true);
    try {
      const body = {
        title,
        grade,
        subject,
        ...(unit.trim() ? { unit } : {}),
        ...(description.trim() ? { description } : {}),
      };
      const lesson = await api('/api/lessons', Lesson, { method: 'POST', body });
      setMessage(t('teacher.created', { title: lesson.title }));
      setTitle('');
      setDescription('');
      reload();
    } catch (err) {
      setErrors(fieldErrors(err, t));
      // The summary in the reader's language; each marked field says what is wrong with it.
      if (err instanceof ApiError) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (k: string) =>
    errors[k] && (
      <span className="field-error" id={`lesson-${k}-error`}>
        {errors[k]}
      </span>
    );
  const invalid = (k: string) =>
    errors[k] ? { 'aria-invalid': true as const, 'aria-describedby': `lesson-${k}-error` } : {};

  return (
    <section className="two-col">
      <div>
        <div className="page-head">
          <h1>{t('teacher.title')}</h1>
          <Link to="/teacher/inbox" data-testid="inbox-link">
            {t('inbox.open')}
          </Link>
          {lessons.data && <span className="muted">{t('teacher.count', { count: mine.length })}</span>}
        </div>
        {done && (
          <p className="notice notice-ok" role="status" data-testid="lesson-action-done">
            {done}
          </p>
        )}
        {mine.length > 0 && <ScheduledLive lessons={mine} />}
        {lessons.loading && !lessons.data && <Loading />}
        {lessons.error && <ErrorNote error={lessons.error} onRetry={reload} />}
        {lessons.data && mine.length === 0 && <p className="empty">{t('teacher.empty')}</p>}
        <div className="grid">
          {mine.map((l) => (
            <div key={l.id} className="lesson-item">
              <LessonCard lesson={l} showStatus />
              <LessonActions
                lesson={l}
                onSaved={(saved) => {
                  setDone(t('manage.lesson.saved', { title: saved.title }));
                  reload();
                }}
                onDeleted={(title) => {
                  setDone(t('manage.lesson.deleted', { title }));
                  reload();
                }}
              />
              {l.status === 'draft' && (
                <Link className="btn btn-small" to={`/teacher/live/${l.id}`} data-testid="go-live-link">
                  ● {t(l.live?.state === 'live' ? 'live.studio.liveBadge' : 'live.teacher.goLive')}
                </Link>
              )}
              {(l.status === 'draft' || l.status === 'failed') && <UploadPanel lesson={l} onDone={reload} />}
              {l.status === 'processing' && progress[l.id] && (
                <div data-testid="transcode-progress">
                  <progress max={100} value={progress[l.id]!.percent} />
                  <p className="small muted">
                    {t('teacher.transcoding', {
                      pct: Math.floor(progress[l.id]!.percent),
                      speed: (progress[l.id]!.speed ?? 0).toFixed(1),
                    })}
                  </p>
                </div>
              )}
            </div>
          ))}
        </div>
      </div>
      <aside>
        <form className="panel form" onSubmit={(e) => void create(e)}>
          <h2>{t('teacher.create')}</h2>
          <label>
            {t('teacher.titleField')}
            <input
              value={title}
              onChange={(e) => setTitle(e.target.value)}
              maxLength={120}
              required
              {...invalid('title')}
            />
            {fieldError('title')}
          </label>
          <label>
            {t('teacher.gradeField')}
            <select value={grade} onChange={(e) => setGrade(e.target.value as GradeId)} {...invalid('grade')}>
              <GradeOptions />
            </select>
            {fieldError('grade')}
          </label>
          <label>
            {t('teacher.subjectField')}
            <input
              value={subject}
              onChange={(e) => setSubject(e.target.value)}
              maxLength={32}
              required
              placeholder={t('teacher.subjectPlaceholder')}
              {...invalid('subject')}
            />
            {fieldError('subject')}
          </label>
          <label>
            {t('teacher.unitField')}
            <input
              value={unit}
              onChange={(e) => setUnit(e.target.value)}
              maxLength={80}
              placeholder={t('teacher.unitPlaceholder')}
              {...invalid('unit')}
            />
            {fieldError('unit')}
          </label>
          <label>
            {t('teacher.descriptionField')}
            <textarea
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              maxLength={2000}
              rows={3}
              {...invalid('description')}
            />
            {fieldError('description')}
          </label>
          {failure && <ErrorNote error={failure} marked={LESSON_FIELDS} />}
          {message && (
            <p className="notice notice-ok" role="status">
              {message}
            </p>
          )}
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {t('teacher.submit')}
          </button>
        </form>
      </aside>
    </section>
  );
}
