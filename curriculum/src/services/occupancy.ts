import {
  stageOf,
  type GradeId,
  type HardConstraint,
  type Plan,
  type PlanLesson,
  type ScheduleEntry,
} from '@sky/contracts';
import { chainKey, clockOf, dayNumber, minutesOf, schoolDays } from './calendar.js';

/** A placed lesson: school-day index and slot index. */
export interface Placement {
  day: number;
  slot: number;
}

interface Span {
  start: number;
  end: number;
  lessonId: string;
}

/**
 * The scheduler's working state: which channel, teacher, grade-day and subject-day is taken. One instance
 * answers "may this lesson go in this slot?" for both the full build and minimal-change repairs.
 */
export class Occupancy {
  readonly days: string[];
  readonly lessons: Map<string, PlanLesson>;
  readonly placements = new Map<string, Placement>();
  private readonly dayIndex: Map<string, number>;
  private readonly gradeChannels = new Map<GradeId, string[]>();
  private readonly unavailable = new Map<string, Set<number>>();
  private readonly readyDay = new Map<string, number>();
  private readonly channelBusy = new Map<string, Span[]>();
  private readonly teacherBusy = new Map<string, Span[]>();
  private readonly gradeDay = new Map<string, number>();
  private readonly subjectDay = new Map<string, number>();

  constructor(readonly plan: Plan) {
    this.days = schoolDays(plan.term);
    this.dayIndex = new Map(this.days.map((d, i) => [d, i]));
    this.lessons = new Map(plan.lessons.map((l) => [l.id, l]));
    for (const c of [...plan.channels].sort((a, b) => a.number - b.number)) {
      for (const g of c.grades) this.gradeChannels.set(g, [...(this.gradeChannels.get(g) ?? []), c.id]);
    }
    for (const t of plan.teachers) {
      this.unavailable.set(t.id, new Set(t.unavailable.map((d) => this.dayIndex.get(d) ?? -1)));
    }
    for (const l of plan.lessons) {
      if (l.recording === 'planned' && l.readyOn !== undefined) {
        const first = this.days.findIndex((d) => d >= l.readyOn!);
        this.readyDay.set(l.id, first === -1 ? Infinity : first);
      }
    }
  }

  dayOf(date: string): number | undefined {
    return this.dayIndex.get(date);
  }

  channelsOf(grade: GradeId): string[] {
    return this.gradeChannels.get(grade) ?? [];
  }

  slotsOf(grade: GradeId): string[] {
    return this.plan.term.stages[stageOf(grade)].slots;
  }

  maxDaily(grade: GradeId): number {
    return this.plan.term.stages[stageOf(grade)].maxDaily;
  }

  /** First school-day index the lesson may air on (recording ready). */
  readyFrom(l: PlanLesson): number {
    return this.readyDay.get(l.id) ?? 0;
  }

  isUnavailable(teacherId: string, day: number): boolean {
    return this.unavailable.get(teacherId)?.has(day) ?? false;
  }

  gradeLoad(grade: GradeId, day: number): number {
    return this.gradeDay.get(`${grade}|${day}`) ?? 0;
  }

  subjectLoad(l: PlanLesson, day: number): number {
    return this.subjectDay.get(`${chainKey(l)}|${day}`) ?? 0;
  }

  /** Minutes since the term's first day at 00:00, to order lessons in time. */
  instant(l: PlanLesson, p: Placement): number {
    return p.day * 1440 + minutesOf(this.slotsOf(l.grade)[p.slot]!);
  }

