import type { MovedLesson, Plan, PlanLesson, ScheduleEntry, Violation } from '@sky/contracts';
import { chainKey, chainsOf } from './calendar.js';
import { Occupancy, type Placement } from './occupancy.js';
import { diagnoseStuck } from './scheduler.js';

export type ScheduleChange =
  | { kind: 'unavailability'; teacherId: string; dates: string[] }
  | { kind: 'move'; lessonId: string; date: string; slot: number };

export type RescheduleOutcome =
  { ok: true; entries: ScheduleEntry[]; moved: MovedLesson[] } | { ok: false; diagnosis: Violation[] };

/**
 * Minimal-change repair of a published schedule after a change to the plan (`plan` already holds it:
 * the teacher's new unavailable dates, or nothing for a move). Every lesson stays where it is unless the
 * change breaks a hard constraint for it; those lessons (and, for a move, the lessons the moved one
 * displaces) take the earliest free slot that keeps their subject's order. When no free slot exists
 * before the next lesson of the same subject, that next lesson moves on too, and so on down the chain —
 * so other teachers' lessons never move for one teacher's absence. Nothing changes when it cannot work.
 */
export function reschedule(
  plan: Plan,
  current: readonly ScheduleEntry[],
  change: ScheduleChange,
): RescheduleOutcome {
  const occ = new Occupancy(plan);
  const before = new Map<string, ScheduleEntry>();
  const displaced = new Set<string>();
  for (const e of current) {
    const l = occ.lessons.get(e.lessonId);
    const day = occ.dayOf(e.date);
    if (!l || day === undefined) continue;
    before.set(l.id, e);
    occ.place(l, day, e.slot);
  }
  for (const l of plan.lessons) if (!before.has(l.id)) displaced.add(l.id);
  const pinned = new Set<string>();

  if (change.kind === 'unavailability') {
    const dates = new Set(change.dates);
    for (const e of before.values())
      if (e.teacherId === change.teacherId && dates.has(e.date)) displaced.add(e.lessonId);
  } else {
    const failed = pinMove(occ, change, displaced);
    if (failed) return { ok: false, diagnosis: [failed] };
    pinned.add(change.lessonId);
  }
  for (const id of displaced) occ.remove(occ.lessons.get(id)!);

  const chains = chainsOf(plan.lessons);
  const touched = [...new Set([...displaced].map((id) => chainKey(occ.lessons.get(id)!)))].sort();
  for (const key of touched) {
    const chain = chains.get(key)!;
    for (let k = 0; k < chain.length; k++) {
      const l = chain[k]!;
      if (!displaced.has(l.id)) continue;
      const prev = k > 0 ? occ.placements.get(chain[k - 1]!.id) : undefined;
      const after = prev ? occ.instant(chain[k - 1]!, prev) : -1;
      for (;;) {
        const nextKept = chain.slice(k + 1).find((x) => occ.placements.has(x.id));
        const limit = nextKept ? occ.instant(nextKept, occ.placements.get(nextKept.id)!) : Infinity;
        const spot = earliestSlot(occ, l, after, limit);
        if (spot) {
          occ.place(l, spot.day, spot.slot);
          break;
        }
        if (!nextKept || pinned.has(nextKept.id)) {
          return { ok: false, diagnosis: [diagnoseStuck(occ, chain, k)] };
        }
        // No room before the subject's next lesson: it moves on too, after this one.
        occ.remove(nextKept);
        displaced.add(nextKept.id);
      }
    }
  }

  const entries = occ.entries();
  const moved: MovedLesson[] = [];
  for (const e of entries) {
    const was = before.get(e.lessonId);
    if (was && was.date === e.date && was.slot === e.slot) continue;
    moved.push({
      lessonId: e.lessonId,
      title: e.title,
      grade: e.grade,
      teacherId: e.teacherId,
      from: was ? { date: was.date, start: was.start } : null,
      to: { date: e.date, start: e.start },
    });
  }
  return { ok: true, entries, moved };
}

/** The first (day, slot) strictly after `after` and before `before` (minutes since term start) that is free. */
function earliestSlot(occ: Occupancy, l: PlanLesson, after: number, before: number): Placement | undefined {
  const slots = occ.slotsOf(l.grade);
  for (let day = Math.max(0, Math.floor(after / 1440)); day < occ.days.length; day++) {
    for (let slot = 0; slot < slots.length; slot++) {
      const at = occ.instant(l, { day, slot });
      if (at <= after) continue;
      if (at >= before) return undefined;
      if (occ.blocker(l, day, slot) === undefined) return { day, slot };
    }
  }
  return undefined;
}

/**
 * Puts the moved lesson where the admin asked, displacing whatever that breaks: the lessons on its
 * channels or of its teacher at that time, one more lesson of the grade that day when the day is full,
 * and its own subject's later lessons that would now come before it. Returns why the move is refused.
 */
function pinMove(
  occ: Occupancy,
  change: { lessonId: string; date: string; slot: number },
  displaced: Set<string>,
): Violation | undefined {
  const l = occ.lessons.get(change.lessonId);
  const refuse = (constraint: Violation['constraint'], message: string): Violation => ({
    constraint,
    message,
    ...(l ? { grade: l.grade, teacherId: l.teacherId } : {}),
    date: change.date,
    lessonIds: [change.lessonId],
  });
  if (!l) return refuse('reference', `${change.lessonId} is not in the plan`);
  const day = occ.dayOf(change.date);
  if (day === undefined) return refuse('calendar', `${change.date} is not a school day of the term`);
  if (occ.slotsOf(l.grade)[change.slot] === undefined) {
    return refuse(
      'calendar',
      `${l.grade} has no slot ${change.slot + 1} (it has ${occ.slotsOf(l.grade).length})`,
    );
  }
  occ.remove(l);
  displaced.delete(l.id);
  const target = occ.instant(l, { day, slot: change.slot });
  const chain =
    chainsOf(occ.plan.lessons.filter((x) => chainKey(x) === chainKey(l)))
      .values()
      .next().value ?? [];
  const k = chain.findIndex((x) => x.id === l.id);
  for (const p of chain.slice(0, k)) {
    const at = occ.placements.get(p.id);
    if (at && occ.instant(p, at) >= target) {
      return refuse(
        'order',
        `${l.id} would air before ${p.id}, which comes earlier in the ${l.subject} sequence`,
      );
    }
  }
  for (const s of chain.slice(k + 1)) {
    const at = occ.placements.get(s.id);
    if (at && occ.instant(s, at) <= target) displaced.add(s.id);
  }
  const start = target - day * 1440;
  const end = start + l.durationMin;
  for (const c of occ.channelsOf(l.grade))
    for (const id of occ.occupants(c, day, start, end, 'channel')) displaced.add(id);
  for (const id of occ.occupants(l.teacherId, day, start, end, 'teacher')) displaced.add(id);
  for (const id of displaced) occ.remove(occ.lessons.get(id)!);
  if (occ.gradeLoad(l.grade, day) >= occ.maxDaily(l.grade)) {
    const sameDay = [...occ.placements]
      .filter(([id, p]) => p.day === day && occ.lessons.get(id)!.grade === l.grade)
      .sort((a, b) => b[1].slot - a[1].slot);
    const [last] = sameDay[0] ?? [];
    if (last) {
      displaced.add(last);
      occ.remove(occ.lessons.get(last)!);
    }
  }
  const why = occ.blocker(l, day, change.slot);
  if (why) {
    return refuse(why, `${l.id} cannot air on ${change.date} slot ${change.slot + 1}: ${why}`);
  }
  occ.place(l, day, change.slot);
  return undefined;
}
