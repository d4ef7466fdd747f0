import type { GuideProgramme } from '@sky/contracts';

/**
 * The guide as the 10-foot UI reads it. Set-top clocks are often wrong (no NTP until the network is up,
 * some boot in 1970), so what has aired comes from the gateway — its `live` flags and catch-up links —
 * and the box's own clock decides only when the guide says nothing either way.
 */

export type ProgrammeState = 'live' | 'catchup' | 'ended' | 'upcoming';

const BEIJING_MS = 8 * 3600 * 1000;

/** Beijing wall-clock fields of an ISO instant; China keeps no summer time, and small-ICU browsers lack Intl time zones. */
export function beijing(iso: string): {
  date: string;
  time: string;
  month: number;
  day: number;
  weekday: number;
} {
  const d = new Date(Date.parse(iso) + BEIJING_MS);
  const s = d.toISOString();
  return {
    date: s.slice(0, 10),
    time: s.slice(11, 16),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
  };
}

/** `08:00–08:20` in Beijing time. */
/**
 * The lesson a programme's viewing counts under: a lesson taught live as its api lesson (as the live page
 * counts it on the web), every other one by its plan id. The TV player and the web's channel page share it.
 */
export const viewedLessonId = (p: Pick<GuideProgramme, 'taughtLive' | 'vodLessonId' | 'lessonId'>) =>
  p.taughtLive && p.vodLessonId ? p.vodLessonId : p.lessonId;

export const timeRange = (p: Pick<GuideProgramme, 'start' | 'stop'>) =>
  `${beijing(p.start).time}–${beijing(p.stop).time}`;

/** One channel's programmes, in the order they air. */
export function channelProgrammes(all: readonly GuideProgramme[], channelId: string): GuideProgramme[] {
  return all
    .filter((p) => p.channelId === channelId)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}

/** The state of each programme of one channel (in airing order). */
export function programmeStates(list: readonly GuideProgramme[], boxNowMs: number): ProgrammeState[] {
  let lastAired = -1;
  list.forEach((p, i) => {
    if (p.live || p.catchupUrl !== undefined) lastAired = i;
  });
  return list.map((p, i) => {
    if (p.live) return 'live';
    if (p.catchupUrl !== undefined) return 'catchup';
    if (lastAired >= 0) return i < lastAired ? 'ended' : 'upcoming';
    return Date.parse(p.stop) <= boxNowMs ? 'ended' : 'upcoming';
  });
}

/** What is on air on a channel, and what comes after it. */
export function nowAndNext(
  list: readonly GuideProgramme[],
  boxNowMs: number,
): { now?: GuideProgramme; next?: GuideProgramme } {
  const states = programmeStates(list, boxNowMs);
  const live = states.indexOf('live');
  const next = states.indexOf('upcoming', live + 1);
  return {
    ...(live >= 0 ? { now: list[live] } : {}),
    ...(next >= 0 ? { next: list[next] } : {}),
  };
}

/** Where the guide's cursor starts: the live programme, else the next one, else the last. */
export function startIndex(states: readonly ProgrammeState[]): number {
  const live = states.indexOf('live');
  if (live >= 0) return live;
  const upcoming = states.indexOf('upcoming');
  if (upcoming >= 0) return upcoming;
  return states.length - 1;
}

export interface DayGroup {
  date: string;
  month: number;
  day: number;
  weekday: number;
  /** Indexes into the channel's list. */
  items: number[];
}

/** Consecutive programmes of the same Beijing day. */
export function dayGroups(list: readonly GuideProgramme[]): DayGroup[] {
  const groups: DayGroup[] = [];
  list.forEach((p, i) => {
    const b = beijing(p.start);
    const last = groups[groups.length - 1];
    if (last && last.date === b.date) last.items.push(i);
    else groups.push({ date: b.date, month: b.month, day: b.day, weekday: b.weekday, items: [i] });
  });
  return groups;
}

/** The channel `step` places away in the lineup, wrapping round at either end. */
export function neighbour<T extends { id: string }>(
  channels: readonly T[],
  id: string,
  step: 1 | -1,
): T | undefined {
  if (channels.length === 0) return undefined;
  const at = channels.findIndex((c) => c.id === id);
  const i = at < 0 ? 0 : (at + step + channels.length) % channels.length;
  return channels[i];
}

/** The subject's name in the viewer's language (Chinese first, English second); never its code. */
export function subjectLabel(
  p: Pick<GuideProgramme, 'subjectName' | 'subjectNameEn'>,
  language: string,
): string | undefined {
  return language.startsWith('en') ? (p.subjectNameEn ?? p.subjectName) : p.subjectName;
}

/** `4:05`, `12:30`, `1:02:03`: a position or a length in a video. */
export function clockText(sec: number): string {
  const s = Number.isFinite(sec) && sec > 0 ? Math.floor(sec) : 0;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Days from `from` to `to` (YYYY-MM-DD): 0 the same day, -1 the day before (labels like 今天, 昨天). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
