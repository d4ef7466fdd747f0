import { type GradeId, type Lesson, type LessonList, type PublicUser } from '@sky/contracts';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { GradeOptions } from '../components/Options';
import { fieldErrors } from '../components/FieldErrors';
import { LessonCard } from '../components/LessonCard';

export function TeacherHome({ user }: { user: PublicUser }) {
  const { t } = useTranslation();
  const lessons = useApi<LessonList>('/api/lessons?limit=100');
  const mine = lessons.data?.items.filter((l) => l.teacherId === user.id) ?? [];
  const [title, setTitle] = useState('');
  const [grade, setGrade] = useState<GradeId>(user.grade ?? 'p1');
  const [subject, setSubject] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFailure(null);
    try {
      const lesson = await api<Lesson>('/api/lessons', { method: 'POST', body: { title, grade, subject } });
      setMessage(t('teacher.created', { title: lesson.title }));
      setTitle('');
      lessons.reload();
    } catch (err) {
      setErrors(fieldErrors(err));
      if (err instanceof ApiError && err.fields.length === 0) setFailure(err);
    }
  };

  return (
    <section className="two-col">
      <div>
        <div className="page-head">
          <h1>{t('teacher.title')}</h1>
          <span className="muted">{t('teacher.count', { count: mine.length })}</span>
        </div>
        {lessons.loading && <Loading />}
        {lessons.error && <ErrorNote error={lessons.error} onRetry={lessons.reload} />}
        {lessons.data && mine.length === 0 && <p className="empty">{t('teacher.empty')}</p>}
        <div className="grid">
          {mine.map((l) => (
            <LessonCard key={l.id} lesson={l} showStatus />
          ))}
        </div>
      </div>
      <aside>
        <form className="panel form" onSubmit={(e) => void create(e)}>
          <h2>{t('teacher.create')}</h2>
          <label>
            {t('teacher.titleField')}
            <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={120} required />
            {errors['title'] && <span className="field-error">{errors['title']}</span>}
          </label>
          <label>
            {t('teacher.gradeField')}
            <select value={grade} onChange={(e) => setGrade(e.target.value as GradeId)}>
              <GradeOptions />
            </select>
          </label>
          <label>
            {t('teacher.subjectField')}
            <input
              value={subject}
              onChange={(e) => setSubject(e.target.value)}
              maxLength={32}
              required
              placeholder="数学"
            />
            {errors['subject'] && <span className="field-error">{errors['subject']}</span>}
          </label>
          {failure && <ErrorNote error={failure} />}
          {message && <p className="notice notice-ok">{message}</p>}
          <button className="btn btn-primary" type="submit">
            {t('teacher.submit')}
          </button>
        </form>
      </aside>
    </section>
  );
}
