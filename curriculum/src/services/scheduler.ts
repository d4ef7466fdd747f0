import {
  GRADE_IDS,
  stageOf,
  type HardConstraint,
  type Plan,
  type PlanLesson,
  type ScheduleEntry,
  type ScheduleScore,
  type Violation,
} from '@sky/contracts';
import { chainsOf, minutesOf, NOON } from './calendar.js';
import { Occupancy } from './occupancy.js';
import { scoreSchedule } from './schedule-rules.js';

export type ScheduleOutcome =
  { ok: true; entries: ScheduleEntry[]; score: ScheduleScore } | { ok: false; diagnosis: Violation[] };

/**
 * Assigns every lesson of the plan a school day, a slot of its stage and its grade's channels.
 * Pure and deterministic: the same plan gives the same timetable. Works day by day, grade by grade
 * (the starting grade rotates daily so no grade always gets shared teachers first), filling each grade's
 * day up to a steady target and choosing, for each slot, the next lesson of the subject that is furthest
 * behind its even pace, with core subjects preferring the morning. A plan that cannot be scheduled gets a
 * diagnosis naming the constraint and the grade, subject, teacher or date — first from counting (capacity,
 * readiness, unavailability), then from what blocked the lessons the build could not place.
 */
export function schedulePlan(plan: Plan): ScheduleOutcome {
  const preflight = diagnosePlan(plan);
  if (preflight.length > 0) return { ok: false, diagnosis: preflight };

  const occ = new Occupancy(plan);
  const n = occ.days.length;
  const chains = chainsOf(plan.lessons);
  const core = new Set(plan.subjects.filter((s) => s.core).map((s) => s.code));
  const next = new Map<string, number>([...chains.keys()].map((k) => [k, 0]));
  const chainsOfGrade = new Map<string, string[]>();
  for (const key of chains.keys()) {
    const grade = key.split('|')[0]!;
    chainsOfGrade.set(grade, [...(chainsOfGrade.get(grade) ?? []), key]);
  }
  const grades = GRADE_IDS.filter((g) => chainsOfGrade.has(g));
  const remaining = new Map(grades.map((g) => [g, 0]));
  for (const l of plan.lessons) remaining.set(l.grade, remaining.get(l.grade)! + 1);

  for (let day = 0; day < n; day++) {
    for (let gi = 0; gi < grades.length; gi++) {
      const grade = grades[(gi + day) % grades.length]!;
      const keys = chainsOfGrade.get(grade)!;
      const slots = occ.slotsOf(grade);
      const target = Math.min(occ.maxDaily(grade), Math.ceil(remaining.get(grade)! / (n - day)));
      let placed = 0;
      for (let slot = 0; slot < slots.length && placed < target; slot++) {
        const morning = minutesOf(slots[slot]!) < NOON;
        let best: { key: string; lesson: PlanLesson; score: number } | undefined;
        for (const key of keys) {
          const chain = chains.get(key)!;
          const k = next.get(key)!;
          const lesson = chain[k];
          if (!lesson || occ.blocker(lesson, day, slot) !== undefined) continue;
          // Behind pace: how many lessons the subject should have aired by the end of today, minus aired.
          const behind = Math.ceil((chain.length * (day + 1)) / n) - k;
          const urgency = (chain.length - k) / ((n - day) * plan.term.maxPerSubjectPerDay);
          const firstToday = occ.subjectLoad(lesson, day) === 0 ? 3 : 0;
          const placeFit = core.has(lesson.subject) ? (morning ? 2 : 0) : morning ? 0 : 1;
          const score = behind * 4 + urgency * 12 + firstToday + placeFit;
          if (!best || score > best.score) best = { key, lesson, score };
        }
        if (!best) continue;
        occ.place(best.lesson, day, slot);
        next.set(best.key, next.get(best.key)! + 1);
        remaining.set(grade, remaining.get(grade)! - 1);
        placed++;
      }
    }
  }

  const stuck: Violation[] = [];
  for (const [key, chain] of chains) {
    const k = next.get(key)!;
    if (k < chain.length) stuck.push(diagnoseStuck(occ, chain, k));
  }
  if (stuck.length > 0) return { ok: false, diagnosis: stuck };
  const entries = occ.entries();
  return { ok: true, entries, score: scoreSchedule(plan, entries) };
}

