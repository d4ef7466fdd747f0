import { z } from 'zod';
import { GradeId, Stage } from './grades.js';

/**
 * The term plan (what the bureau's experts decide) and the schedule made from it (what airs when, where).
 * Times are Beijing time (UTC+08:00, no daylight saving): a slot's instant is `${date}T${start}:00+08:00`.
 */
export const BEIJING_OFFSET = '+08:00';

/** Today's date in Beijing (YYYY-MM-DD), wherever the code runs. */
export function beijingToday(now = Date.now()): string {
  const hours = Number(BEIJING_OFFSET.slice(0, 3));
  return new Date(now + hours * 3_600_000).toISOString().slice(0, 10);
}

/** The instant a slot starts (or ends) on a school date, as ISO 8601 with the Beijing offset. */
export function slotInstant(date: string, clock: string): string {
  return `${date}T${clock}:00${BEIJING_OFFSET}`;
}

/**
 * When a slot airs, in epoch ms: from its start on its date until its end, which falls on the next day when
 * its clock is not after the start's (a slot that runs past midnight, 23:50–00:20). Beijing keeps no DST.
 */
export function slotSpan(slot: { date: string; start: string; end: string }): { start: number; end: number } {
  const start = Date.parse(slotInstant(slot.date, slot.start));
  const end = Date.parse(slotInstant(slot.date, slot.end));
  return { start, end: end > start ? end : end + 86_400_000 };
}

export const IsoDate = z.iso.date();
export type IsoDate = z.infer<typeof IsoDate>;
export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
/** Plan-level identifiers: readable, stable across imports, safe in URLs and CSV. */
export const PlanId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][\w.-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64');

export const StageRules = z.strictObject({
  /** Start times of the daily slots, ascending. */
  slots: z.array(ClockTime).min(1).max(12),
  /** Hard cap: lessons per grade per day. */
  maxDaily: z.number().int().min(1).max(12),
  /** Default lesson length, e.g. 20 min primary, 30 min secondary. */
  lessonMinutes: z.number().int().min(5).max(120),
});
export type StageRules = z.infer<typeof StageRules>;

export const TermCalendar = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
    startDate: IsoDate,
    endDate: IsoDate,
    /** ISO weekdays with school (1 = Monday). */
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).default([1, 2, 3, 4, 5]),
    holidays: z.array(IsoDate).default([]),
    /** Make-up school days on a weekend (调休). */
    extraSchoolDays: z.array(IsoDate).default([]),
    stages: z.strictObject({ primary: StageRules, junior: StageRules, senior: StageRules }),
    /** Hard cap: lessons of one subject per grade per day. */
    maxPerSubjectPerDay: z.number().int().min(1).max(12).default(2),
  })
  .refine((t) => t.startDate <= t.endDate, { path: ['endDate'], message: 'must not be before startDate' });
export type TermCalendar = z.infer<typeof TermCalendar>;

export const PlanSubject = z.strictObject({
  code: PlanId,
  zh: z.string().trim().min(1).max(40),
  en: z.string().trim().min(1).max(60),
  stages: z.array(Stage).min(1),
  /** Lessons per grade per week the plan aims for; the scheduler spreads them over the week. */
  weeklyQuota: z.number().int().min(0).max(20),
  /** Core subjects (语文, 数学, 英语…) go in the morning when they can. */
  core: z.boolean().default(false),
});
export type PlanSubject = z.infer<typeof PlanSubject>;

export const Teacher = z.strictObject({
  id: PlanId,
  name: z.string().trim().min(1).max(40),
  subjects: z.array(PlanId).default([]),
  grades: z.array(GradeId).default([]),
  /** Dates the teacher cannot teach or answer live (illness, training). */
  unavailable: z.array(IsoDate).default([]),
});
export type Teacher = z.infer<typeof Teacher>;

export const CHANNEL_KINDS = ['web', 'tv'] as const;
export const ChannelKind = z.enum(CHANNEL_KINDS);
export const Channel = z.strictObject({
  id: PlanId,
  kind: ChannelKind,
  /** Channel number on the set-top box (tvg-chno) or position in the web list. */
  number: z.number().int().min(1).max(9999),
  zh: z.string().trim().min(1).max(40),
  en: z.string().trim().min(1).max(60),
  /** Grades carried; two grades may share a TV channel, then their lessons may not overlap on it. */
  grades: z.array(GradeId).min(1),
});
export type Channel = z.infer<typeof Channel>;

/** planned: not recorded yet, airs from `readyOn`; ready: recorded and transcoded; live: taught live in its slot. */
export const RECORDING_STATUSES = ['planned', 'ready', 'live'] as const;
export const RecordingStatus = z.enum(RECORDING_STATUSES);
export type RecordingStatus = z.infer<typeof RecordingStatus>;

export const PlanLesson = z
  .strictObject({
    id: PlanId,
    title: z.string().trim().min(1).max(120),
    grade: GradeId,
    subject: PlanId,
    unit: z.string().trim().min(1).max(80),
    /** 1-based position within the grade's subject: lessons air in this order. */
    order: z.number().int().min(1).max(10000),
    durationMin: z.number().int().min(5).max(120),
    teacherId: PlanId,
    recording: RecordingStatus,
    /** The first date a planned lesson's recording will be ready to air. */
    readyOn: IsoDate.optional(),
    /** The on-demand lesson (api) holding its video, once there is one. */
    vodLessonId: z.string().max(64).optional(),
  })
  .refine((l) => l.recording !== 'planned' || l.readyOn !== undefined, {
    path: ['readyOn'],
    message: 'a planned recording needs the date it will be ready',
  });
