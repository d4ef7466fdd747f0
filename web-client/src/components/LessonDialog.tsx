import type { ScheduleDiff, ScheduleEntry } from '@sky/contracts';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { moveLesson, type TermInfo } from '../api/curriculum';
import { ErrorNote } from './Bits';
import { useChannels } from './channels';
import { DiagnosisList, MovedList } from './ScheduleNotes';
import { RecordingBadge, subjectName } from './WeekGrid';
import { addMinutes, formatDay, joinList, minutesBetween, schoolDaysBetween, stageRules } from './week';

type Outcome = { kind: 'moved'; diff: ScheduleDiff } | { kind: 'failed'; error: ApiError } | null;

/** One lesson of the timetable: what it is, and a form to move it to another day and slot. */
export function LessonDialog({
  entry,
  info,
  teacherNames,
  onClose,
  onMoved,
}: {
  entry: ScheduleEntry;
  info: TermInfo;
  teacherNames: ReadonlyMap<string, string>;
  onClose: () => void;
  onMoved: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const ref = useRef<HTMLDialogElement>(null);
  const [date, setDate] = useState(entry.date);
  const [slot, setSlot] = useState(entry.slot);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);
  const rules = stageRules(info.term, entry.grade);
  const days = schoolDaysBetween(info.term, info.term.startDate, info.term.endDate);
  const channelName = useChannels().name;
  // Once moved, the lesson is where the diff says.
  const now =
    outcome?.kind === 'moved'
      ? (outcome.diff.moved.find((m) => m.lessonId === entry.lessonId)?.to ?? null)
      : { date: entry.date, start: entry.start };

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setOutcome(null);
    setBusy(true);
    try {
      setOutcome({ kind: 'moved', diff: await moveLesson({ lessonId: entry.lessonId, date, slot }) });
      onMoved();
    } catch (err) {
      setOutcome({
        kind: 'failed',
        error: err instanceof ApiError ? err : new ApiError(0, 'UNKNOWN', String(err)),
      });
    } finally {
      setBusy(false);
    }
  };

  const teacher = teacherNames.get(entry.teacherId) ?? entry.teacherId;
  return (
    <dialog
      ref={ref}
      className="lesson-dialog"
      data-testid="lesson-panel"
      onClose={onClose}
      aria-labelledby="lesson-dialog-title"
    >
      <div className="dialog-head">
        <h2 id="lesson-dialog-title">{entry.title}</h2>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => ref.current?.close()}>
          {t('move.close')}
        </button>
      </div>
      <dl className="facts">
        <dt>{t('lesson.subject')}</dt>
        <dd>
          {subjectName(info.subjects, entry.subject, lang)} <RecordingBadge recording={entry.recording} />
        </dd>
        <dt>{t('lesson.grade')}</dt>
        <dd>{t(`grades.${entry.grade}`)}</dd>
        <dt>{t('timetable.unit')}</dt>
        <dd>
          {entry.unit} · {t('timetable.order', { n: entry.order })}
        </dd>
        <dt>{t('lesson.teacher')}</dt>
        <dd>{teacher}</dd>
        <dt>{t('timetable.when')}</dt>
        <dd data-testid="lesson-when">
          {now
            ? `${formatDay(now.date, lang)} ${now.start}–${addMinutes(now.start, minutesBetween(entry.start, entry.end))}`
            : t('diff.unscheduled')}
        </dd>
        <dt>{t('timetable.channels')}</dt>
        <dd>{joinList(entry.channels.map(channelName), lang)}</dd>
      </dl>
      {outcome?.kind !== 'moved' && (
        <form className="form move-form" onSubmit={(e) => void submit(e)}>
          <h3>{t('move.title')}</h3>
          <div className="form-row">
            <label>
              {t('move.date')}
              <select data-testid="move-date" value={date} onChange={(e) => setDate(e.target.value)}>
                {days.map((d) => (
                  <option key={d} value={d}>
                    {formatDay(d, lang)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('move.slot')}
              <select data-testid="move-slot" value={slot} onChange={(e) => setSlot(Number(e.target.value))}>
                {rules.slots.map((start, i) => (
                  <option key={start} value={i}>
                    {t('timetable.period', { n: i + 1 })} {start}–{addMinutes(start, rules.lessonMinutes)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <button
            className="btn btn-primary"
            type="submit"
            data-testid="move-submit"
            disabled={busy || (date === entry.date && slot === entry.slot)}
          >
            {busy ? t('move.submitting') : t('move.submit')}
          </button>
        </form>
      )}
      {outcome?.kind === 'moved' && <MovedList diff={outcome.diff} teacherNames={teacherNames} />}
      {outcome?.kind === 'failed' &&
        (outcome.error.diagnosis.length > 0 ? (
          <DiagnosisList diagnosis={outcome.error.diagnosis} teacherNames={teacherNames} />
        ) : (
          <ErrorNote error={outcome.error} />
        ))}
    </dialog>
  );
}
