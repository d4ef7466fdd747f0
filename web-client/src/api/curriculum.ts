import {
  Plan,
  ScheduleDiff,
  ScheduleEntry,
  ScheduleSummary,
  Teacher,
  type MoveBody,
  type UnavailabilityBody,
} from '@sky/contracts';
import { api } from './client';

/** The curriculum service, behind the api under the same origin. */
export const CURRICULUM = '/api/curriculum';

/*
 * Response shapes of curriculum routes that have no contract schema of their own yet, composed from the
 * contract schemas they are made of (the web client has no zod of its own).
 */

/** GET /term: the term calendar and the subjects. */
export const TermInfo = Plan.pick({ term: true, subjects: true });
export type TermInfo = Pick<Plan, 'term' | 'subjects'>;

/** GET /teachers: the plan's teachers, as the plan holds them. */
export const TeacherList = Teacher.array();
export const EntryList = ScheduleEntry.array();

/** GET /schedule/changes: each change's diff and when it was made (an ISO timestamp, like `builtAt`). */
export const ChangeList = ScheduleDiff.extend({ at: ScheduleSummary.shape.builtAt }).array();

/** PUT /plan, /plan/lessons.csv, /plan/teachers.csv: the plan version saved and what it holds. */
export const PlanImported = ScheduleSummary.pick({ version: true, lessons: true }).extend({
  teachers: ScheduleSummary.shape.lessons,
  schoolDays: ScheduleSummary.shape.days,
});
export type PlanImported = ReturnType<typeof PlanImported.parse>;

export type CsvPart = 'lessons' | 'teachers';
export type PlanFileKind = 'json' | CsvPart;

/**
 * Which part of the plan a CSV holds, from its header: only the lessons file has a teacher column
 * (`teacher_id` or 教师); the teachers file has a name column. Undefined: cannot tell.
 */
export function csvPartOf(text: string): CsvPart | undefined {
  const header = (text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '')
    .split(',')
    .map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  if (header.some((c) => c === 'teacher_id' || c === 'teacherid' || c === '教师')) return 'lessons';
  if (header.some((c) => c === 'name' || c === '姓名')) return 'teachers';
  return undefined;
}

/** Replaces the plan (JSON) or its lessons or teachers (CSV) with a file's text, as it is. */
export function importPlan(kind: PlanFileKind, content: string): Promise<PlanImported> {
  return kind === 'json'
    ? api(`${CURRICULUM}/plan`, PlanImported, {
        method: 'PUT',
        text: { content, type: 'application/json' },
      })
    : api(`${CURRICULUM}/plan/${kind}.csv`, PlanImported, {
        method: 'PUT',
        text: { content, type: 'text/csv; charset=utf-8' },
      });
}

export function buildSchedule(): Promise<ScheduleSummary> {
  return api(`${CURRICULUM}/schedule/build`, ScheduleSummary, { method: 'POST' });
}

export function markUnavailable(teacherId: string, body: UnavailabilityBody): Promise<ScheduleDiff> {
  return api(`${CURRICULUM}/teachers/${encodeURIComponent(teacherId)}/unavailability`, ScheduleDiff, {
    method: 'POST',
    body,
  });
}

export function moveLesson(body: MoveBody): Promise<ScheduleDiff> {
  return api(`${CURRICULUM}/schedule/moves`, ScheduleDiff, { method: 'POST', body });
}

/** Export links: plain downloads, the plan is public. */
export const EXPORTS = [
  { href: `${CURRICULUM}/plan`, file: 'plan.json' },
  { href: `${CURRICULUM}/plan/lessons.csv`, file: 'lessons.csv' },
  { href: `${CURRICULUM}/plan/teachers.csv`, file: 'teachers.csv' },
] as const;
