import { slotSpan, type Lesson, type ScheduleEntry } from '@sky/contracts';

/** The go-live button shows from this long before a scheduled live slot until the slot's end. */
export const GO_LIVE_EARLY_MS = 15 * 60_000;

/**
 * Where a teacher stands with one scheduled live slot of their lesson, at `now`:
 * upcoming (too early to go live), open (go live), live (on air: back to the studio), then after the slot
 * what the lesson's own live state says — a replay, a replay being made, ended without one, or missed.
 */
export type LiveSlotPhase = 'upcoming' | 'open' | 'live' | 'replay' | 'processing' | 'ended' | 'missed';

export function liveSlotPhase(
  entry: Pick<ScheduleEntry, 'date' | 'start' | 'end'>,
  lesson: Pick<Lesson, 'status' | 'live'>,
  now: number,
): LiveSlotPhase {
  // On air wins over the clock: a lesson that runs over its slot is still the teacher's to end.
  if (lesson.live?.state === 'live') return 'live';
  const { start, end } = slotSpan(entry);
  if (lesson.live?.state === 'ended') {
    if (lesson.status === 'ready') return 'replay';
    if (lesson.status === 'processing') return 'processing';
    return 'ended';
  }
  if (now < start - GO_LIVE_EARLY_MS) return 'upcoming';
  return now < end ? 'open' : 'missed';
}