  /** Why the lesson may not go there, or undefined when it may. Order within its subject is the caller's. */
  blocker(l: PlanLesson, day: number, slot: number): HardConstraint | undefined {
    const clock = this.slotsOf(l.grade)[slot];
    if (clock === undefined || day < 0 || day >= this.days.length) return 'calendar';
    if (day < this.readyFrom(l)) return 'recording';
    if (this.isUnavailable(l.teacherId, day)) return 'unavailable';
    if (this.gradeLoad(l.grade, day) >= this.maxDaily(l.grade)) return 'dailyLoad';
    if (this.subjectLoad(l, day) >= this.plan.term.maxPerSubjectPerDay) return 'subjectPerDay';
    const start = minutesOf(clock);
    const end = start + l.durationMin;
    const channels = this.channelsOf(l.grade);
    if (channels.length === 0) return 'channel';
    for (const c of channels) if (clash(this.channelBusy.get(`${c}|${day}`), start, end)) return 'channel';
    if (clash(this.teacherBusy.get(`${l.teacherId}|${day}`), start, end)) return 'teacher';
    return undefined;
  }

  place(l: PlanLesson, day: number, slot: number): void {
    const start = minutesOf(this.slotsOf(l.grade)[slot]!);
    const span = { start, end: start + l.durationMin, lessonId: l.id };
    for (const c of this.channelsOf(l.grade)) push(this.channelBusy, `${c}|${day}`, span);
    push(this.teacherBusy, `${l.teacherId}|${day}`, span);
    bump(this.gradeDay, `${l.grade}|${day}`, 1);
    bump(this.subjectDay, `${chainKey(l)}|${day}`, 1);
    this.placements.set(l.id, { day, slot });
  }

  remove(l: PlanLesson): void {
    const p = this.placements.get(l.id);
    if (!p) return;
    for (const c of this.channelsOf(l.grade)) pull(this.channelBusy, `${c}|${p.day}`, l.id);
    pull(this.teacherBusy, `${l.teacherId}|${p.day}`, l.id);
    bump(this.gradeDay, `${l.grade}|${p.day}`, -1);
    bump(this.subjectDay, `${chainKey(l)}|${p.day}`, -1);
    this.placements.delete(l.id);
  }

  /** Lessons whose spans meet [start, end) on the given channel or teacher and day. */
  occupants(key: string, day: number, start: number, end: number, kind: 'channel' | 'teacher'): string[] {
    const spans = (kind === 'channel' ? this.channelBusy : this.teacherBusy).get(`${key}|${day}`) ?? [];
    return spans.filter((s) => s.start < end && start < s.end).map((s) => s.lessonId);
  }

  entry(l: PlanLesson, p: Placement): ScheduleEntry {
    const start = this.slotsOf(l.grade)[p.slot]!;
    return {
      lessonId: l.id,
      title: l.title,
      grade: l.grade,
      subject: l.subject,
      unit: l.unit,
      order: l.order,
      teacherId: l.teacherId,
      date: this.days[p.day]!,
      slot: p.slot,
      start,
      end: clockOf(minutesOf(start) + l.durationMin),
      channels: this.channelsOf(l.grade),
      recording: l.recording,
      ...(l.vodLessonId === undefined ? {} : { vodLessonId: l.vodLessonId }),
    };
  }

  /** Entries sorted by date, start, channel number: the published timetable. */
  entries(): ScheduleEntry[] {
    const out: ScheduleEntry[] = [];
    for (const [id, p] of this.placements) out.push(this.entry(this.lessons.get(id)!, p));
    return out.sort(
      (a, b) =>
        dayNumber(a.date) - dayNumber(b.date) ||
        minutesOf(a.start) - minutesOf(b.start) ||
        (a.channels[0] ?? '').localeCompare(b.channels[0] ?? '') ||
        a.lessonId.localeCompare(b.lessonId),
    );
  }
}

function clash(spans: Span[] | undefined, start: number, end: number): boolean {
  return spans?.some((s) => s.start < end && start < s.end) ?? false;
}

function push(m: Map<string, Span[]>, key: string, span: Span): void {
  const list = m.get(key);
  if (list) list.push(span);
  else m.set(key, [span]);
}

function pull(m: Map<string, Span[]>, key: string, lessonId: string): void {
  const list = m.get(key);
  if (list)
    m.set(
      key,
      list.filter((s) => s.lessonId !== lessonId),
    );
}

function bump(m: Map<string, number>, key: string, by: number): void {
  m.set(key, (m.get(key) ?? 0) + by);
}