/** Why the k-th lesson of a chain found no slot: the constraint that blocked most of its chances. */
export function diagnoseStuck(
  occ: Occupancy,
  chain: PlanLesson[],
  k: number,
  lastDay = occ.days.length - 1,
): Violation {
  const lesson = chain[k]!;
  const prev = k > 0 ? occ.placements.get(chain[k - 1]!.id) : undefined;
  const from = prev?.day ?? 0;
  const tally = new Map<HardConstraint, { count: number; date: string }>();
  for (let day = from; day <= lastDay; day++) {
    for (let slot = 0; slot < occ.slotsOf(lesson.grade).length; slot++) {
      if (prev && day === prev.day && slot <= prev.slot) continue;
      const why = occ.blocker(lesson, day, slot);
      if (!why) continue;
      const t = tally.get(why);
      if (t) t.count++;
      else tally.set(why, { count: 1, date: occ.days[day]! });
    }
  }
  const [constraint, at] = [...tally].sort((a, b) => b[1].count - a[1].count)[0] ?? [
    'capacity' as const,
    { count: 0, date: occ.days[Math.min(from, occ.days.length - 1)] ?? '' },
  ];
  const unplaced = chain.slice(k).map((l) => l.id);
  const what = `${unplaced.length} ${lesson.subject} lesson(s) of ${lesson.grade} from ${lesson.id}`;
  const why: Record<HardConstraint, string> = {
    order: 'the subject order cannot be kept',
    channel: `the grade's channels are taken (from ${at.date})`,
    teacher: `teacher ${lesson.teacherId} is teaching elsewhere at those times (from ${at.date})`,
    unavailable: `teacher ${lesson.teacherId} is unavailable (from ${at.date})`,
    dailyLoad: `the grade's daily limit of ${occ.maxDaily(lesson.grade)} is reached on every remaining day (from ${at.date})`,
    subjectPerDay: `the limit of ${occ.plan.term.maxPerSubjectPerDay} ${lesson.subject} lessons a day leaves too few days`,
    recording: `the recording is not ready in time (ready ${lesson.readyOn ?? '?'})`,
    calendar: 'the term has no school day left',
    capacity: 'the term has no slot left after the previous lesson',
    reference: 'the plan refers to something missing',
  };
  return {
    constraint,
    message: `${what} cannot be placed: ${why[constraint]}`,
    grade: lesson.grade,
    subject: lesson.subject,
    teacherId: lesson.teacherId,
    ...(at.date ? { date: at.date } : {}),
    lessonIds: unplaced.slice(0, 20),
  };
}

/**
 * Counting checks that prove a plan infeasible before any search: broken references, grades with no
 * channel, recordings ready after the term, more lessons than a grade's slots, a subject's days or a
 * teacher's available days can hold.
 */
