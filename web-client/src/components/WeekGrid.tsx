import {
  stageOf,
  type GradeId,
  type PlanSubject,
  type RecordingStatus,
  type ScheduleEntry,
} from '@sky/contracts';
import { useLayoutEffect, useRef, type CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { slotHref } from './today';
import { addMinutes, formatDay, formatWeekday } from './week';

/** Colours of the subject palette (styles.css `.subj-0` …), more than any stage has subjects. */
const PALETTE_SIZE = 14;

/**
 * A subject's colour class: its place among the subjects of the grade's stage, so that the subjects of
 * one timetable never share a colour and the core subjects (listed first) look alike in every grade.
 */
export function subjectColour(subjects: readonly PlanSubject[], code: string, grade: GradeId): string {
  const stage = stageOf(grade);
  const i = subjects.filter((s) => s.stages.includes(stage)).findIndex((s) => s.code === code);
  return `subj-${i < 0 ? PALETTE_SIZE - 1 : i % PALETTE_SIZE}`;
}

/** A subject's name in the reader's language (Chinese unless the page is in English). */
export function subjectName(subjects: readonly PlanSubject[], code: string, lang: string): string {
  const s = subjects.find((x) => x.code === code);
  if (!s) return code;
  return lang.startsWith('zh') ? s.zh : s.en;
}

export function RecordingBadge({ recording }: { recording: RecordingStatus }) {
  const { t } = useTranslation();
  if (recording === 'ready') return null;
  return (
    <span className={`badge rec-${recording}`} data-testid={`badge-${recording}`}>
      {t(`timetable.recording.${recording}`)}
    </span>
  );
}

interface WeekGridProps {
  days: readonly string[];
  /** The stage's slot start times: one row each. */
  slots: readonly string[];
  lessonMinutes: number;
  entries: readonly ScheduleEntry[];
  subjects: readonly PlanSubject[];
  teacherNames: ReadonlyMap<string, string>;
  today: string;
  /**
   * When given, a lesson is a button that opens it (the admin's desk); otherwise a lesson links where it
   * can be watched — its recording, or its live lesson — and is plain text when there is nothing yet.
   */
  onSelect?: ((entry: ScheduleEntry) => void) | undefined;
}

/** A grade's week: school days across, the stage's slots down, each lesson coloured by its subject. */
export function WeekGrid({
  days,
  slots,
  lessonMinutes,
  entries,
  subjects,
  teacherNames,
  today,
  onSelect,
}: WeekGridProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const at = new Map<string, ScheduleEntry[]>();
  for (const e of entries) {
    const key = `${e.date}|${e.slot}`;
    at.set(key, [...(at.get(key) ?? []), e]);
  }
  const style = { '--days': days.length } as CSSProperties;
  // A phone shows a day or two of the week: it opens on today's column (just right of the periods),
  // once per week shown, so a reload of the lessons never takes the reader's own scrolling away.
  const scroller = useRef<HTMLDivElement>(null);
  const opened = days.includes(today) ? `${days[0]}|${today}` : null;
  useLayoutEffect(() => {
    const box = scroller.current;
    const column = box?.querySelector<HTMLElement>('[data-today="true"]');
    const periods = box?.querySelector<HTMLElement>('.week-corner');
    if (!opened || !box || !column || !periods) return;
    const left = column.getBoundingClientRect().left - box.getBoundingClientRect().left;
    box.scrollLeft += left - box.clientLeft - periods.getBoundingClientRect().width;
  }, [opened]);
  return (
    <div className="week-scroll" ref={scroller}>
      <div className="week-grid" role="table" aria-label={t('timetable.grid')} style={style}>
        <div role="row" className="week-row">
          <div role="columnheader" className="week-corner">
            {t('timetable.slot')}
          </div>
          {days.map((d) => (
            <div
              key={d}
              role="columnheader"
              className={`week-day${d === today ? ' is-today' : ''}`}
              data-date={d}
              {...(d === today ? { 'data-today': 'true', 'aria-current': 'date' as const } : {})}
            >
              <span className="week-dayname">{formatWeekday(d, lang)}</span>
              <span className="week-date">{formatDay(d, lang, false)}</span>
              {d === today && <span className="today-tag">{t('timetable.today')}</span>}
            </div>
          ))}
        </div>
        {slots.map((start, slot) => (
          <div role="row" className="week-row" key={start}>
            <div role="rowheader" className="week-time">
              <span className="week-period">{t('timetable.period', { n: slot + 1 })}</span>
              <span className="week-clock">
                {start}–{addMinutes(start, lessonMinutes)}
              </span>
            </div>
            {days.map((d) => (
              <div role="cell" key={d} className={`week-cell${d === today ? ' is-today' : ''}`}>
                {(at.get(`${d}|${slot}`) ?? []).map((e) => (
                  <LessonSlot
                    key={e.lessonId}
                    entry={e}
                    subjects={subjects}
                    teacher={teacherNames.get(e.teacherId) ?? e.teacherId}
                    lang={lang}
                    onSelect={onSelect}
                  />
                ))}
              </div>
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}

function LessonSlot({
  entry,
  subjects,
  teacher,
  lang,
  onSelect,
}: {
  entry: ScheduleEntry;
  subjects: readonly PlanSubject[];
  teacher: string;
  lang: string;
  onSelect: ((entry: ScheduleEntry) => void) | undefined;
}) {
  const body = (
    <>
      <span className="slot-head">
        <span className="slot-subject">{subjectName(subjects, entry.subject, lang)}</span>
        <RecordingBadge recording={entry.recording} />
      </span>
      <span className="slot-title">{entry.title}</span>
      <span className="slot-meta">
        {teacher} · {entry.unit}
      </span>
    </>
  );
  const common = {
    className: `slot ${subjectColour(subjects, entry.subject, entry.grade)}`,
    'data-testid': 'slot-cell',
    'data-lesson': entry.lessonId,
    'data-teacher': entry.teacherId,
    'data-date': entry.date,
    'data-slot': entry.slot,
    'data-subject': entry.subject,
    title: `${entry.title} · ${teacher} · ${entry.start}–${entry.end}`,
  };
  if (onSelect)
    return (
      <button type="button" {...common} onClick={() => onSelect(entry)}>
        {body}
      </button>
    );
  const href = slotHref(entry);
  return href ? (
    <Link to={href} {...common} className={`${common.className} slot-link`}>
      {body}
    </Link>
  ) : (
    <div {...common}>{body}</div>
  );
}
