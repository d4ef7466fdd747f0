import { beijingToday, GRADE_IDS, type ScheduleDiff, type Teacher } from '@sky/contracts';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { markUnavailable, type TermInfo } from '../api/curriculum';
import { ErrorNote } from './Bits';
import { DiagnosisList, MovedList } from './ScheduleNotes';
import { subjectName } from './WeekGrid';
import { defaultWeek, joinList, schoolDaysBetween, weekDays } from './week';

type Outcome = { kind: 'moved'; diff: ScheduleDiff } | { kind: 'failed'; error: ApiError } | null;

/** A teacher on leave: every school day from → to; only that teacher's lessons (and what they push) move. */
export function LeaveForm({
  info,
  teachers,
  onChanged,
}: {
  info: TermInfo;
  teachers: readonly Teacher[];
  onChanged: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const names = new Map(teachers.map((x) => [x.id, x.name]));
  const thisWeek = weekDays(info.term, defaultWeek(info.term, beijingToday()));
  const [teacherId, setTeacherId] = useState('');
  const [from, setFrom] = useState(thisWeek[0] ?? info.term.startDate);
  const [to, setTo] = useState(thisWeek[thisWeek.length - 1] ?? info.term.startDate);
  const [problem, setProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);

  // Grouped by the teacher's first grade, in grade order; teachers of no grade last.
  const groups = [
    ...GRADE_IDS.map((g) => ({
      key: g,
      label: t(`grades.${g}`),
      teachers: teachers.filter((x) => x.grades[0] === g),
    })),
    { key: 'none', label: t('leave.noGrade'), teachers: teachers.filter((x) => x.grades.length === 0) },
  ].filter((g) => g.teachers.length > 0);
  const label = (x: Teacher) =>
    [
      x.name,
      joinList(
        x.subjects.map((s) => subjectName(info.subjects, s, lang)),
        lang,
      ),
      x.grades.length > 1
        ? joinList(
            x.grades.map((g) => t(`grades.${g}`)),
            lang,
          )
        : '',
    ]
      .filter(Boolean)
      .join(' · ');

  const validRange = from !== '' && to !== '' && from <= to;
  const dates = validRange ? schoolDaysBetween(info.term, from, to) : [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setOutcome(null);
    const refusal = !teacherId
      ? t('leave.pickTeacher')
      : !validRange
        ? t('leave.badRange')
        : dates.length === 0
          ? t('leave.noSchoolDays')
          : null;
    setProblem(refusal);
    if (refusal) return;
    setBusy(true);
    try {
      setOutcome({ kind: 'moved', diff: await markUnavailable(teacherId, { dates }) });
      onChanged();
    } catch (err) {
      setOutcome({
        kind: 'failed',
        error: err instanceof ApiError ? err : new ApiError(0, 'UNKNOWN', String(err)),
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel form" data-testid="leave-form" onSubmit={(e) => void submit(e)} noValidate>
      <h2>{t('leave.title')}</h2>
      <p className="hint">{t('leave.hint')}</p>
      <label>
        {t('leave.teacher')}
        <select data-testid="leave-teacher" value={teacherId} onChange={(e) => setTeacherId(e.target.value)}>
          <option value="">{t('leave.choose')}</option>
          {groups.map((g) => (
            <optgroup key={g.key} label={g.label}>
              {g.teachers.map((x) => (
                <option key={x.id} value={x.id}>
                  {label(x)}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      <div className="form-row">
        <label>
          {t('leave.from')}
          <input
            data-testid="leave-from"
            type="date"
            value={from}
            min={info.term.startDate}
            max={info.term.endDate}
            onChange={(e) => setFrom(e.target.value)}
          />
        </label>
        <label>
          {t('leave.to')}
          <input
            data-testid="leave-to"
            type="date"
            value={to}
            min={info.term.startDate}
            max={info.term.endDate}
            onChange={(e) => setTo(e.target.value)}
          />
        </label>
      </div>
      <p className="hint">{t('leave.days', { count: dates.length })}</p>
      {problem && (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      )}
      <button className="btn btn-primary" type="submit" disabled={busy} data-testid="leave-submit">
        {busy ? t('leave.submitting') : t('leave.submit')}
      </button>
      {outcome?.kind === 'moved' && <MovedList diff={outcome.diff} teacherNames={names} />}
      {outcome?.kind === 'failed' &&
        (outcome.error.diagnosis.length > 0 ? (
          <DiagnosisList diagnosis={outcome.error.diagnosis} teacherNames={names} />
        ) : (
          <ErrorNote error={outcome.error} />
        ))}
    </form>
  );
}
