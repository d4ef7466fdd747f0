/**
 * A linear channel as a pure function of the wall clock. Time is cut into 6-second ticks counted from a
 * fixed epoch; tick k is one segment: the k-th segment of the lesson airing then, or a slate segment.
 * So the media sequence number is the tick number — stable across requests and gateway instances, and
 * never going backwards — and the discontinuity sequence can be counted in closed form from the runs.
 */
export const TICK_SEC = 6;
/** Lesson slots start on whole minutes (Beijing time), which are whole ticks from the epoch. */
export const EPOCH_SEC = Date.parse('2026-01-01T00:00:00+08:00') / 1000;
/** The slate is a loop of this many 6-second segments with continuous timestamps. */
export const SLATE_TICKS = 20;
/**
 * Live playlists show this many segments (60 s): a player starts 3 target durations back, and one that
 * fell behind (a live lesson's encoder that lagged, then caught up) still finds the next tick it needs.
 */
export const LIVE_WINDOW = 10;

export interface Segment {
  url: string;
  durationSec: number;
  /** A new timeline begins at this segment inside its run (a live lesson's restart or slate). */
  discontinuity?: boolean;
}

/** A lesson on air: ticks [start, end), its segments from the first. */
export interface Run {
  start: number;
  end: number;
  lessonId: string;
  segments: Segment[];
  /** Offsets (from start, ascending) of the segments marked `discontinuity`; none in a recorded lesson. */
  marks?: readonly number[];
}

export const tickAt = (epochSec: number): number => Math.floor((epochSec - EPOCH_SEC) / TICK_SEC);
export const tickStartSec = (tick: number): number => EPOCH_SEC + tick * TICK_SEC;

/**
 * Runs from scheduled lessons (start instants, in epoch seconds, and their segments), in time order.
 * A lesson longer than the gap to the next one is cut where the next begins; one that begins before
 * the previous ended (an overrun) starts late, never overlapping.
 */
export function buildRuns(items: { startSec: number; lessonId: string; segments: Segment[] }[]): Run[] {
  const sorted = [...items].sort((a, b) => a.startSec - b.startSec || a.lessonId.localeCompare(b.lessonId));
  const runs: Run[] = [];
  sorted.forEach((it, i) => {
    const start = Math.max(Math.ceil((it.startSec - EPOCH_SEC) / TICK_SEC), runs.at(-1)?.end ?? -Infinity);
    const next = sorted[i + 1];
    const limit = next ? Math.ceil((next.startSec - EPOCH_SEC) / TICK_SEC) : Infinity;
    const end = Math.min(start + it.segments.length, limit);
    if (end > start) runs.push({ start, end, lessonId: it.lessonId, segments: it.segments });
  });
  return runs;
}

/** The run containing tick k (binary search), if any. */
export function runAt(runs: readonly Run[], k: number): Run | undefined {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (k < r.start) hi = mid - 1;
    else if (k >= r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

/**
 * Whether tick k starts a new timeline: a lesson's first segment, one marked inside its run, the slate
 * looping, or the slate after a lesson.
 */
export function isDiscontinuity(runs: readonly Run[], k: number): boolean {
  const r = runAt(runs, k);
  if (r) return k === r.start || r.segments[k - r.start]?.discontinuity === true;
  return k % SLATE_TICKS === 0 || runAt(runs, k - 1) !== undefined;
}

const multiplesIn = (a: number, b: number): number =>
  b <= a ? 0 : Math.ceil(b / SLATE_TICKS) - Math.ceil(a / SLATE_TICKS);

/** Discontinuities marked inside run r before tick k (its first segment is counted as the run's start). */
function marksIn(r: Run, k: number): number {
  return r.marks?.filter((i) => i > 0 && i < k - r.start).length ?? 0;
}

/** A run of segments some of which start a new timeline (a live lesson). */
export function markedRun(start: number, lessonId: string, segments: Segment[]): Run {
  const marks = segments.flatMap((s, i) => (s.discontinuity ? [i] : []));
  return { start, end: start + segments.length, lessonId, segments, marks };
}

/** How many discontinuity tags fall on ticks in [0, k0): the playlist's EXT-X-DISCONTINUITY-SEQUENCE. */
export function discontinuitiesBefore(runs: readonly Run[], k0: number): number {
  let count = multiplesIn(0, k0); // slate loop points, minus those hidden inside lessons below
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i]!;
    if (r.start >= k0) break;
    count += 1; // the lesson's first segment
    count += marksIn(r, Math.min(r.end, k0));
    count -= multiplesIn(r.start, Math.min(r.end, k0));
    const next = runs[i + 1];
    const slateAfter = r.end < k0 && next?.start !== r.end && r.end % SLATE_TICKS !== 0;
    if (slateAfter) count += 1;
  }
  return count;
}

export interface PlaylistOptions {
  runs: readonly Run[];
  slate: readonly Segment[];
  from: number;
  /** Inclusive. */
  to: number;
  /**
   * Live playlists slide; a catch-up is an EVENT playlist from the programme's start: it only grows while
   * the programme is on the air and `ended` adds ENDLIST once it has aired to its end. It stays EVENT then
   * (RFC 8216 §6.2.1: a server may only append, and add ENDLIST, to what a client already loaded).
   */
  type: 'live' | 'event';
  ended?: boolean;
}

const pdt = (tick: number) => new Date(tickStartSec(tick) * 1000).toISOString().replace('Z', '+00:00');

/** An HLS v3 media playlist of ticks [from, to]: MPEG-TS segments, discontinuities, wall-clock times. */
export function renderPlaylist(o: PlaylistOptions): string {
  const body: string[] = [];
  let target = TICK_SEC;
  for (let k = o.from; k <= o.to; k++) {
    const r = runAt(o.runs, k);
    const seg = r ? r.segments[k - r.start]! : o.slate[k % SLATE_TICKS]!;
    target = Math.max(target, Math.ceil(seg.durationSec));
    if (isDiscontinuity(o.runs, k) && k !== o.from) body.push('#EXT-X-DISCONTINUITY');
    if (k === o.from || isDiscontinuity(o.runs, k)) body.push(`#EXT-X-PROGRAM-DATE-TIME:${pdt(k)}`);
    body.push(`#EXTINF:${seg.durationSec.toFixed(3)},`, seg.url);
  }
  // The first segment's own tag is dropped and counted in the sequence instead (RFC 8216 §6.2.2).
  const dsn = discontinuitiesBefore(o.runs, o.from) + (isDiscontinuity(o.runs, o.from) ? 1 : 0);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${o.from}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${dsn}`,
    ...(o.type === 'event' ? ['#EXT-X-PLAYLIST-TYPE:EVENT'] : []),
    ...body,
    ...(o.type === 'event' && o.ended ? ['#EXT-X-ENDLIST'] : []),
    '',
  ].join('\n');
}

/**
 * The catch-up span starting at tick k: to the end of the lesson airing then (a live lesson's runs that
 * follow one another — "starting soon", then its ticks — are one lesson), or to the next lesson (≤ 1 h
 * of slate).
 */
export function catchupSpan(runs: readonly Run[], k: number): { from: number; to: number } {
  const r = runAt(runs, k);
  if (r) {
    let end = r.end;
    for (let i = runs.indexOf(r) + 1; runs[i]?.start === end && runs[i]!.lessonId === r.lessonId; i++) {
      end = runs[i]!.end;
    }
    return { from: k, to: end - 1 };
  }
  const next = runs.find((x) => x.start > k);
  return { from: k, to: Math.min(next ? next.start - 1 : Infinity, k + 599) };
}