export type PlanLesson = z.infer<typeof PlanLesson>;

export const Plan = z.strictObject({
  term: TermCalendar,
  subjects: z.array(PlanSubject).min(1).max(200),
  teachers: z.array(Teacher).min(1).max(5000),
  channels: z.array(Channel).min(1).max(200),
  lessons: z.array(PlanLesson).min(1).max(20000),
});
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;

/** One row or field of an imported plan that cannot be used: every bad row is reported, none is imported. */
export const RowError = z.object({
  /** The file part: lessons, teachers, subjects, channels, term. */
  section: z.string(),
  /** 1-based line in a CSV file (header = line 1), or 1-based item index in JSON. */
  line: z.number().int(),
  column: z.string(),
  reason: z.string(),
});
export type RowError = z.infer<typeof RowError>;

export const HARD_CONSTRAINTS = [
  'order',
  'channel',
  'teacher',
  'unavailable',
  'dailyLoad',
  'subjectPerDay',
  'recording',
  'calendar',
  'capacity',
  'reference',
] as const;
export const HardConstraint = z.enum(HARD_CONSTRAINTS);
export type HardConstraint = z.infer<typeof HardConstraint>;

/** A broken hard constraint in a schedule, or the reason a plan cannot be scheduled. */
export const Violation = z.object({
  constraint: HardConstraint,
  message: z.string(),
  grade: GradeId.optional(),
  subject: z.string().optional(),
  teacherId: z.string().optional(),
  channelId: z.string().optional(),
  date: IsoDate.optional(),
  lessonIds: z.array(z.string()).default([]),
});
export type Violation = z.infer<typeof Violation>;

/** Where and when one lesson airs. */
export const ScheduleEntry = z.object({
  lessonId: z.string(),
  title: z.string(),
  grade: GradeId,
  subject: z.string(),
  unit: z.string(),
  order: z.number().int(),
  teacherId: z.string(),
  date: IsoDate,
  /** 0-based index into the stage's slots. */
  slot: z.number().int().min(0),
  start: ClockTime,
  end: ClockTime,
  /** Every channel carrying the lesson (the grade's web and TV channels). */
  channels: z.array(z.string()),
  recording: RecordingStatus,
  vodLessonId: z.string().optional(),
});
export type ScheduleEntry = z.infer<typeof ScheduleEntry>;

/** Soft goals, each 0…1 (1 = ideal). */
export const ScheduleScore = z.object({
  /** Each subject's lessons spread over the week's days rather than bunched. */
  spread: z.number(),
  /** Share of core-subject lessons in morning slots, relative to the best possible. */
  coreMorning: z.number(),
  /** Daily load close to the grade's term average. */
  steadiness: z.number(),
  total: z.number(),
});
export type ScheduleScore = z.infer<typeof ScheduleScore>;

export const ScheduleSummary = z.object({
  version: z.number().int(),
  lessons: z.number().int(),
  days: z.number().int(),
  builtAt: z.string(),
  ms: z.number(),
  score: ScheduleScore,
});
export type ScheduleSummary = z.infer<typeof ScheduleSummary>;

export const MovedLesson = z.object({
  lessonId: z.string(),
  title: z.string(),
  grade: GradeId,
  teacherId: z.string(),
  from: z.object({ date: IsoDate, start: ClockTime }).nullable(),
  to: z.object({ date: IsoDate, start: ClockTime }).nullable(),
});
export type MovedLesson = z.infer<typeof MovedLesson>;

/** What a change to the plan did to the schedule: only these lessons moved. */
export const ScheduleDiff = z.object({
  version: z.number().int(),
  reason: z.enum(['build', 'unavailability', 'move']),
  moved: z.array(MovedLesson),
});
export type ScheduleDiff = z.infer<typeof ScheduleDiff>;

/**
 * Published on Redis (channel `scheduleChangedChannel(prefix)`) after every change, for tv-gateway and
 * api. A `build` replaces everything (empty lessonIds and dates); a repair lists what moved.
 */
export const ScheduleChanged = z.object({
  version: z.number().int(),
  reason: ScheduleDiff.shape.reason,
  lessonIds: z.array(z.string()),
  dates: z.array(IsoDate),
  grades: z.array(GradeId),
});
export type ScheduleChanged = z.infer<typeof ScheduleChanged>;
/** The pub/sub channel of schedule changes; `prefix` separates deployments (and test runs) on one Redis. */
export function scheduleChangedChannel(prefix = 'sky'): string {
  return `${prefix}:curriculum:schedule-changed`;
}

/** The most api lessons one schedule query may name (a teacher's page asks for its newest 100). */
export const MAX_VOD_LESSON_IDS = 100;

export const ScheduleQuery = z.strictObject({
  grade: GradeId.optional(),
  teacherId: PlanId.optional(),
  /** Entries linked to these api lessons, comma-separated: a teacher's page finds its own lessons' slots. */
  vodLessonIds: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.string().trim().min(1).max(64)).min(1).max(MAX_VOD_LESSON_IDS))
    .optional(),
  recording: RecordingStatus.optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
});
export type ScheduleQuery = z.infer<typeof ScheduleQuery>;

export const ProgrammeQuery = z.strictObject({ from: IsoDate.optional(), to: IsoDate.optional() });

export const UnavailabilityBody = z.strictObject({ dates: z.array(IsoDate).min(1).max(366) });
export type UnavailabilityBody = z.infer<typeof UnavailabilityBody>;

export const MoveBody = z.strictObject({
  lessonId: PlanId,
  date: IsoDate,
  slot: z.number().int().min(0).max(11),
});
export type MoveBody = z.infer<typeof MoveBody>;
