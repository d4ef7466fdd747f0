// Scripted viewing sessions with their ground truth, computed independently of the aggregator.
import type { Beacon, Platform } from '@sky/contracts';
import { signedViewer } from './analytics-ids.js';

export interface ScriptLesson {
  id: string;
  /** Dimensions the players send (the api's own lesson record, when there is one, wins). */
  grade: 'p3' | 'j2' | 's1';
  subject: string;
}

export interface Truth {
  views: Record<Platform | 'total', number>;
  watchMs: Record<Platform | 'total', number>;
  uniques: Record<Platform | 'total', number>;
  starts: Record<Platform, number>;
  startupSumMs: Record<Platform, number>;
  stalls: Record<Platform, number>;
  stallMs: Record<Platform, number>;
  viewsByLesson: Map<string, number>;
  viewsByDistrict: Map<string, number>;
  /** Retention counts per lesson (100 buckets of a 100 s lesson = seconds played in each second). */
  retention: Map<string, number[]>;
  startsByLesson: Map<string, number>;
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLATS: Platform[] = ['web', 'tv', 'live-webrtc'];
export const LESSON_SEC = 100;

/**
 * `sessions` sessions over `viewers` viewers on one China day starting at `dayStartMs`. Each plays a
 * 100 s lesson from 0: start, 0–8 heartbeats of 10 s, maybe a stall, an end with 0–9.9 s; so some
 * sessions stay under the 10 s view threshold.
 */
export function scriptDay(opts: {
  seed: number;
  tag: string;
  sessions: number;
  viewers: number;
  lessons: ScriptLesson[];
  dayStartMs: number;
}): { events: Beacon[]; truth: Truth } {
  const rand = rng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const per = () => ({ web: 0, tv: 0, 'live-webrtc': 0 });
  const truth: Truth = {
    views: { ...per(), total: 0 },
    watchMs: { ...per(), total: 0 },
    uniques: { ...per(), total: 0 },
    starts: per(),
    startupSumMs: per(),
    stalls: per(),
    stallMs: per(),
    viewsByLesson: new Map(),
    viewsByDistrict: new Map(),
    retention: new Map(),
    startsByLesson: new Map(),
  };
  const uniq = {
    web: new Set<string>(),
    tv: new Set<string>(),
    'live-webrtc': new Set<string>(),
    total: new Set<string>(),
  };
  const events: Beacon[] = [];
  for (let i = 0; i < opts.sessions; i++) {
    const lesson = pick(opts.lessons);
    const platform = pick(PLATS);
    // Viewer ids depend on the seed alone (not on the test's random tag): a HyperLogLog's estimate is a
    // function of its members, so a seeded day always gets the same estimate.
    const viewerId = signedViewer(`v${String(Math.floor(rand() * opts.viewers)).padStart(7, '0')}`);
    const sessionId = `s${opts.tag}x${i}`.padEnd(8, '0');
    const district = pick(['dongcheng', 'xicheng', 'haidian']);
    const school = `${district}-${Math.floor(rand() * 3)}`;
    const t0 = opts.dayStartMs + Math.floor(rand() * 12 * 3600_000);
    let k = 0;
    const base = {
      viewerId,
      sessionId,
      lessonId: lesson.id,
      platform,
      duration: LESSON_SEC,
      grade: lesson.grade,
      subject: lesson.subject,
      district,
      school,
      rendition: '720p',
    };
    const ev = (e: Record<string, unknown>, atSec: number) =>
      events.push({
        ...base,
        ...e,
        eventId: `${sessionId}-${k++}`,
        at: t0 + Math.round(atSec * 1000),
      } as Beacon);
    const startupMs = 200 + Math.floor(rand() * 3000);
    ev({ type: 'start', position: 0, startupMs }, 0);
    truth.starts[platform] += 1;
    truth.startupSumMs[platform] += startupMs;
    truth.startsByLesson.set(lesson.id, (truth.startsByLesson.get(lesson.id) ?? 0) + 1);
    const beats = Math.floor(rand() * 9);
    let pos = 0;
    for (let b = 0; b < beats; b++) {
      pos += 10;
      ev({ type: 'heartbeat', position: pos, watchedSec: 10 }, pos);
      if (b === 1 && rand() < 0.3) {
        const durationMs = 100 + Math.floor(rand() * 4000);
        ev({ type: 'stall', position: pos, durationMs }, pos);
        truth.stalls[platform] += 1;
        truth.stallMs[platform] += durationMs;
      }
    }
    if (rand() < 0.2) ev({ type: 'pause', position: pos }, pos + 0.5);
    const last = Math.round(rand() * 99) / 10;
    pos += last;
    ev({ type: 'end', position: pos, watchedSec: last }, pos + 1);

    const watchedMs = beats * 10_000 + Math.round(last * 1000);
    truth.watchMs[platform] += watchedMs;
    truth.watchMs.total += watchedMs;
    if (watchedMs >= 10_000) {
      truth.views[platform] += 1;
      truth.views.total += 1;
      truth.viewsByLesson.set(lesson.id, (truth.viewsByLesson.get(lesson.id) ?? 0) + 1);
      truth.viewsByDistrict.set(district, (truth.viewsByDistrict.get(district) ?? 0) + 1);
    }
    uniq[platform].add(viewerId);
    uniq.total.add(viewerId);
    // Played [0, pos] once: second i gets min(1, pos − i) of it.
    const curve = truth.retention.get(lesson.id) ?? Array.from({ length: 100 }, () => 0);
    for (let s = 0; s < 100; s++) curve[s]! += Math.max(0, Math.min(1, pos - s));
    truth.retention.set(lesson.id, curve);
  }
  for (const p of [...PLATS, 'total'] as const) truth.uniques[p] = uniq[p].size;
  return { events, truth };
}

/** Fisher–Yates with the script's PRNG. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rand = rng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
