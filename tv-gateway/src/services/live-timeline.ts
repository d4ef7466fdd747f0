/**
 * A live lesson on its grade's channel, as a pure function of the api's facts (when the teacher went live
 * and ended), the bridge's whole-lesson TV list and the clock — so every gateway replica cuts the same
 * ticks. Tick k carries the live segments that began in [T_k − delay, T_k − delay + 6 s): six 1-second
 * MPEG-TS segments of one ffmpeg run, joined byte for byte (one continuous transport stream). The delay
 * lets a tick's segments all exist when it enters the playlist, and every replica learn a start or an end
 * (it rereads the facts every 2 s) before it matters.
 */
import type { LiveTvList } from '@sky/contracts';
import {
  EPOCH_SEC,
  markedRun,
  SLATE_TICKS,
  TICK_SEC,
  tickAt,
  tickStartSec,
  type Run,
  type Segment,
} from './timeline.js';

/** Seconds from the teacher's camera to the channel (before the player's own buffer). */
export const LIVE_DELAY_SEC = 10;
/** How long a channel shows "starting soon" before falling back to the schedule's slate. */
export const LIVE_GRACE_SEC = 300;
/**
 * A tick waits for its segments (a slow encoder, an ffmpeg restart) until a later segment exists or the
 * list ends — facts every replica reads the same — and only after this long of silence (the bridge
 * itself is gone) is it cut with what is there.
 */
export const SETTLE_WAIT_SEC = 30;

/** A live lesson's slot on a channel: from its first tick, never reaching `capTick` (the next programme). */
export interface LiveSlot {
  lessonId: string;
  startTick: number;
  capTick: number;
}

export interface LiveFactsSec {
  startedAtSec?: number;
  endedAtSec?: number;
}

export interface LiveUrls {
  /** A live tick's joined segment (served by the gateway). */
  live: (tick: number) => string;
  /** The "starting soon" slate, by loop index. */
  soon: (index: number) => string;
}

/** Indices [from, to) of the list's segments that tick k carries: the newest run's among those in its window. */
export function tickParts(list: LiveTvList, k: number): { from: number; to: number } {
  const lo = (tickStartSec(k) - LIVE_DELAY_SEC) * 1000;
  const hi = lo + TICK_SEC * 1000;
  const segs = list.segments;
  let from = firstAtOrAfter(list, lo);
  const to = firstAtOrAfter(list, hi);
  for (let i = from + 1; i < to; i++) if (segs[i]!.discontinuity) from = i;
  return { from, to };
}

function firstAtOrAfter(list: LiveTvList, ms: number): number {
  let lo = 0;
  let hi = list.segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list.segments[mid]!.pdtMs < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether tick k's segments are all known: a later one exists or the list has ended (ffmpeg lists its
 * segments in order), or the bridge has been silent for SETTLE_WAIT_SEC.
 */
export function tickSettled(list: LiveTvList, k: number, nowSec: number): boolean {
  const windowEnd = tickStartSec(k) - LIVE_DELAY_SEC + TICK_SEC;
  const last = list.segments.at(-1);
  return (
    list.ended ||
    (last !== undefined && last.pdtMs >= windowEnd * 1000) ||
    nowSec >= tickStartSec(k) + SETTLE_WAIT_SEC
  );
}

/** The first tick starting at or after `sec`. */
const tickOf = (sec: number) => Math.ceil((sec - EPOCH_SEC) / TICK_SEC);

/**
 * The runs a live slot puts on its channel up to now: "starting soon" from the slot's start until the
 * live picture reaches the channel (at most the grace period; after it the schedule's slate), then the
 * live ticks until the lesson's end has passed through the delay or the next programme begins. A tick
 * without live segments (a restart longer than a tick) shows "starting soon" too. `pendingFrom` is the
 * first tick not yet settled: playlists must end before it.
 */
export function liveRuns(
  slot: LiveSlot,
  facts: LiveFactsSec,
  list: LiveTvList | undefined,
  nowSec: number,
  urls: LiveUrls,
): { runs: Run[]; pendingFrom?: number } {
  const s0 = slot.startTick;
  const cap = slot.capTick;
  const { startedAtSec: a, endedAtSec: b } = facts;
  // taught and over before its slot: the channel keeps its schedule
  if (b !== undefined && b + LIVE_DELAY_SEC <= tickStartSec(s0)) return { runs: [] };
  const started = a !== undefined && a < tickStartSec(cap);
  const liveFrom = started ? Math.max(s0, tickOf(a + LIVE_DELAY_SEC)) : Infinity;
  const graceEnd = s0 + Math.ceil(LIVE_GRACE_SEC / TICK_SEC);
  const runs: Run[] = [];
  const soonEnd = Math.min(liveFrom, graceEnd, cap);
  if (soonEnd > s0) {
    const soon = Array.from({ length: soonEnd - s0 }, (_, i) => soonSegment(s0 + i, urls, i === 0));
    runs.push(markedRun(s0, slot.lessonId, soon));
  }
  if (!started) return { runs };
  const hardEnd = Math.min(cap, b !== undefined ? tickOf(b + LIVE_DELAY_SEC) : Infinity);
  const nowTick = tickAt(nowSec);
  const l = list ?? { segments: [], ended: false };
  const live: Segment[] = [];
  let prevLast: number | undefined; // index of the last list segment the previous tick carried
  let k = liveFrom;
  for (; k < hardEnd && k <= nowTick && tickSettled(l, k, nowSec); k++) {
    const { from, to } = tickParts(l, k);
    if (from === to) {
      live.push(soonSegment(k, urls, prevLast !== undefined || live.length === 0));
      prevLast = undefined;
      continue;
    }
    const continues = prevLast !== undefined && from === prevLast + 1 && !l.segments[from]!.discontinuity;
    const durationSec = l.segments.slice(from, to).reduce((sum, s) => sum + s.durationSec, 0);
    live.push({
      url: urls.live(k),
      durationSec: Math.round(durationSec * 1000) / 1000,
      discontinuity: !continues,
    });
    prevLast = to - 1;
  }
  if (live.length > 0) runs.push(markedRun(liveFrom, slot.lessonId, live));
  const pending = k < hardEnd && k <= nowTick ? { pendingFrom: k } : {};
  return { runs, ...pending };
}

/** A "starting soon" tick: the slate loop continues unless it wraps or follows something else. */
function soonSegment(k: number, urls: LiveUrls, afterOther: boolean): Segment {
  const index = ((k % SLATE_TICKS) + SLATE_TICKS) % SLATE_TICKS;
  return { url: urls.soon(index), durationSec: TICK_SEC, discontinuity: afterOther || index === 0 };
}
