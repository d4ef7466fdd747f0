import { stageOf, type Plan, type ScheduleEntry, type ScheduleScore, type Violation } from '@sky/contracts';
import { chainsOf, cmp, dayNumber, minutesOf, NOON, schoolDays, weekStart } from './calendar.js';

/**
 * Every hard constraint, checked on a finished schedule. Written apart from the scheduler, so that
 * tests, the benchmark and imports of a hand-made schedule do not trust the scheduler's own bookkeeping.
 */
export function checkSchedule(plan: Plan, entries: readonly ScheduleEntry[]): Violation[] {
  const out: Violation[] = [];
  const lessons = new Map(plan.lessons.map((l) => [l.id, l]));
  const teachers = new Map(plan.teachers.map((t) => [t.id, t]));
  const days = new Set(schoolDays(plan.term));
  const seen = new Map<string, ScheduleEntry>();

  for (const e of entries) {
    const l = lessons.get(e.lessonId);
    if (!l) {
      out.push({
        constraint: 'reference',
        message: `${e.lessonId} is not in the plan`,
        lessonIds: [e.lessonId],
      });
      continue;
    }
    if (seen.has(e.lessonId)) {
      out.push({ constraint: 'reference', message: `${e.lessonId} airs twice`, lessonIds: [e.lessonId] });
    }
    seen.set(e.lessonId, e);
    const slots = plan.term.stages[stageOf(l.grade)].slots;
    if (
      !days.has(e.date) ||
      slots[e.slot] !== e.start ||
      e.grade !== l.grade ||
      e.teacherId !== l.teacherId
    ) {
      out.push({
        constraint: 'calendar',
        message: `${l.id} is not in a school day's slot of its stage (${e.date} ${e.start})`,
        grade: l.grade,
        date: e.date,
        lessonIds: [l.id],
      });
    }
    const end = minutesOf(e.start) + l.durationMin;
    if (minutesOf(e.end) !== end % 1440) {
      out.push({ constraint: 'calendar', message: `${l.id} ends at the wrong time`, lessonIds: [l.id] });
    }
    if (l.recording === 'planned' && l.readyOn !== undefined && e.date < l.readyOn) {
      out.push({
        constraint: 'recording',
        message: `${l.id} airs on ${e.date} before its recording is ready (${l.readyOn})`,
        grade: l.grade,
        date: e.date,
        lessonIds: [l.id],
      });
    }
    if (teachers.get(l.teacherId)?.unavailable.includes(e.date)) {
      out.push({
        constraint: 'unavailable',
        message: `${l.teacherId} is unavailable on ${e.date}`,
        teacherId: l.teacherId,
        date: e.date,
        lessonIds: [l.id],
      });
    }
  }
  for (const l of plan.lessons) {
    if (!seen.has(l.id)) {
      out.push({
        constraint: 'capacity',
        message: `${l.id} is not scheduled`,
        grade: l.grade,
        lessonIds: [l.id],
      });
    }
  }

  // Order within each (grade, subject).
  for (const chain of chainsOf(plan.lessons).values()) {
    let prev: { key: string; id: string } | undefined;
    for (const l of chain) {
      const e = seen.get(l.id);
      if (!e) continue;
      const key = `${e.date} ${e.start}`;
      if (prev && cmp(key, prev.key) <= 0) {
        out.push({
          constraint: 'order',
          message: `${l.id} airs before or with ${prev.id}, which comes earlier in the ${l.subject} sequence`,
          grade: l.grade,
          subject: l.subject,
          date: e.date,
          lessonIds: [prev.id, l.id],
        });
      }
      prev = { key, id: l.id };
    }
  }

  const placed = [...seen.values()];
  // Overlaps on each channel and for each teacher.
  const gradeChannels = new Map<string, string[]>();
  for (const c of plan.channels)
    for (const g of c.grades) gradeChannels.set(g, [...(gradeChannels.get(g) ?? []), c.id]);
  const byChannel = new Map<string, ScheduleEntry[]>();
  for (const e of placed) {
    const expected = (gradeChannels.get(e.grade) ?? []).sort().join(',');
    if ([...e.channels].sort().join(',') !== expected) {
      out.push({
        constraint: 'channel',
        message: `${e.lessonId} is not on its grade's channels (${expected || 'none'})`,
        grade: e.grade,
        lessonIds: [e.lessonId],
      });
    }
    for (const c of gradeChannels.get(e.grade) ?? []) byChannel.set(c, [...(byChannel.get(c) ?? []), e]);
  }
  for (const [channelId, list] of byChannel) {
    for (const [a, b] of overlaps(list, lessons)) {
      out.push({
        constraint: 'channel',
        message: `${a.lessonId} and ${b.lessonId} overlap on channel ${channelId} on ${a.date}`,
        channelId,
        date: a.date,
        lessonIds: [a.lessonId, b.lessonId],
      });
    }
  }
  for (const [teacherId, list] of groupBy(placed, (e) => e.teacherId)) {
    for (const [a, b] of overlaps(list, lessons)) {
      out.push({
        constraint: 'teacher',
        message: `${teacherId} would teach ${a.lessonId} and ${b.lessonId} at once on ${a.date}`,
        teacherId: a.teacherId,
        date: a.date,
        lessonIds: [a.lessonId, b.lessonId],
      });
    }
  }
  for (const [, list] of groupBy(placed, (e) => `${e.grade}|${e.date}`)) {
    const first = list[0]!;
    const max = plan.term.stages[stageOf(first.grade)].maxDaily;
    if (list.length > max) {
      out.push({
        constraint: 'dailyLoad',
        message: `${first.grade} has ${list.length} lessons on ${first.date} (at most ${max})`,
        grade: first.grade,
        date: first.date,
        lessonIds: list.map((e) => e.lessonId),
      });
    }
  }
  for (const [, list] of groupBy(placed, (e) => `${e.grade}|${e.subject}|${e.date}`)) {
    const first = list[0]!;
    if (list.length > plan.term.maxPerSubjectPerDay) {
      out.push({
        constraint: 'subjectPerDay',
        message: `${first.grade} has ${list.length} ${first.subject} lessons on ${first.date} (at most ${plan.term.maxPerSubjectPerDay})`,
        grade: first.grade,
        subject: first.subject,
        date: first.date,
        lessonIds: list.map((e) => e.lessonId),
      });
    }
  }
  return out;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/**
 * Pairs of entries whose [start, start + duration) intervals intersect, on the clock of the whole term: a
 * lesson running past midnight meets the next day's first one. Each entry is compared with the one that
 * runs longest before it, so a long lesson is caught against every short one inside it.
 */
function overlaps(
  list: readonly ScheduleEntry[],
  lessons: ReadonlyMap<string, { durationMin: number }>,
): [ScheduleEntry, ScheduleEntry][] {
  const spans = list
    .map((e) => {
      const start = dayNumber(e.date) * 1440 + minutesOf(e.start);
      return { e, start, end: start + (lessons.get(e.lessonId)?.durationMin ?? 0) };
    })
    .sort((a, b) => a.start - b.start);
  const out: [ScheduleEntry, ScheduleEntry][] = [];
  let longest = spans[0];
  for (const cur of spans.slice(1)) {
    if (!longest) break;
    if (cur.start < longest.end) out.push([longest.e, cur.e]);
    if (cur.end > longest.end) longest = cur;
  }
  return out;
}

/** Soft goals, each 0…1: spread over the week, core subjects in the morning, steady daily load. */
export function scoreSchedule(plan: Plan, entries: readonly ScheduleEntry[]): ScheduleScore {
  const core = new Set(plan.subjects.filter((s) => s.core).map((s) => s.code));
  const days = schoolDays(plan.term);

  // Spread: within each week, a subject's lessons fall on as many different days as they could.
  const weeks = groupBy(entries, (e) => `${e.grade}|${e.subject}|${weekStart(e.date)}`);
  const daysInWeek = new Map<string, number>();
  for (const d of days) daysInWeek.set(weekStart(d), (daysInWeek.get(weekStart(d)) ?? 0) + 1);
  let spreadSum = 0;
  for (const [key, list] of weeks) {
    const distinct = new Set(list.map((e) => e.date)).size;
    const possible = Math.min(list.length, daysInWeek.get(key.split('|')[2]!) ?? list.length);
    spreadSum += distinct / possible;
  }
  const spread = weeks.size === 0 ? 1 : spreadSum / weeks.size;

  // Core in the morning, against what the morning slots could hold.
  const perGrade = groupBy(entries, (e) => e.grade);
  let coreScore = 0;
  let steadySum = 0;
  for (const list of perGrade.values()) {
    const coreList = list.filter((e) => core.has(e.subject));
    const morningSlots = plan.term.stages[stageOf(list[0]!.grade)].slots.filter(
      (s) => minutesOf(s) < NOON,
    ).length;
    const best = Math.min(coreList.length, morningSlots * days.length);
    const achieved = coreList.filter((e) => minutesOf(e.start) < NOON).length;
    coreScore += best === 0 ? 1 : achieved / best;
    const loads = days.map((d) => list.filter((e) => e.date === d).length);
    const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
    const sd = Math.sqrt(loads.reduce((a, b) => a + (b - mean) ** 2, 0) / loads.length);
    steadySum += mean === 0 ? 1 : Math.max(0, 1 - sd / mean);
  }
  const coreMorning = perGrade.size === 0 ? 1 : coreScore / perGrade.size;
  const steadiness = perGrade.size === 0 ? 1 : steadySum / perGrade.size;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    spread: round(spread),
    coreMorning: round(coreMorning),
    steadiness: round(steadiness),
    total: round((spread + coreMorning + steadiness) / 3),
  };
}
