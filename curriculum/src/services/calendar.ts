import { stageOf, type GradeId, type PlanLesson, type TermCalendar } from '@sky/contracts';

/** Whole days since 1970-01-01 for an ISO date: calendar arithmetic without time zones. */
export function dayNumber(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}

export function dateOf(dayNo: number): string {
  return new Date(dayNo * 86_400_000).toISOString().slice(0, 10);
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

/** Monday of the ISO week containing `date`. */
export function weekStart(date: string): string {
  return dateOf(dayNumber(date) - isoWeekday(date) + 1);
}

/** The term's school days in order: chosen weekdays minus holidays, plus make-up days. */
export function schoolDays(term: TermCalendar): string[] {
  const holidays = new Set(term.holidays);
  const extra = new Set(term.extraSchoolDays);
  const weekdays = new Set(term.weekdays);
  const out: string[] = [];
  const last = dayNumber(term.endDate);
  for (let n = dayNumber(term.startDate); n <= last; n++) {
    const date = dateOf(n);
    if (extra.has(date) || (weekdays.has(isoWeekday(date)) && !holidays.has(date))) out.push(date);
  }
  return out;
}

export function minutesOf(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}

export function clockOf(minutes: number): string {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export function slotsOf(term: TermCalendar, grade: GradeId): string[] {
  return term.stages[stageOf(grade)].slots;
}

/** Morning = starts before noon; core subjects go there when they can. */
export const NOON = 12 * 60;

/** A (grade, subject) sequence: its lessons must air in this order. */
export function chainKey(l: Pick<PlanLesson, 'grade' | 'subject'>): string {
  return `${l.grade}|${l.subject}`;
}

/** Lessons grouped per chain, each chain sorted by `order`; chains in a stable order. */
export function chainsOf(lessons: readonly PlanLesson[]): Map<string, PlanLesson[]> {
  const chains = new Map<string, PlanLesson[]>();
  for (const l of lessons) {
    const key = chainKey(l);
    const chain = chains.get(key);
    if (chain) chain.push(l);
    else chains.set(key, [l]);
  }
  for (const chain of chains.values()) chain.sort((a, b) => a.order - b.order || cmp(a.id, b.id));
  return new Map([...chains].sort(([a], [b]) => cmp(a, b)));
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
