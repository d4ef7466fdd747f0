import { Lesson, lessonPlacementFixed, type GradeId, type UpdateLessonBody } from '@sky/contracts';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { fieldErrors } from '../components/FieldErrors';
import { GradeOptions } from '../components/Options';
import { ConfirmDialog, Dialog } from './Dialog';
import { lessonRefusalText } from './refusals';
import './manage.css';

/**
 * A lesson's owner controls (its teacher, or an admin): edit, and delete after a confirmation. The
 * caller shows them only to owners (`ownsLesson`); the api decides anyway.
 */
export function LessonActions({
  lesson,
  onSaved,
  onDeleted,
}: {
  lesson: Lesson;
  onSaved: (saved: Lesson) => void;
  onDeleted: (title: string) => void;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<'edit' | 'delete' | null>(null);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const liveNow = lesson.live?.state === 'live';

  const remove = async () => {
    setBusy(true);
    setRefusal(null);
    try {
      await api(`/api/lessons/${lesson.id}`, null, { method: 'DELETE' });
      setOpen(null);
      onDeleted(lesson.title);
    } catch (err) {
      setRefusal(lessonRefusalText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <span className="lesson-actions">
      <button
        type="button"
        className="btn btn-small btn-ghost"
        data-testid="lesson-edit"
        onClick={() => setOpen('edit')}
      >
        {t('manage.lesson.edit')}
      </button>
      <button
        type="button"
        className="btn btn-small btn-ghost"
        data-testid="lesson-delete"
        // a live lesson is ended first: say so rather than offer what the api refuses
        disabled={liveNow}
        title={liveNow ? t('manage.lesson.refused.live') : undefined}
        onClick={() => {
          setRefusal(null);
          setOpen('delete');
        }}
      >
        {t('manage.lesson.delete')}
      </button>
      {open === 'edit' && (
        <EditLessonDialog
          lesson={lesson}
          onClose={() => setOpen(null)}
          onSaved={(saved) => {
            setOpen(null);
            onSaved(saved);
          }}
        />
      )}
      {open === 'delete' && (
        <ConfirmDialog
          title={t('manage.lesson.deleteTitle')}
          text={t('manage.lesson.confirmDelete', { title: lesson.title })}
          confirmLabel={busy ? t('manage.lesson.deleting') : t('manage.lesson.confirmDeleteButton')}
          busy={busy}
          error={refusal}
          testId="delete-lesson-dialog"
          onConfirm={() => void remove()}
          onClose={() => setOpen(null)}
        />
      )}
    </span>
  );
}

function EditLessonDialog({
  lesson,
  onClose,
  onSaved,
}: {
  lesson: Lesson;
  onClose: () => void;
  onSaved: (saved: Lesson) => void;
}) {
  const { t } = useTranslation();
  const [form, setForm] = useState({
    title: lesson.title,
    grade: lesson.grade,
    subject: lesson.subject,
    unit: lesson.unit ?? '',
    description: lesson.description ?? '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fixed = lessonPlacementFixed(lesson);
  const formId = `edit-lesson-${lesson.id}`;

  /** Sets a field and drops what was said about its old value. */
  const edit = <K extends keyof typeof form>(k: K, value: (typeof form)[K]) => {
    setForm({ ...form, [k]: value });
    setErrors(({ [k]: _old, ...rest }) => rest);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form.title.trim()) {
      setErrors({ title: t('manage.lesson.titleRequired') });
      return;
    }
    // only what changed: an unchanged grade is never a move
    const body: UpdateLessonBody = {
      ...(form.title !== lesson.title ? { title: form.title } : {}),
      ...(form.grade !== lesson.grade ? { grade: form.grade } : {}),
      ...(form.subject !== lesson.subject ? { subject: form.subject } : {}),
      ...(form.unit !== (lesson.unit ?? '') ? { unit: form.unit } : {}),
      ...(form.description !== (lesson.description ?? '') ? { description: form.description } : {}),
    };
    if (Object.keys(body).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    setErrors({});
    setRefusal(null);
    try {
      onSaved(await api(`/api/lessons/${lesson.id}`, Lesson, { method: 'PATCH', body }));
    } catch (err) {
      const fields = fieldErrors(err, t);
      setErrors(fields);
      setRefusal(lessonRefusalText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const invalid = (k: string) =>
    errors[k] ? { 'aria-invalid': true as const, 'aria-describedby': `${formId}-${k}-error` } : {};
  const fieldError = (k: string) =>
    errors[k] && (
      <span className="field-error" id={`${formId}-${k}-error`} data-testid={`edit-error-${k}`}>
        {errors[k]}
      </span>
    );

  return (
    <Dialog
      title={t('manage.lesson.editTitle')}
      testId="edit-lesson-dialog"
      onClose={onClose}
      actions={
        <button
          type="submit"
          form={formId}
          className="btn btn-primary"
          data-testid="edit-lesson-save"
          disabled={busy}
        >
          {busy ? t('manage.lesson.saving') : t('manage.lesson.save')}
        </button>
      }
    >
      <form id={formId} className="form" onSubmit={(e) => void save(e)} noValidate>
        <label>
          {t('teacher.titleField')}
          <input
            data-testid="edit-title"
            value={form.title}
            maxLength={120}
            onChange={(e) => edit('title', e.target.value)}
            {...invalid('title')}
          />
          {fieldError('title')}
        </label>
        <div className="form-row">
          <label>
            {t('teacher.gradeField')}
            <select
              data-testid="edit-grade"
              value={form.grade}
              disabled={fixed}
              onChange={(e) => edit('grade', e.target.value as GradeId)}
              {...invalid('grade')}
            >
              <GradeOptions />
            </select>
            {fieldError('grade')}
          </label>
          <label>
            {t('teacher.subjectField')}
            <input
              data-testid="edit-subject"
              value={form.subject}
              maxLength={32}
              disabled={fixed}
              onChange={(e) => edit('subject', e.target.value)}
              {...invalid('subject')}
            />
            {fieldError('subject')}
          </label>
        </div>
        {fixed && <p className="hint small muted">{t('manage.lesson.placementFixed')}</p>}
        <label>
          {t('teacher.unitField')}
          <input
            data-testid="edit-unit"
            value={form.unit}
            maxLength={80}
            onChange={(e) => edit('unit', e.target.value)}
            {...invalid('unit')}
          />
          {fieldError('unit')}
        </label>
        <label>
          {t('teacher.descriptionField')}
          <textarea
            data-testid="edit-description"
            value={form.description}
            maxLength={2000}
            rows={3}
            onChange={(e) => edit('description', e.target.value)}
            {...invalid('description')}
          />
          {fieldError('description')}
        </label>
        {refusal && (
          <div className="notice notice-error" role="alert">
            {refusal}
          </div>
        )}
      </form>
    </Dialog>
  );
}
