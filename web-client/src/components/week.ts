import { stageOf, type GradeId, type TermCalendar } from '@sky/contracts';

/*
 * Calendar arithmetic on ISO dates (YYYY-MM-DD) without time zones: the timetable's dates and times are
 * Beijing time wherever the browser is, as the curriculum service keeps them.
 */

const DAY_MS = 86_400_000;

export function dayNumber(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

export function dateOf(dayNo: number): string {
  return new Date(dayNo * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return dateOf(dayNumber(date) + days);
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

/** Monday of the week containing `date`. */
export function weekStart(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}

export function isSchoolDay(term: TermCalendar, date: string): boolean {
  if (date < term.startDate || date > term.endDate) return false;
  if (term.extraSchoolDays.includes(date)) return true;
  return term.weekdays.includes(isoWeekday(date)) && !term.holidays.includes(date);
}

/** The term's school days from `from` to `to`, both included. */
export function schoolDaysBetween(term: TermCalendar, from: string, to: string): string[] {
  const out: string[] = [];
  for (let n = dayNumber(from), last = dayNumber(to); n <= last; n++) {
    const date = dateOf(n);
    if (isSchoolDay(term, date)) out.push(date);
  }
  return out;
}

/** The school days of the week starting on `monday` (5 in a normal week, fewer or more around holidays). */
export function weekDays(term: TermCalendar, monday: string): string[] {
  return schoolDaysBetween(term, monday, addDays(monday, 6));
}

/** The week to show first: the one containing today while the term runs, otherwise its first week. */
export function defaultWeek(term: TermCalendar, today: string): string {
  return today >= term.startDate && today <= term.endDate ? weekStart(today) : weekStart(term.startDate);
}

export function firstWeek(term: TermCalendar): string {
  return weekStart(term.startDate);
}

export function lastWeek(term: TermCalendar): string {
  return weekStart(term.endDate);
}

/** 1-based week of the term. */
export function termWeek(term: TermCalendar, monday: string): number {
  return (dayNumber(monday) - dayNumber(firstWeek(term))) / 7 + 1;
}

export function stageRules(term: TermCalendar, grade: GradeId): TermCalendar['stages']['primary'] {
  return term.stages[stageOf(grade)];
}

/** `08:30` → `08:50`: 20; past midnight, `23:50` → `00:20`: 30. */
export function minutesBetween(from: string, to: string): number {
  const m = (c: string) => Number(c.slice(0, 2)) * 60 + Number(c.slice(3, 5));
  return (((m(to) - m(from)) % 1440) + 1440) % 1440;
}

/** `08:30` + 20 → `08:50`. */
export function addMinutes(clock: string, minutes: number): string {
  const total = Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5)) + minutes;
  const m = ((total % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** 11月24日周二 / Tue, Nov 24: a school date in the reader's language. */
export function formatDay(date: string, lang: string, weekday = true): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(lang, {
    month: 'short',
    day: 'numeric',
    ...(weekday ? { weekday: 'short' } : {}),
    timeZone: 'UTC',
  });
}

export function formatWeekday(date: string, lang: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(lang, { weekday: 'short', timeZone: 'UTC' });
}

/** Items of a short list: 语文、数学 / Chinese, Mathematics. */
export function joinList(items: readonly string[], lang: string): string {
  return items.join(lang.startsWith('zh') ? '、' : ', ');
}
