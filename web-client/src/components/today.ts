import type { Channel, GradeId, ScheduleEntry } from '@sky/contracts';
import { slotTimes } from './live-slot';

/*
 * Where a timetable slot leads a viewer (a student, a family): the rules of the home's "today" list and
 * of the week grid's links, as functions of the slot, the clock and which lessons are on the air.
 */

type SlotLink = Pick<ScheduleEntry, 'recording' | 'vodLessonId'>;

/**
 * A slot's own page: its recording on demand, or the live lesson it is taught in (the live page waits for
 * the teacher and joins by itself). A lesson not recorded yet has none.
 */
export function slotHref(entry: SlotLink): string | undefined {
  if (!entry.vodLessonId) return undefined;
  const id = encodeURIComponent(entry.vodLessonId);
  if (entry.recording === 'ready') return `/lessons/${id}`;
  if (entry.recording === 'live') return `/live/${id}`;
  return undefined;
}

/** The slot is airing at `now` (its times are Beijing time, wherever the browser is). */
export function airingNow(entry: Pick<ScheduleEntry, 'date' | 'start' | 'end'>, now: number): boolean {
  const { start, end } = slotTimes(entry);
  return start <= now && now < end;
}

/**
 * What a viewer can do with one of today's slots at `now`:
 * recording — watch it on demand; live — it is on the air, join; soon — taught live later (or the teacher
 * is late), the live page waits; replay — taught live and ended, the lesson page has the replay (or says it
 * is coming); missed — its slot passed without it being taught; planned — not recorded yet.
 */
export type TodayAction = 'recording' | 'live' | 'soon' | 'replay' | 'missed' | 'planned';

export function todayAction(
  entry: Pick<ScheduleEntry, 'date' | 'start' | 'end' | 'recording' | 'vodLessonId'>,
  now: number,
  lessons: { onAir: ReadonlySet<string>; ended: ReadonlySet<string> },
): TodayAction {
  const vod = entry.vodLessonId;
  if (!vod || entry.recording === 'planned') return 'planned';
  if (entry.recording === 'ready') return 'recording';
  if (lessons.onAir.has(vod)) return 'live';
  if (lessons.ended.has(vod)) return 'replay';
  return now < slotTimes(entry).end ? 'soon' : 'missed';
}

/** Where a today action leads; none for a slot that has nothing to watch. */
export function todayHref(action: TodayAction, vodLessonId: string | undefined): string | undefined {
  if (!vodLessonId) return undefined;
  const id = encodeURIComponent(vodLessonId);
  switch (action) {
    case 'recording':
    case 'replay':
      return `/lessons/${id}`;
    case 'live':
    case 'soon':
      return `/live/${id}`;
    case 'missed':
    case 'planned':
      return undefined;
  }
}

/** The grade's TV channel (the lowest number when several carry it): what the web plays as "on now". */
export function gradeChannel(channels: readonly Channel[], grade: GradeId): Channel | undefined {
  return channels
    .filter((c) => c.kind === 'tv' && c.grades.includes(grade))
    .sort((a, b) => a.number - b.number)[0];
}
