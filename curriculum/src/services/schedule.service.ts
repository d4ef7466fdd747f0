import {
  AppError,
  GRADE_IDS,
  type Channel,
  type Plan,
  type ScheduleChanged,
  type ScheduleDiff,
  type ScheduleEntry,
  type ScheduleSummary,
  type Violation,
} from '@sky/contracts';
import type { PlanRepository, StoredPlan } from '../adapters/plan.repository.js';
import type { EntryFilter, ScheduleRepository } from '../adapters/schedule.repository.js';
import { schoolDays } from './calendar.js';
import { assemblePlan, lessonsToCsv, parsePlanJson, teachersToCsv } from './plan-io.js';
import { reschedule, type ScheduleChange } from './reschedule.js';
import { schedulePlan } from './scheduler.js';

export interface SchedulePublisher {
  publish(event: ScheduleChanged): Promise<void>;
}

/**
 * The plan and its schedule: imports, builds, minimal-change repairs, and the published timetable.
 * Changes run one at a time in this process; the repositories' version checks catch a second instance.
 */
export class ScheduleService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly plans: PlanRepository,
    private readonly schedules: ScheduleRepository,
    private readonly publisher: SchedulePublisher,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async plan(): Promise<StoredPlan> {
    const stored = await this.plans.current();
    if (!stored) throw new AppError('NOT_FOUND', 'no plan has been imported yet');
    return stored;
  }

  async exportCsv(part: 'lessons' | 'teachers'): Promise<string> {
    const { plan } = await this.plan();
    return part === 'lessons' ? lessonsToCsv(plan.lessons) : teachersToCsv(plan.teachers);
  }

  /** A whole plan as JSON text: every bad item reported, nothing saved unless all are good. */
  importJson(text: string, by: string) {
    return this.serial(async () => {
      const { plan, errors } = parsePlanJson(text);
      if (!plan)
        throw new AppError('PLAN_INVALID', `${errors.length} problem(s) in the plan; nothing was imported`, {
          rows: errors,
        });
      return this.savePlan(plan, by);
    });
  }

  /** Lessons or teachers as CSV, into the current plan: every bad row reported, nothing saved unless all are good. */
  importCsv(part: 'lessons' | 'teachers', text: string, by: string) {
    return this.serial(async () => {
      const { plan: base } = await this.plan();
      const { plan, errors } = assemblePlan(
        base,
        part === 'lessons' ? { lessonsCsv: text } : { teachersCsv: text },
      );
      if (!plan)
        throw new AppError(
          'PLAN_INVALID',
          `${errors.length} problem(s) in ${part}.csv; nothing was imported`,
          { rows: errors },
        );
      return this.savePlan(plan, by);
    });
  }

  /** Saves a plan the caller built (the demo seed, tests). */
  replacePlan(plan: Plan, by: string) {
    return this.serial(() => this.savePlan(plan, by));
  }

  private async savePlan(plan: Plan, by: string) {
    const version = (await this.plans.current())?.version ?? 0;
    if (!(await this.plans.save(plan, version, by)))
      throw new AppError('CONFLICT', 'the plan changed meanwhile; try again');
    return {
      version: version + 1,
      lessons: plan.lessons.length,
      teachers: plan.teachers.length,
      schoolDays: schoolDays(plan.term).length,
    };
  }

  /** Schedules the whole plan from scratch. */
  build(by: string): Promise<ScheduleSummary> {
    return this.serial(async () => {
      const stored = await this.plan();
      const t0 = performance.now();
      const out = schedulePlan(stored.plan);
      const ms = Math.round((performance.now() - t0) * 10) / 10;
      if (!out.ok) throw infeasible(out.diagnosis);
      const current = await this.schedules.current();
      const builtAt = new Date();
      const version = await this.schedules.replace(
        current?.version ?? 0,
        out.entries,
        {
          planVersion: stored.version,
          days: schoolDays(stored.plan.term).length,
          builtAt,
          ms,
          score: out.score,
        },
        { reason: 'build', moved: [], by },
      );
      if (version === undefined) throw new AppError('CONFLICT', 'the schedule changed meanwhile; try again');
      await this.publisher.publish({
        version,
        reason: 'build',
        lessonIds: [],
        dates: [],
        grades: [...new Set(out.entries.map((e) => e.grade))],
      });
      return {
        version,
        lessons: out.entries.length,
        days: schoolDays(stored.plan.term).length,
        builtAt: builtAt.toISOString(),
        ms,
        score: out.score,
      };
    });
  }

  /** A teacher cannot teach on these dates: only their lessons (and what those displace) move. */
  markUnavailable(teacherId: string, dates: string[], by: string): Promise<ScheduleDiff> {
    return this.serial(async () => {
      const stored = await this.plan();
      const teacher = stored.plan.teachers.find((t) => t.id === teacherId);
      if (!teacher) throw new AppError('NOT_FOUND', `no teacher ${teacherId} in the plan`);
      const plan: Plan = {
        ...stored.plan,
        teachers: stored.plan.teachers.map((t) =>
          t.id === teacherId ? { ...t, unavailable: [...new Set([...t.unavailable, ...dates])].sort() } : t,
        ),
      };
      const diff = await this.applyChange(
        plan,
        { kind: 'unavailability', teacherId, dates },
        by,
        stored.version,
      );
      return diff;
    });
  }

  /** An admin moves one lesson; what it displaces moves to the nearest free slots. */
  move(lessonId: string, date: string, slot: number, by: string): Promise<ScheduleDiff> {
    return this.serial(async () => {
      const stored = await this.plan();
      return this.applyChange(stored.plan, { kind: 'move', lessonId, date, slot }, by);
    });
  }

  /** Repairs the current schedule for the change; saves the plan too when it changed (`planVersion`). */
  private async applyChange(
    plan: Plan,
    change: ScheduleChange,
    by: string,
    planVersion?: number,
  ): Promise<ScheduleDiff> {
    const meta = await this.schedules.current();
    if (!meta) throw new AppError('NOT_FOUND', 'there is no schedule yet; build one first');
    const current = await this.schedules.find(meta.build, {});
    const out = reschedule(plan, current, change);
    if (!out.ok) throw infeasible(out.diagnosis);
    if (planVersion !== undefined && !(await this.plans.save(plan, planVersion, by))) {
      throw new AppError('CONFLICT', 'the plan changed meanwhile; try again');
    }
    const reason = change.kind === 'move' ? 'move' : 'unavailability';
    const version = await this.schedules.replace(
      meta.version,
      out.entries,
      {
        planVersion: planVersion === undefined ? meta.planVersion : planVersion + 1,
        days: schoolDays(plan.term).length,
        builtAt: meta.builtAt,
        ms: meta.ms,
        score: meta.score,
      },
      { reason, moved: out.moved, by },
    );
    if (version === undefined) throw new AppError('CONFLICT', 'the schedule changed meanwhile; try again');
    const touched = out.moved
      .flatMap((m) => [m.from?.date, m.to?.date])
      .filter((d): d is string => d !== undefined);
    await this.publisher.publish({
      version,
      reason,
      lessonIds: out.moved.map((m) => m.lessonId),
      dates: [...new Set(touched)].sort(),
      grades: GRADE_IDS.filter((g) => out.moved.some((m) => m.grade === g)),
    });
    return { version, reason, moved: out.moved };
  }

  async summary(): Promise<ScheduleSummary | undefined> {
    const meta = await this.schedules.current();
    if (!meta) return undefined;
    return {
      version: meta.version,
      lessons: meta.lessons,
      days: meta.days,
      builtAt: meta.builtAt.toISOString(),
      ms: meta.ms,
      score: meta.score,
    };
  }

  async entries(q: EntryFilter): Promise<ScheduleEntry[]> {
    if (q.from && q.to && q.from > q.to)
      throw new AppError('VALIDATION_FAILED', '`from` is after `to`', {
        errors: [{ path: 'querystring.from', message: 'must not be after to' }],
      });
    const meta = await this.schedules.current();
    if (!meta) return [];
    return this.schedules.find(meta.build, q);
  }

  async channels(): Promise<Channel[]> {
    const stored = await this.plans.current();
    return stored ? [...stored.plan.channels].sort((a, b) => a.number - b.number) : [];
  }

  async programme(
    channelId: string,
    from?: string,
    to?: string,
  ): Promise<{ channel: Channel; entries: ScheduleEntry[] }> {
    const channel = (await this.channels()).find((c) => c.id === channelId);
    if (!channel) throw new AppError('NOT_FOUND', `no channel ${channelId}`);
    return { channel, entries: await this.entries({ channelId, from, to }) };
  }

  history(limit = 50) {
    return this.schedules.history(limit);
  }
}

function infeasible(diagnosis: Violation[]): AppError {
  const first = diagnosis[0];
  return new AppError(
    'SCHEDULE_INFEASIBLE',
    `${diagnosis.length} constraint(s) cannot be met${first ? `; first: ${first.constraint} — ${first.message}` : ''}`,
    { diagnosis },
  );
}