export function diagnosePlan(plan: Plan): Violation[] {
  const out: Violation[] = [];
  const occ = new Occupancy(plan);
  const n = occ.days.length;
  const teachers = new Set(plan.teachers.map((t) => t.id));
  const subjects = new Map(plan.subjects.map((s) => [s.code, s]));
  const ids = new Set<string>();
  for (const l of plan.lessons) {
    const problems = [
      ids.has(l.id) ? `lesson id ${l.id} appears twice` : undefined,
      teachers.has(l.teacherId) ? undefined : `${l.id} names an unknown teacher ${l.teacherId}`,
      subjects.has(l.subject) ? undefined : `${l.id} names an unknown subject ${l.subject}`,
    ].filter((p): p is string => p !== undefined);
    ids.add(l.id);
    for (const message of problems) {
      out.push({ constraint: 'reference', message, grade: l.grade, lessonIds: [l.id] });
    }
  }
  if (n === 0) {
    out.push({ constraint: 'calendar', message: 'the term has no school day', lessonIds: [] });
    return out;
  }
  for (const [key, chain] of chainsOf(plan.lessons)) {
    for (let i = 1; i < chain.length; i++) {
      if (chain[i]!.order === chain[i - 1]!.order) {
        out.push({
          constraint: 'order',
          message: `${chain[i - 1]!.id} and ${chain[i]!.id} share position ${chain[i]!.order} in ${key}`,
          grade: chain[i]!.grade,
          subject: chain[i]!.subject,
          lessonIds: [chain[i - 1]!.id, chain[i]!.id],
        });
      }
    }
  }
  const byGrade = new Map<string, PlanLesson[]>();
  for (const l of plan.lessons) byGrade.set(l.grade, [...(byGrade.get(l.grade) ?? []), l]);
  for (const [grade, list] of byGrade) {
    const g = list[0]!.grade;
    if (occ.channelsOf(g).length === 0) {
      out.push({ constraint: 'channel', message: `no channel carries ${grade}`, grade: g, lessonIds: [] });
    }
    const rules = plan.term.stages[stageOf(g)];
    const perDay = Math.min(rules.maxDaily, rules.slots.length);
    if (list.length > perDay * n) {
      out.push({
        constraint: 'capacity',
        message: `${grade} has ${list.length} lessons but ${n} school days × ${perDay} a day hold ${perDay * n}`,
        grade: g,
        lessonIds: [],
      });
    }
  }
  if (out.length > 0) return out;

  // Each subject chain: from its k-th lesson on, the days left (teacher available, recording ready)
  // must hold the rest at the per-day cap.
  const cap = plan.term.maxPerSubjectPerDay;
  for (const chain of chainsOf(plan.lessons).values()) {
    let earliest = 0;
    for (let k = 0; k < chain.length; k++) {
      const l = chain[k]!;
      earliest = Math.max(earliest, occ.readyFrom(l));
      if (earliest >= n) {
        out.push({
          constraint: 'recording',
          message: `${l.id} (${l.grade} ${l.subject}) is ready on ${l.readyOn ?? '?'}, after the term's last school day`,
          grade: l.grade,
          subject: l.subject,
          ...(l.readyOn === undefined ? {} : { date: l.readyOn }),
          lessonIds: chain.slice(k).map((x) => x.id),
        });
        break;
      }
      let days = 0;
      for (let d = earliest; d < n; d++) if (!occ.isUnavailable(l.teacherId, d)) days++;
      if (chain.length - k > days * cap) {
        const rest = chain.length - k;
        // The cause: the teacher's absences if the days would do without them, else late recordings
        // if the whole term would do, else the per-day cap itself.
        const constraint: HardConstraint =
          days === 0 || rest <= (n - earliest) * cap
            ? 'unavailable'
            : earliest > 0 && rest <= n * cap
              ? 'recording'
              : 'subjectPerDay';
        out.push({
          constraint,
          message: `${chain.length - k} ${l.subject} lessons of ${l.grade} from ${l.id} need ${Math.ceil((chain.length - k) / cap)} days; ${days} are left from ${occ.days[earliest]!} with teacher ${l.teacherId} available`,
          grade: l.grade,
          subject: l.subject,
          teacherId: l.teacherId,
          date: occ.days[earliest]!,
          lessonIds: chain.slice(k, k + 20).map((x) => x.id),
        });
        break;
      }
    }
  }
  // Each teacher: lessons against available days × the distinct slot times of the stages taught.
  const byTeacher = new Map<string, PlanLesson[]>();
  for (const l of plan.lessons) byTeacher.set(l.teacherId, [...(byTeacher.get(l.teacherId) ?? []), l]);
  for (const t of plan.teachers) {
    const list = byTeacher.get(t.id);
    if (!list) continue;
    const times = new Set(list.flatMap((l) => occ.slotsOf(l.grade)));
    let days = 0;
    for (let d = 0; d < n; d++) if (!occ.isUnavailable(t.id, d)) days++;
    if (list.length > days * times.size) {
      out.push({
        constraint: days === 0 ? 'unavailable' : 'teacher',
        message: `teacher ${t.id} has ${list.length} lessons but ${days} available days × ${times.size} slots`,
        teacherId: t.id,
        lessonIds: [],
      });
    }
  }
  return out;
}
