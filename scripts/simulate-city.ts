// npm run simulate:city -- --scale 0.01: one term day of the city's viewers, through the real ingest endpoint,
// checked against the dashboard API. At scale 1 the day has the bureau's shape: ≈1,000,000 students,
// 1.353M web and 0.938M TV views, 3,100 lessons in 12 grades with a few city-wide lessons above 100k views,
// daytime web and evening TV. Viewers are generated one at a time (memory stays bounded) from a seeded
// PRNG; the ground truth is counted from exactly what is sent. Exit code 0 only if every figure matches.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BEACON_BATCH_MAX_BYTES,
  BEACON_BATCH_MAX_EVENTS,
  GRADE_IDS,
  PLATFORMS,
  RETENTION_BUCKETS,
  STARTUP_BUCKETS_MS,
  VIEW_THRESHOLD_SEC,
  stageOf,
  type AnalyticsBreakdown,
  type AnalyticsQuality,
  type AnalyticsRetention,
  type AnalyticsSummary,
  type AnalyticsTimeseries,
  type AnalyticsTopLessons,
  type Beacon,
  type BeaconBatchResult,
  type GradeId,
  type Platform,
  type Stage,
} from '@sky/contracts';
import { createTokenIssuer, createViewerIds, type ViewerIds } from '@sky/contracts/tokens';
import {
  freePort,
  startLocalInfra,
  startProcess,
  waitForPort,
  type LocalInfra,
  type Managed,
} from '@sky/devkit';
import { ROOT } from './lib.ts';

// ————————————————————————————— options —————————————————————————————

const USAGE = `usage: npm run simulate:city -- [options]
  --scale N          fraction of the city (default 0.01: 10k students, ~23k views, ~1M events)
  --seed S           PRNG seed (default "sky"); same seed → same viewers, sessions and events
  --date YYYY-MM-DD  the simulated day, China time (default: yesterday in Asia/Shanghai)
  --api URL          target a running stack instead of starting mongod, redis-server, api and worker
  --jwt-secret S     with --api: the stack's JWT_SECRET, to sign teacher/analyst/admin tokens and viewer ids
                     (or env JWT_SECRET)
  --mongo HOST:PORT  use this mongod (replica set rs0) instead of starting one (a fresh database is used)
  --redis URL        use this redis-server instead of starting one (a fresh key prefix is used)
  --concurrency N    HTTP requests in flight (default 32)
  --batch N          events per POST, at most 200 (default 100)
  --dup-rate F       share of batches sent twice, as a client retrying a lost response does (default 0.02)
  --drop F           fault drill: do NOT send this share of the heartbeats while counting them (default 0);
                     any value > 0 must make the check fail
  --drain-timeout S  seconds to wait for the rollups to settle (default 300)
  --dry-run          only generate the day and print its ground truth (nothing is started or sent)`;

interface Options {
  scale: number;
  seed: string;
  date: string;
  api: string | undefined;
  jwtSecret: string | undefined;
  mongo: string | undefined;
  redis: string | undefined;
  concurrency: number;
  batch: number;
  dupRate: number;
  drop: number;
  drainTimeoutSec: number;
  dryRun: boolean;
}

function yesterdayInShanghai(): string {
  return new Date(Date.now() + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scale: { type: 'string', default: '0.01' },
      seed: { type: 'string', default: 'sky' },
      date: { type: 'string' },
      api: { type: 'string' },
      'jwt-secret': { type: 'string' },
      mongo: { type: 'string' },
      redis: { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      batch: { type: 'string', default: '100' },
      'dup-rate': { type: 'string', default: '0.02' },
      drop: { type: 'string', default: '0' },
      'drain-timeout': { type: 'string', default: '300' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      problems.push(`--${name} must be a number in [${min}, ${max}]`);
    return n;
  };
  const o: Options = {
    scale: num('scale', values.scale, 0.0001, 1),
    seed: values.seed,
    date: values.date ?? yesterdayInShanghai(),
    api: values.api?.replace(/\/+$/, ''),
    jwtSecret: values['jwt-secret'] ?? process.env['JWT_SECRET'],
    mongo: values.mongo,
    redis: values.redis,
    concurrency: num('concurrency', values.concurrency, 1, 1024),
    batch: num('batch', values.batch, 1, BEACON_BATCH_MAX_EVENTS),
    dupRate: num('dup-rate', values['dup-rate'], 0, 1),
    drop: num('drop', values.drop, 0, 1),
    drainTimeoutSec: num('drain-timeout', values['drain-timeout'], 1, 86_400),
    dryRun: values['dry-run'],
  };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.date) || Number.isNaN(Date.parse(`${o.date}T00:00:00+08:00`))) {
    problems.push('--date must be YYYY-MM-DD');
  }
  if (o.api && !o.jwtSecret) problems.push('--api needs --jwt-secret (or env JWT_SECRET) to sign tokens');
  if (problems.length > 0) {
    console.error(`${problems.join('\n')}\n\n${USAGE}`);
    process.exit(2);
  }
  return o;
}

// ————————————————————————————— seeded randomness —————————————————————————————

/** sfc32: small, fast, good enough for a simulation; seeded from a string through SHA-256. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma));
  }
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** Weighted choice in O(log n) over precomputed cumulative weights. */
class Weighted<T> {
  private readonly cum: Float64Array;
  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    this.cum = new Float64Array(items.length);
    let s = 0;
    for (let i = 0; i < items.length; i++) this.cum[i] = s += weights[i]!;
  }
  pick(rng: Rng): T {
    const x = rng.next() * this.cum[this.cum.length - 1]!;
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}

/** The account id of the teacher who previews in teacher session `i` (one teacher per session). */
const teacherAccount = (i: number) => `7eac${i.toString(16).padStart(20, '0')}`;

/** The `k`th school of a district (from 1), as profiles and events name it. */
const schoolOf = (district: string, k: number) => `${district}${String(k).padStart(3, '0')}`;

const zipf = (n: number, exponent: number) => Array.from({ length: n }, (_, k) => (k + 1) ** -exponent);

// ————————————————————————————— the city —————————————————————————————

/** The bureau's measured day at scale 1. */
const SHAPE = {
  students: 1_000_000,
  webViews: 1_353_000,
  tvViews: 938_000,
  /** Live lessons over WebRTC are new; a small share of the day. */
  liveViews: 20_000,
  lessons: 3_100,
  /** Teachers checking their own lessons: sent with a teacher token, never counted. */
  teacherSessions: 2_000,
};

const SUBJECTS: Record<Stage, readonly string[]> = {
  primary: ['语文', '数学', '英语', '自然', '道德与法治', '体育与健身', '音乐', '美术'],
  junior: ['语文', '数学', '英语', '物理', '化学', '历史', '地理', '道德与法治', '体育与健身'],
  senior: ['语文', '数学', '英语', '物理', '化学', '生物', '历史', '地理', '思想政治'],
};
/** City-wide lessons of the day (theme education), each filed under one grade as the api requires. */
const SPECIALS: readonly { title: string; grade: GradeId; subject: string }[] = [
  { title: '开学第一课：我们的城市', grade: 'p3', subject: '道德与法治' },
  { title: '居家锻炼：跟着冠军做早操', grade: 'p1', subject: '体育与健身' },
  { title: '心理健康：和焦虑做朋友', grade: 'j1', subject: '道德与法治' },
  { title: '安全教育：防疫小知识', grade: 'p5', subject: '自然' },
  { title: '科学探索：从一滴水开始', grade: 'j2', subject: '物理' },
  { title: '艺术欣赏：名画里的春天', grade: 's1', subject: '美术' },
];
/** Shanghai's 16 districts (administrative codes) with their share of students. */
const DISTRICTS: readonly [code: string, weight: number][] = [
  ['310115', 18],
  ['310112', 9],
  ['310113', 7],
  ['310114', 5],
  ['310117', 6],
  ['310104', 5],
  ['310110', 5],
  ['310107', 4],
  ['310106', 4],
  ['310120', 4],
  ['310118', 4],
  ['310101', 2.5],
  ['310105', 2.5],
  ['310109', 3],
  ['310116', 3],
  ['310151', 2],
];

interface SimLesson {
  /** Index in the catalogue; the api id once created. */
  index: number;
  id: string;
  title: string;
  grade: GradeId;
  subject: string;
  durationSec: number;
}

interface City {
  lessons: SimLesson[];
  specials: Weighted<SimLesson>;
  today: Map<GradeId, Weighted<SimLesson>>;
  library: Map<GradeId, Weighted<SimLesson>>;
  live: Map<Stage, Weighted<SimLesson>>;
  districts: Weighted<string>;
  schoolsPerDistrict: number;
}

/** Lessons and places; lesson ids are filled in once the api has created them. */
function buildCity(o: Options): City {
  const rng = new Rng(`${o.seed}:city`);
  const count = Math.max(120, Math.min(SHAPE.lessons, Math.round(SHAPE.lessons * o.scale * 100)));
  const lessons: SimLesson[] = SPECIALS.map((s, i) => ({
    index: i,
    id: '',
    ...s,
    durationSec: rng.int(20, 40) * 60,
  }));
  const perGrade = new Map<GradeId, SimLesson[]>(GRADE_IDS.map((g) => [g, []]));
  for (let i = lessons.length; i < count; i++) {
    const grade = GRADE_IDS[i % GRADE_IDS.length]!;
    const mine = perGrade.get(grade)!;
    const subjects = SUBJECTS[stageOf(grade)];
    const subject = subjects[mine.length % subjects.length]!;
    const lesson: SimLesson = {
      index: i,
      id: '',
      title: `${subject} 第${Math.floor(mine.length / subjects.length) + 1}课`,
      grade,
      subject,
      durationSec: rng.int(20, 45) * 60,
    };
    mine.push(lesson);
    lessons.push(lesson);
  }
  const today = new Map<GradeId, Weighted<SimLesson>>();
  const library = new Map<GradeId, Weighted<SimLesson>>();
  for (const [grade, mine] of perGrade) {
    // The first six of a grade air today (on TV and as the web's featured row); the rest is the library.
    const aired = mine.slice(0, 6);
    const rest = mine.slice(6);
    today.set(grade, new Weighted(aired, zipf(aired.length, 1)));
    // Library popularity: Zipf over a shuffled rank.
    const ranked = [...rest].sort(() => rng.next() - 0.5);
    library.set(grade, new Weighted(ranked, zipf(ranked.length, 1)));
  }
  const live = new Map<Stage, Weighted<SimLesson>>();
  for (const stage of ['primary', 'junior', 'senior'] as const) {
    const candidates = lessons.filter((l) => l.index >= SPECIALS.length && stageOf(l.grade) === stage);
    const two = candidates.slice(6, 8);
    live.set(stage, new Weighted(two, [2, 1]));
  }
  return {
    lessons,
    specials: new Weighted(lessons.slice(0, SPECIALS.length), zipf(SPECIALS.length, 0.8)),
    today,
    library,
    live,
    districts: new Weighted(
      DISTRICTS.map(([c]) => c),
      DISTRICTS.map(([, w]) => w),
    ),
    schoolsPerDistrict: Math.max(2, Math.round((SHAPE.students * o.scale) / 600 / DISTRICTS.length)),
  };
}

// ————————————————————————————— beacons —————————————————————————————

type BeaconBase = Omit<Extract<Beacon, { type: 'pause' }>, 'type'>;
type SimBeacon = Beacon;

interface Batch {
  events: SimBeacon[];
  /** Sent with this teacher's token (their account id): every event must be dropped as excluded. */
  teacher?: string;
}

// ————————————————————————————— ground truth —————————————————————————————

interface Tally {
  views: number;
  watchSec: number;
}
const tally = (): Tally => ({ views: 0, watchSec: 0 });

class Truth {
  readonly platform = new Map<Platform, Tally>(PLATFORMS.map((p) => [p, tally()]));
  readonly grade = new Map<string, Tally>();
  readonly subject = new Map<string, Tally>();
  readonly district = new Map<string, Tally>();
  readonly lesson = new Map<
    string,
    Tally & { uniques: number; starts: number; viewsBy: Record<Platform, number> }
  >();
  /**
   * Milliseconds played per retention bucket, by lesson: every heartbeat/end's span [position − watchedSec,
   * position] that carries the player's `duration` (the api's lesson records have none: no media was
   * transcoded, so live-webrtc events, which carry no duration, place nothing on the curve).
   */
  readonly retentionMs = new Map<string, Float64Array>();
  /** Viewers that sent anything, in all and per platform (the api’s definition of a unique viewer). */
  uniquesAny = 0;
  readonly uniquesAnyBy = new Map<Platform, number>(PLATFORMS.map((p) => [p, 0]));
  readonly school = new Map<string, Tally>();
  /** Watch time by the China-time hour of the heartbeat/end that reported it. */
  readonly watchByHour = new Map<string, number>();
  /** Views per China hour: those that must count there, and those that may (by read order). */
  readonly viewsByHour = new Map<string, { min: number; max: number }>();
  readonly stallMs = new Map<Platform, number>(PLATFORMS.map((p) => [p, 0]));
  readonly stalls = new Map<Platform, number>(PLATFORMS.map((p) => [p, 0]));
  /** Startup times per platform as a histogram of whole milliseconds (bounded memory at any scale). */
  readonly startupHist = new Map<Platform, Uint32Array>(PLATFORMS.map((p) => [p, new Uint32Array(600_001)]));
  readonly startupSum = new Map<Platform, number>(PLATFORMS.map((p) => [p, 0]));
  sessions = 0;
  bounces = 0;
  events = 0;
  eventsDropped = 0;
  teacherEvents = 0;
  /** Teacher events as posted: replayed batches count again (the api excludes every copy). */
  teacherEventsSent = 0;
  batches = 0;
  replayedBatches = 0;
  replayedEvents = 0;
  viewers = 0;

  total(): Tally {
    let views = 0;
    let watchSec = 0;
    for (const t of this.platform.values()) {
      views += t.views;
      watchSec += t.watchSec;
    }
    return { views, watchSec };
  }
}

/**
 * Adds the part of [fromSec, toSec] (clipped to the media) that falls in each retention bucket, in whole
 * milliseconds: durations, positions and watched seconds are whole seconds here, so a bucket is exactly
 * `durationSec × 10` ms wide and every part is whole ms (the walk goes bucket by bucket from the start).
 */
function addPlayed(ms: Float64Array, fromSec: number, toSec: number, durationSec: number): void {
  const width = durationSec * 10;
  const end = Math.min(toSec, durationSec) * 1000;
  let at = Math.max(0, Math.min(fromSec * 1000, end));
  while (at < end) {
    const i = Math.min(RETENTION_BUCKETS - 1, Math.floor(at / width));
    const next = i === RETENTION_BUCKETS - 1 ? end : Math.min(end, (i + 1) * width);
    ms[i]! += next - at;
    at = next;
  }
}

const bump = <K>(m: Map<K, Tally>, k: K, views: number, watchSec: number) => {
  let t = m.get(k);
  if (!t) m.set(k, (t = tally()));
  t.views += views;
  t.watchSec += watchSec;
};

// ————————————————————————————— the day —————————————————————————————

/** When sessions start (China-time hours): school-day web, evening TV, live lessons in class hours. */
const START_HOURS: Record<Platform, readonly [weight: number, mean: number, sd: number][]> = {
  web: [
    [0.2, 9.5, 1],
    [0.25, 14.5, 1.3],
    [0.2, 16.5, 1.2],
    [0.2, 20, 1.3],
    [0.15, 11, 1.5],
  ],
  tv: [
    [0.15, 9.5, 1.5],
    [0.1, 14, 1.5],
    [0.65, 19.7, 1.1],
    [0.1, 21.5, 0.8],
  ],
  'live-webrtc': [
    [0.6, 10, 0.4],
    [0.4, 14.5, 0.4],
  ],
};
const RENDITIONS = ['360p', '480p', '720p', '1080p'] as const;
const BITRATE: Record<(typeof RENDITIONS)[number], number> = {
  '360p': 800_000,
  '480p': 1_400_000,
  '720p': 2_800_000,
  '1080p': 5_000_000,
};
const HEARTBEAT_SEC = 30;

function startHour(rng: Rng, platform: Platform): number {
  const mix = START_HOURS[platform];
  let x = rng.next();
  for (const [w, mean, sd] of mix) {
    if ((x -= w) <= 0 || w === mix.at(-1)![0]) return Math.min(23.6, Math.max(6, rng.normal(mean, sd)));
  }
  return 12;
}

interface Viewer {
  index: number;
  id: string;
  grade: GradeId;
  district: string;
  school: string;
}

/**
 * Everything the generator needs while it walks the city's viewers, one at a time. Counters make the
 * ids unique per run (a fresh `runId`) and deterministic per seed.
 */
class DayGenerator {
  readonly truth = new Truth();
  private readonly rng: Rng;
  private readonly dropRng: Rng;
  private eventSeq = 0;
  private sessionSeq = 0;
  readonly dayStart: number;
  readonly dayEnd: number;
  private readonly runId: string;
  /** Views still to hand out per platform (so the day hits the shape exactly). */
  private left: Record<Platform, number>;

  constructor(
    private readonly o: Options,
    private readonly city: City,
    /** The stack's viewer ids: the ingest counts only events whose viewer id the platform signed. */
    private readonly viewers: Pick<ViewerIds, 'of'>,
  ) {
    this.rng = new Rng(`${o.seed}:viewers`);
    this.dropRng = new Rng(`${o.seed}:drop`);
    this.runId = randomBytes(4).toString('hex');
    this.dayStart = Date.parse(`${o.date}T00:00:00+08:00`);
    this.dayEnd = this.dayStart + 86_400_000;
    this.left = {
      web: Math.round(SHAPE.webViews * o.scale),
      tv: Math.round(SHAPE.tvViews * o.scale),
      'live-webrtc': Math.round(SHAPE.liveViews * o.scale),
    };
  }

  get students(): number {
    return Math.max(1, Math.round(SHAPE.students * this.o.scale));
  }

  private eventId(): string {
    return `e${this.runId}${(this.eventSeq++).toString(36).padStart(6, '0')}`;
  }

  private viewer(index: number): Viewer {
    const district = this.city.districts.pick(this.rng);
    const school = schoolOf(district, this.rng.int(1, this.city.schoolsPerDistrict));
    return {
      index,
      // As the api signs a viewer's id (POST /api/analytics/viewer): the same one for the same viewer.
      id: this.viewers.of(`sim:${this.o.seed}:${index}`),
      grade: GRADE_IDS[index % GRADE_IDS.length]!,
      district,
      school,
    };
  }

  private chooseLesson(v: Viewer, platform: Platform): SimLesson {
    const r = this.rng.next();
    const c = this.city;
    switch (platform) {
      case 'live-webrtc':
        return c.live.get(stageOf(v.grade))!.pick(this.rng);
      case 'tv':
        return r < 0.4 ? c.specials.pick(this.rng) : c.today.get(v.grade)!.pick(this.rng);
      case 'web': {
        if (r < 0.3) return c.specials.pick(this.rng);
        if (r < 0.75) return c.today.get(v.grade)!.pick(this.rng);
        // Catch-up from the library, now and then another grade's (a sibling, revision).
        const g = this.rng.chance(0.1) ? this.rng.pick(GRADE_IDS) : v.grade;
        return c.library.get(g)!.pick(this.rng);
      }
    }
  }

  /** How many seconds this session will play: early leavers, most-of-it, to the end. */
  private watchPlan(lesson: SimLesson, platform: Platform): number {
    const d = lesson.durationSec;
    const r = this.rng.next();
    if (platform === 'live-webrtc') return Math.round(d * (0.5 + 0.5 * this.rng.next()));
    if (r < 0.25) return this.rng.int(10, 300);
    if (r < 0.7) return Math.round(d * (0.6 + 0.4 * this.rng.next()));
    return d;
  }

  /**
   * One playback session's events, in time order, inside the simulated day. `watch` < 10 makes a bounce
   * (never a view). Returns the events and the seconds reported as watched.
   */
  private session(v: Viewer, lesson: SimLesson, platform: Platform, watch: number, teacher: boolean) {
    const rng = this.rng;
    const sessionId = `s${this.runId}${(this.sessionSeq++).toString(36).padStart(5, '0')}`;
    const isTv = platform === 'tv';
    let rendition: string = isTv ? '720p' : platform === 'live-webrtc' ? '720p' : rng.pick(RENDITIONS);
    let position = platform !== 'live-webrtc' && rng.chance(0.1) ? rng.int(0, lesson.durationSec >> 1) : 0;
    const events: SimBeacon[] = [];
    const base = (at: number): BeaconBase => ({
      eventId: this.eventId(),
      viewerId: v.id,
      sessionId,
      lessonId: lesson.id,
      platform,
      at,
      position,
      rendition,
      district: v.district,
      school: v.school,
      // The web client knows the student's own grade from the profile; the api must prefer the lesson's.
      ...(platform === 'web' ? { grade: v.grade } : {}),
      ...(platform === 'live-webrtc' ? { live: true } : { duration: lesson.durationSec }),
    });
    const startupMs = Math.min(
      30_000,
      Math.round(rng.logNormal(isTv ? 1800 : platform === 'live-webrtc' ? 600 : 800, 0.6)),
    );
    let t = 0; // ms since the session began
    events.push({ ...base(t), type: 'start', startupMs });
    t += startupMs;
    let played = 0;
    let sinceReport = 0;
    let reported = 0;
    let stallMs = 0;
    // Sessions closed without an `end` (tab killed, box switched off) lose their last partial window.
    const noEnd = watch >= 40 && rng.chance(0.08);
    const quality = isTv ? 0.005 : 0.04;
    // Plays until the planned watch time or the end of the media, whichever comes first.
    while (played < watch && position < lesson.durationSec) {
      // One heartbeat window: 30 s of the playing state, minus a stall now and then.
      const stall = rng.chance(isTv ? 0.04 : 0.02) ? rng.int(1, 8) : 0;
      const playable = HEARTBEAT_SEC - stall;
      const step = Math.min(playable, watch - played, lesson.durationSec - position);
      if (stall > 0 && step > 0) {
        events.push({ ...base(t + 2000), type: 'stall', durationMs: stall * 1000 });
        stallMs += stall * 1000;
      }
      if (rng.chance(quality) && step > 5) {
        const next = rng.pick(RENDITIONS.filter((r) => r !== rendition));
        rendition = next;
        events.push({ ...base(t + 4000), type: 'quality', rendition: next, bitrate: BITRATE[next] });
      }
      played += step;
      sinceReport += step;
      position = Math.min(lesson.durationSec, position + step);
      t += (step + (step < playable ? 0 : stall)) * 1000;
      if (played >= watch || position >= lesson.durationSec) break;
      events.push({ ...base(t), type: 'heartbeat', watchedSec: sinceReport });
      reported += sinceReport;
      sinceReport = 0;
      if (platform !== 'live-webrtc' && rng.chance(0.03)) {
        events.push({ ...base(t + 200), type: 'pause' });
        t += rng.int(10, 600) * 1000;
      }
      if (platform !== 'live-webrtc' && rng.chance(0.03)) {
        const from = position;
        position = Math.max(0, Math.min(lesson.durationSec - 1, position + rng.int(-120, 300)));
        events.push({ ...base(t + 500), type: 'seek', from });
      }
    }
    if (!noEnd) {
      events.push({ ...base(t), type: 'end', watchedSec: sinceReport });
      reported += sinceReport;
    }
    // Keep the whole session inside the simulated day.
    const start = this.dayStart + Math.round(startHour(rng, platform) * 3600_000);
    const shift = Math.min(start, this.dayEnd - 1000 - t);
    for (const e of events) e.at += shift;
    if (!teacher) {
      const t = this.truth;
      t.stallMs.set(platform, t.stallMs.get(platform)! + stallMs);
      t.stalls.set(platform, t.stalls.get(platform)! + events.filter((e) => e.type === 'stall').length);
      t.startupHist.get(platform)![startupMs]!++;
      t.startupSum.set(platform, t.startupSum.get(platform)! + startupMs);
      for (const e of events) {
        if (e.type === 'heartbeat' || e.type === 'end') {
          const h = beijingHour(e.at);
          t.watchByHour.set(h, (t.watchByHour.get(h) ?? 0) + e.watchedSec);
          if (e.duration !== undefined && e.watchedSec > 0) {
            let r = t.retentionMs.get(lesson.id);
            if (!r) t.retentionMs.set(lesson.id, (r = new Float64Array(RETENTION_BUCKETS)));
            addPlayed(r, e.position - e.watchedSec, e.position, e.duration);
          }
        }
      }
      // The view counts in the hour of the event that brings the session's watch time to 10 s in the
      // order the aggregator reads them: in time order that is one hour; out of order (a reversed or
      // overtaking batch) it can be the hour of any of its reporting events. Each hour gets the views
      // that must fall in it and those that may.
      const reporting = events.filter(
        (e) => (e.type === 'heartbeat' || e.type === 'end') && e.watchedSec > 0,
      );
      // `reported` is what those events carry in all: a view once it reaches 10 s
      if (reported >= VIEW_THRESHOLD_SEC) {
        const hours = new Set(reporting.map((e) => beijingHour(e.at)));
        for (const h of hours) {
          const b = t.viewsByHour.get(h) ?? { min: 0, max: 0 };
          b.max += 1;
          if (hours.size === 1) b.min += 1;
          t.viewsByHour.set(h, b);
        }
      }
    }
    return { events, reported };
  }

  /** The day, as batches of at most `--batch` events, one viewer's events per batch (as a device sends). */
  *batches(): Generator<Batch> {
    const o = this.o;
    const t = this.truth;
    const n = this.students;
    for (let i = 0; i < n; i++) {
      const v = this.viewer(i);
      const planned: [Platform, number][] = [];
      for (const p of PLATFORMS) {
        const remaining = n - i;
        const k =
          i === n - 1 ? this.left[p] : Math.min(this.left[p], this.rng.poisson(this.left[p] / remaining));
        this.left[p] -= k;
        if (k > 0) planned.push([p, k]);
      }
      const events: SimBeacon[] = [];
      const lessonsSeen = new Set<string>();
      const platformsAny = new Set<Platform>();
      const addSession = (lesson: SimLesson, p: Platform, watch: number) => {
        const s = this.session(v, lesson, p, watch, false);
        const isView = s.reported >= VIEW_THRESHOLD_SEC;
        t.sessions++;
        if (!isView) t.bounces++;
        platformsAny.add(p);
        const views = isView ? 1 : 0;
        bump(t.platform, p, views, s.reported);
        bump(t.grade, lesson.grade, views, s.reported);
        bump(t.subject, lesson.subject, views, s.reported);
        bump(t.district, v.district, views, s.reported);
        bump(t.school, v.school, views, s.reported);
        let lt = t.lesson.get(lesson.id);
        if (!lt) {
          const viewsBy = { web: 0, tv: 0, 'live-webrtc': 0 };
          t.lesson.set(lesson.id, (lt = { ...tally(), uniques: 0, starts: 0, viewsBy }));
        }
        lt.starts++;
        lt.views += views;
        lt.viewsBy[p] += views;
        lt.watchSec += s.reported;
        if (!lessonsSeen.has(lesson.id)) {
          lessonsSeen.add(lesson.id);
          lt.uniques++;
        }
        events.push(...s.events);
      };
      for (const [p, k] of planned) {
        for (let j = 0; j < k; j++) {
          const lesson = this.chooseLesson(v, p);
          // A bounce first now and then: opened, gone within 10 s (never a view).
          if (this.rng.chance(0.1)) addSession(lesson, p, this.rng.int(1, 9));
          addSession(lesson, p, this.watchPlan(lesson, p));
        }
      }
      // A few students only ever bounce.
      if (planned.length === 0 && this.rng.chance(0.05)) {
        addSession(this.chooseLesson(v, 'web'), 'web', this.rng.int(1, 9));
      }
      if (events.length === 0) continue;
      t.viewers++;
      t.uniquesAny++;
      for (const p of platformsAny) t.uniquesAnyBy.set(p, t.uniquesAnyBy.get(p)! + 1);
      events.sort((a, b) => a.at - b.at);
      yield* this.chunk(events, undefined, o.drop);
    }
    // Teachers previewing their own lessons: sent with a teacher token, excluded by the api.
    const teacherSessions = Math.max(3, Math.round(SHAPE.teacherSessions * o.scale));
    for (let i = 0; i < teacherSessions; i++) {
      const v = this.viewer(1_000_000_000 + i);
      const lesson = this.chooseLesson(v, 'web');
      const s = this.session(v, lesson, 'web', this.watchPlan(lesson, 'web'), true);
      t.teacherEvents += s.events.length;
      t.teacherEventsSent += s.events.length;
      // each session a teacher of their own (as many teachers as sessions, as on the city's day)
      yield* this.chunk(s.events, teacherAccount(i), 0);
    }
  }

  private *chunk(events: SimBeacon[], teacher: string | undefined, drop: number): Generator<Batch> {
    const t = this.truth;
    let kept = events;
    if (drop > 0) {
      kept = events.filter((e) => e.type !== 'heartbeat' || !this.dropRng.chance(drop));
      t.eventsDropped += events.length - kept.length;
    }
    for (let i = 0; i < kept.length; i += this.o.batch) {
      const slice = kept.slice(i, i + this.o.batch);
      // Batches arrive out of order now and then (a retry overtaking the next send).
      if (this.rng.chance(0.1)) slice.reverse();
      const batch: Batch = teacher !== undefined ? { events: slice, teacher } : { events: slice };
      if (teacher === undefined) t.events += slice.length;
      t.batches++;
      yield batch;
      if (this.rng.chance(this.o.dupRate)) {
        t.replayedBatches++;
        // The api answers `excluded` for every teacher batch it receives, a replay too (exclusion comes
        // before deduplication: nothing of a teacher's is stored to recognise it by).
        if (teacher !== undefined) t.teacherEventsSent += slice.length;
        else t.replayedEvents += slice.length;
        yield batch;
      }
    }
  }
}

// ————————————————————————————— the stack —————————————————————————————

/**
 * The aggregation worker runs as its own process (api/src/analytics-worker.ts, the api's env) with the
 * api's inline aggregator switched off, as in production.
 */
const WORKER_ENTRIES: readonly { name: string; file: string }[] = [
  { name: 'analytics-worker', file: 'api/src/analytics-worker.ts' },
];
/** Extra environment for the api and its workers. */
const STACK_ENV: Record<string, string> = {
  ANALYTICS_WORKER: 'off',
  ANALYTICS_CONSUMER: 'sim-aggregator-1',
  // Concurrency is counted on the wall clock of reception; a short window lets the settle check wait
  // 2 × 5 s rather than 2 × 30 s (the simulated players' own 30 s heartbeats are unaffected).
  ANALYTICS_HEARTBEAT_SEC: '5',
};

interface Stack {
  url: string;
  secret: string;
  /** Processes we started (api, aggregation worker), for the CPU figures. */
  processes: Managed[];
  /** Stops what we started; the logs are kept unless the run passed. */
  close(passed: boolean): Promise<void>;
}

const log = (msg: string) => console.log(`[simulate] ${msg}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startStack(o: Options): Promise<Stack> {
  if (o.api) return { url: o.api, secret: o.jwtSecret!, processes: [], close: async () => {} };
  const work = mkdtempSync(join(tmpdir(), 'sky-sim-'));
  const prefix = `sim${randomBytes(3).toString('hex')}`;
  let infra: LocalInfra | undefined;
  const processes: Managed[] = [];
  const close = async (passed: boolean) => {
    for (const p of processes.reverse()) await p.stop(15_000);
    await infra?.close();
    if (passed) rmSync(work, { recursive: true, force: true });
    else log(`logs kept in ${work}`);
  };
  try {
    let mongoUri: string;
    let redisUrl: string;
    if (o.mongo && o.redis) {
      mongoUri = `mongodb://${o.mongo}/${prefix}?replicaSet=rs0`;
      redisUrl = o.redis;
    } else {
      log('starting mongod and redis-server…');
      infra = await startLocalInfra({ cacheGb: 0.25 });
      mongoUri = o.mongo ? `mongodb://${o.mongo}/${prefix}?replicaSet=rs0` : infra.mongo.uriFor(prefix);
      redisUrl = o.redis ?? infra.redis.url;
    }
    const secret = randomBytes(24).toString('base64url');
    const port = await freePort();
    const mediaDir = join(work, 'media');
    mkdirSync(mediaDir, { recursive: true });
    const env = {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MONGODB_URI: mongoUri,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      JWT_SECRET: secret,
      MEDIA_DIR: mediaDir,
      LOG_LEVEL: 'warn',
      ...STACK_ENV,
    };
    const tsx = (file: string): [string, string[]] => [
      process.execPath,
      ['--import', 'tsx', join(ROOT, file)],
    ];
    processes.push(
      startProcess('api', ...tsx('api/src/main.ts'), { logFile: join(work, 'api.log'), cwd: ROOT, env }),
    );
    for (const entry of WORKER_ENTRIES) {
      processes.push(
        startProcess(entry.name, ...tsx(entry.file), {
          logFile: join(work, `${entry.name}.log`),
          cwd: ROOT,
          env,
        }),
      );
    }
    await waitForPort(port, 90_000);
    log(`api on http://127.0.0.1:${port} (database ${prefix}; logs in ${work})`);
    return { url: `http://127.0.0.1:${port}`, secret, processes, close };
  } catch (err) {
    await close(false);
    throw err;
  }
}

// ————————————————————————————— sending —————————————————————————————

/** Creates the catalogue through the api as a teacher, so grade/subject enrichment reads real lessons. */
async function createLessons(url: string, teacherToken: string, city: City, concurrency: number) {
  let next = 0;
  const worker = async () => {
    while (next < city.lessons.length) {
      const lesson = city.lessons[next++]!;
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${url}/api/lessons`, {
          method: 'POST',
          headers: { authorization: `Bearer ${teacherToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: lesson.title, grade: lesson.grade, subject: lesson.subject }),
        });
        if (res.status === 201) {
          lesson.id = ((await res.json()) as { id: string }).id;
          break;
        }
        if ((res.status === 429 || res.status >= 500) && attempt < 20) {
          await sleep(retryAfterMs(res, attempt));
          continue;
        }
        throw new Error(`creating lesson ${lesson.title}: HTTP ${res.status} ${await res.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** POST with retries on 429/5xx (Retry-After honoured); throws on any other answer than `ok`. */
async function postRetrying(url: string, token: string, body: unknown, ok: number, what: string) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === ok) return res;
    if ((res.status === 429 || res.status >= 500) && attempt < 20) {
      await sleep(retryAfterMs(res, attempt));
      continue;
    }
    throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  }
}

/**
 * The ingest counts only lessons a viewer can watch (published or live). No media is made here, so the
 * lessons are taught live (POST /api/lessons/:id/live, by their teacher): their records then carry no
 * duration, as before, and the retention the api computes comes from the players' `duration` alone.
 */
async function teachLive(url: string, teacherToken: string, city: City, concurrency: number) {
  let next = 0;
  const worker = async () => {
    while (next < city.lessons.length) {
      const lesson = city.lessons[next++]!;
      await postRetrying(`${url}/api/lessons/${lesson.id}/live`, teacherToken, undefined, 201, lesson.title);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * One student account per school, made by an admin, whose profile names its district and school: the
 * ingest counts only districts and schools that accounts' profiles name.
 */
async function createPlaces(url: string, adminToken: string, city: City, concurrency: number) {
  const run = randomBytes(3).toString('hex');
  const places = city.districts.items.flatMap((district) =>
    Array.from({ length: city.schoolsPerDistrict }, (_, k) => ({
      district,
      school: schoolOf(district, k + 1),
    })),
  );
  let next = 0;
  const worker = async () => {
    while (next < places.length) {
      const { district, school } = places[next++]!;
      await postRetrying(
        `${url}/api/users`,
        adminToken,
        {
          username: `sim-${run}-${school}`,
          password: randomBytes(12).toString('base64url'),
          displayName: `${school} 学生`,
          role: 'student',
          grade: 'p3',
          district,
          school,
        },
        201,
        `account of school ${school}`,
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return places.length;
}

function retryAfterMs(res: Response, attempt: number): number {
  const header = Number(res.headers.get('retry-after'));
  if (Number.isFinite(header) && header > 0) return header * 1000;
  return Math.min(5000, 100 * 2 ** attempt);
}

interface SendStats {
  requests: number;
  accepted: number;
  duplicates: number;
  excluded: number;
  retried429: number;
  retried503: number;
  networkErrors: number;
}

/**
 * `concurrency` clients pull batches from the (synchronous, lazy) generator and POST them, honouring
 * 429 Retry-After and retrying 503s and network errors with backoff, as the beacon client does.
 */
async function sendAll(
  url: string,
  batches: Iterator<Batch>,
  o: Options,
  tokens: ReturnType<typeof createTokenIssuer>,
) {
  // Each previewing teacher signs in with their own account (the rate limit counts per account).
  const teacherTokens = new Map<string, string>();
  const teacherToken = (sub: string) => {
    let token = teacherTokens.get(sub);
    if (token === undefined) teacherTokens.set(sub, (token = tokens.sign({ sub, role: 'teacher' })));
    return token;
  };
  const stats: SendStats = {
    requests: 0,
    accepted: 0,
    duplicates: 0,
    excluded: 0,
    retried429: 0,
    retried503: 0,
    networkErrors: 0,
  };
  const endpoint = `${url}/api/analytics/beacons`;
  let failure: Error | undefined;
  const post = async (batch: Batch): Promise<void> => {
    const body = JSON.stringify({ events: batch.events });
    if (Buffer.byteLength(body) > BEACON_BATCH_MAX_BYTES) {
      // As the beacon client does: split a batch that would be over the body limit.
      const half = batch.events.length >> 1;
      await post({ ...batch, events: batch.events.slice(0, half) });
      await post({ ...batch, events: batch.events.slice(half) });
      return;
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        stats.requests++;
        res = await fetch(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(batch.teacher !== undefined
              ? { authorization: `Bearer ${teacherToken(batch.teacher)}` }
              : {}),
          },
          body,
        });
      } catch (err) {
        stats.networkErrors++;
        if (attempt >= 30) throw err;
        await sleep(Math.min(5000, 100 * 2 ** attempt));
        continue;
      }
      if (res.status === 202 || res.status === 200) {
        const r = (await res.json()) as BeaconBatchResult;
        stats.accepted += r.accepted;
        stats.duplicates += r.duplicates;
        stats.excluded += r.excluded;
        return;
      }
      const text = await res.text();
      if ((res.status === 429 || res.status === 503) && attempt < 60) {
        if (res.status === 429) stats.retried429++;
        else stats.retried503++;
        await sleep(retryAfterMs(res, attempt));
        continue;
      }
      throw new Error(`POST ${endpoint}: HTTP ${res.status} ${text.slice(0, 500)}`);
    }
  };
  const client = async () => {
    while (!failure) {
      const r = batches.next();
      if (r.done) return;
      try {
        await post(r.value);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  if (failure) throw failure;
  return stats;
}

// ————————————————————————————— the check —————————————————————————————

/**
 * Uniques come from Redis HyperLogLog: standard error 0.81% for large sets, so ±3% is ≈3.7 σ. Small
 * sets (a lesson's few hundred viewers) are off by a few viewers in absolute terms — measured on this
 * redis-server: up to 4 at 121 and 5 at 200 distinct ids in 3,000 trials — hence at least ±5.
 */
const HLL_BOUND = 0.03;
const HLL_MIN_ABS = 5;

interface Row {
  figure: string;
  expected: number | string;
  actual: number | string;
  ok: boolean;
  note?: string;
}

/**
 * The China hour (UTC+8 all year, no daylight saving) of an instant, as `YYYY-MM-DDTHH`: the simulator's
 * own arithmetic, on purpose not the product's `chinaHour`, so a shared mistake cannot pass unseen.
 */
function beijingHour(ms: number): string {
  const local = Math.floor(ms / 1000) + 8 * 3600;
  const days = Math.floor(local / 86_400);
  const hour = Math.floor((local - days * 86_400) / 3600);
  // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${year}-${two(month)}-${two(day)}T${two(hour)}`;
}

/**
 * Figures the dashboard shows that this run does not compare with its ground truth (printed, by name).
 * Concurrency is counted by the api on the wall clock of reception (sessions heard from within
 * 2 × heartbeatSec); the replay squeezes the day into minutes, so the simulated day's concurrency never
 * happens on the api and only the replay's own is checked (it settles to 0; the peak is bounded).
 */
const NOT_CHECKED = [
  'concurrent viewers over the simulated day, and its peak and peak time (the api counts the replay’s wall clock)',
  'summary: lag behind the newest event (a wall-clock delay, not a count; the drain waits on the counts)',
];

class Check {
  readonly rows: Row[] = [];
  /** Rows folded into one line each (many hours, schools): how many matched, and the first misses. */
  readonly groups = new Map<string, { n: number; bad: Row[] }>();
  exact(figure: string, expected: number, actual: number | undefined, group?: string) {
    this.add({ figure, expected, actual: actual ?? 'missing', ok: actual === expected }, group);
  }
  near(
    figure: string,
    expected: number,
    actual: number | undefined,
    tolerance: number,
    note: string,
    group?: string,
  ) {
    const ok = actual !== undefined && Math.abs(actual - expected) <= tolerance;
    this.add({ figure, expected, actual: actual ?? 'missing', ok, note }, group);
  }
  /** A figure that cannot be known exactly, only bounded (shown as `lo–hi`). */
  between(figure: string, lo: number, hi: number, actual: number | undefined, note: string) {
    const ok = actual !== undefined && actual >= lo && actual <= hi;
    this.add({ figure, expected: `${fmt(lo)}–${fmt(hi)}`, actual: actual ?? 'missing', ok, note });
  }
  uniques(figure: string, expected: number, actual: number | undefined) {
    const ok =
      actual !== undefined && Math.abs(actual - expected) <= Math.max(HLL_MIN_ABS, expected * HLL_BOUND);
    const err =
      actual === undefined || expected === 0 ? '' : `${(((actual - expected) / expected) * 100).toFixed(2)}%`;
    this.add({ figure, expected, actual: actual ?? 'missing', ok, note: `HLL ±max(3%, 5) (${err})` });
  }
  /** A percentile the api interpolates inside its histogram bucket: it must land in the true value's bucket. */
  inBucket(figure: string, expected: number, actual: number | undefined, lo: number, hi: number) {
    const ok = actual !== undefined && actual >= lo && actual <= hi;
    this.add({ figure, expected, actual: actual ?? 'missing', ok, note: `in its bucket [${lo}, ${hi}] ms` });
  }
  same(figure: string, expected: string, actual: string | undefined) {
    this.add({ figure, expected, actual: actual ?? 'missing', ok: expected === actual });
  }
  add(row: Row, group?: string) {
    if (!group) {
      this.rows.push(row);
      return;
    }
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { n: 0, bad: [] }));
    g.n++;
    if (!row.ok) g.bad.push(row);
  }
  get failures(): number {
    return (
      this.rows.filter((r) => !r.ok).length + [...this.groups.values()].reduce((n, g) => n + g.bad.length, 0)
    );
  }
  print() {
    const show = (v: number | string) => (typeof v === 'number' ? fmt(v) : v);
    const w0 = Math.max(6, ...this.rows.map((r) => r.figure.length));
    const w1 = Math.max(8, ...this.rows.map((r) => show(r.expected).length));
    const w2 = Math.max(6, ...this.rows.map((r) => show(r.actual).length));
    console.log(`\n${'figure'.padEnd(w0)}  ${'expected'.padStart(w1)}  ${'actual'.padStart(w2)}  check`);
    console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(w2)}  -----`);
    for (const r of this.rows) {
      console.log(
        `${r.figure.padEnd(w0)}  ${show(r.expected).padStart(w1)}  ${show(r.actual).padStart(w2)}  ` +
          `${r.ok ? 'ok' : 'MISMATCH'}${r.note ? `  ${r.note}` : ''}`,
      );
    }
    for (const [name, g] of this.groups) {
      console.log(`${name}: ${g.n - g.bad.length}/${g.n} match${g.bad.length ? ' — MISMATCH:' : ''}`);
      for (const r of g.bad.slice(0, 10))
        console.log(`  ${r.figure}: expected ${show(r.expected)}, actual ${show(r.actual)}`);
    }
  }
}

/** The dashboard API as the bureau's analyst sees it. */
/**
 * The analyst's reads. Like the dashboard page, it waits out a 503 (no Mongo primary during an
 * election) or a 429 for as long as Retry-After says, up to 60 s, and throws on anything else.
 */
class Dashboard {
  /** Reads answered 503 or 429 and asked again. */
  waited = 0;
  constructor(
    private readonly url: string,
    private readonly token: string,
    readonly day: string,
  ) {}
  get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    const qs = new URLSearchParams({ from: this.day, to: this.day, ...query });
    return this.read<T>(`${path}?${qs.toString()}`);
  }
  summary = () => this.get<AnalyticsSummary>('summary');
  /** A path without the day range (retention is all time). */
  getPath<T>(path: string): Promise<T> {
    return this.read<T>(path);
  }
  private async read<T>(pathAndQuery: string): Promise<T> {
    const deadline = performance.now() + 60_000;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.url}/api/analytics/${pathAndQuery}`, {
        headers: { authorization: `Bearer ${this.token}` },
      });
      if (res.status === 200) return (await res.json()) as T;
      const body = await res.text();
      const wait = retryAfterMs(res, attempt);
      if ((res.status !== 503 && res.status !== 429) || performance.now() + wait > deadline)
        throw new Error(`GET /api/analytics/${pathAndQuery}: HTTP ${res.status} ${body}`);
      this.waited++;
      await sleep(wait);
    }
  }
}

/** The bucket [lo, hi) of STARTUP_BUCKETS_MS that holds `ms` (the api's percentiles interpolate inside it). */
function startupBucket(ms: number): [number, number] {
  let lo = 0;
  for (const hi of STARTUP_BUCKETS_MS) {
    if (ms < hi) return [lo, hi];
    lo = hi;
  }
  return [lo, Infinity];
}

function percentile(hist: Uint32Array, count: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  let seen = 0;
  for (let ms = 0; ms < hist.length; ms++) {
    seen += hist[ms]!;
    if (seen >= rank) return ms;
  }
  return NaN;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** The replay's wall clock: when sending began and when the last batch had been answered (epoch ms). */
interface RunClock {
  startMs: number;
  sentMs: number;
}

async function compare(d: Dashboard, t: Truth, city: City, stats: SendStats, run: RunClock): Promise<Check> {
  const c = new Check();
  const sum = await d.summary();
  for (const p of [...PLATFORMS, 'total'] as const) {
    const e = p === 'total' ? t.total() : t.platform.get(p)!;
    c.exact(`views ${p}`, e.views, sum.views[p]);
  }
  for (const p of [...PLATFORMS, 'total'] as const) {
    const e = p === 'total' ? t.total() : t.platform.get(p)!;
    c.exact(`watch time ${p} (s)`, e.watchSec, sum.watchSec[p]);
  }
  for (const p of [...PLATFORMS, 'total'] as const) {
    c.uniques(`unique viewers ${p}`, p === 'total' ? t.uniquesAny : t.uniquesAnyBy.get(p)!, sum.uniques[p]);
  }

  const byKey = (items: AnalyticsBreakdown['items']) => new Map(items.map((i) => [i.key, i]));
  for (const dim of ['platform', 'grade', 'subject', 'district'] as const) {
    const got = byKey((await d.get<AnalyticsBreakdown>('breakdown', { dim })).items);
    const want: Map<string, Tally> = dim === 'platform' ? t.platform : t[dim];
    const keys = [...want.keys()].sort();
    for (const k of keys) {
      const e = want.get(k)!;
      c.exact(
        `views ${dim}=${k}`,
        e.views,
        got.get(k)?.views.total,
        dim === 'district' ? 'breakdown by district (views)' : undefined,
      );
      c.exact(`watch ${dim}=${k}`, e.watchSec, got.get(k)?.watchSec, `breakdown by ${dim} (watch time)`);
    }
    const extra = [...got.keys()].filter(
      (k) => !want.has(k) && (got.get(k)!.views.total > 0 || got.get(k)!.watchSec > 0),
    );
    c.same(`breakdown by ${dim}: keys nobody sent`, 'none', extra.join(',') || 'none');
  }
  // District → school drill-down, for every district.
  for (const [district] of DISTRICTS) {
    const schools = byKey((await d.get<AnalyticsBreakdown>('breakdown', { dim: 'school', district })).items);
    const group = 'schools of each district (views, watch time)';
    for (const [k, e] of [...t.school].filter(([k]) => k.startsWith(district))) {
      c.exact(`views school=${k}`, e.views, schools.get(k)?.views.total, group);
      c.exact(`watch school=${k}`, e.watchSec, schools.get(k)?.watchSec, group);
    }
  }

  // Watch time per China hour (every heartbeat/end counts in the hour of its `at`).
  const series = await d.get<AnalyticsTimeseries>('timeseries');
  const points = new Map(series.points.map((p) => [p.t.slice(0, 13), p]));
  for (let h = 0; h < 24; h++) {
    const key = `${d.day}T${String(h).padStart(2, '0')}`;
    c.exact(
      `watch ${key}h`,
      t.watchByHour.get(key) ?? 0,
      points.get(key)?.watchSec ?? 0,
      'timeseries: watch time per hour',
    );
  }
  const seriesViews = series.points.reduce((n, p) => n + p.views.total, 0);
  c.exact('timeseries: views summed over the hours', t.total().views, seriesViews);
  // Each hour's views lie between those that must count there and those that may (see session()).
  for (let h = 0; h < 24; h++) {
    const key = `${d.day}T${String(h).padStart(2, '0')}`;
    const { min, max } = t.viewsByHour.get(key) ?? { min: 0, max: 0 };
    const got = points.get(key)?.views.total ?? 0;
    c.add(
      { figure: `views ${key}h`, expected: `${min}–${max}`, actual: got, ok: got >= min && got <= max },
      'timeseries: views per hour (within what must and may count there)',
    );
  }

  // Top lessons: the ranking and each lesson's figures.
  const top = (await d.get<AnalyticsTopLessons>('top-lessons', { limit: '10' })).items;
  const ranked = [...t.lesson.entries()].sort((a, b) => b[1].views - a[1].views);
  const titles = new Map(city.lessons.map((l) => [l.id, l]));
  for (let i = 0; i < 10 && i < ranked.length; i++) {
    const [id, e] = ranked[i]!;
    c.exact(`top ${i + 1} views`, e.views, top[i]?.views.total);
    const got = top.find((x) => x.lessonId === id);
    for (const p of PLATFORMS)
      c.exact(`top ${i + 1} views ${p}`, e.viewsBy[p], got?.views[p], 'top lessons: views per platform');
    c.same(`top ${i + 1} subject`, titles.get(id)!.subject, got?.subject);
    const name = titles.get(id)!.title;
    c.exact(`top ${i + 1} watch time (s)`, e.watchSec, got?.watchSec);
    c.uniques(`top ${i + 1} unique viewers`, e.uniques, got?.uniques);
    c.same(
      `top ${i + 1} lesson`,
      `${name} ${titles.get(id)!.grade}`,
      got ? `${got.title ?? '?'} ${got.grade}` : undefined,
    );
  }
  // Retention of every watched lesson: sessions (starts), the duration, and each bucket's count (ms played
  // there ÷ the bucket's length) and share (÷ sessions), both shown to 3 decimals, hence ±0.001.
  await forEachLimit([...t.lesson], 8, async ([id, e]) => {
    const r = await d.getPath<AnalyticsRetention>(`retention/${id}`);
    const played = t.retentionMs.get(id);
    const lesson = titles.get(id)!;
    c.exact(`retention ${id}: sessions`, e.starts, r.sessions, 'retention: sessions per lesson');
    c.exact(
      `retention ${id}: duration (s)`,
      played ? lesson.durationSec : -1,
      r.durationSec ?? -1,
      'retention: duration per lesson (-1: none)',
    );
    c.exact(`retention ${id}: buckets`, RETENTION_BUCKETS, r.counts.length, 'retention: buckets per lesson');
    const width = lesson.durationSec * 10;
    for (let i = 0; i < RETENTION_BUCKETS; i++) {
      const count = played ? Math.round((played[i]! / width) * 1000) / 1000 : 0;
      const share = Math.round((count / Math.max(e.starts, 1)) * 1000) / 1000;
      const tol = 0.001 + 1e-9;
      c.near(
        `retention ${id} count[${i}]`,
        count,
        r.counts[i],
        tol,
        '±0.001',
        'retention: count per bucket (±0.001)',
      );
      c.near(
        `retention ${id} share[${i}]`,
        share,
        r.share[i],
        tol,
        '±0.001',
        'retention: share per bucket (±0.001)',
      );
    }
  });

  // Quality per platform.
  const q = new Map((await d.get<AnalyticsQuality>('quality')).items.map((i) => [i.platform, i]));
  for (const p of PLATFORMS) {
    const got = q.get(p);
    const hist = t.startupHist.get(p)!;
    const starts = hist.reduce((n, x) => n + x, 0);
    c.exact(`startups ${p}`, starts, got?.startups);
    c.near(
      `startup avg ${p} (ms)`,
      Math.round(t.startupSum.get(p)! / Math.max(1, starts)),
      got?.startupAvgMs ?? undefined,
      1,
      '±1 ms (rounding)',
    );
    for (const pc of [50, 90] as const) {
      const exact = percentile(hist, starts, pc);
      const [lo, hi] = startupBucket(exact);
      const actual = pc === 50 ? got?.startupP50Ms : got?.startupP90Ms;
      c.inBucket(`startup p${pc} ${p} (ms)`, exact, actual ?? undefined, lo, hi);
    }
    c.exact(`stalls ${p}`, t.stalls.get(p)!, got?.stalls);
    c.exact(`stall time ${p} (ms)`, t.stallMs.get(p)!, got?.stallMs);
    const watch = t.platform.get(p)!.watchSec;
    const ratio = t.stallMs.get(p)! / (watch * 1000 + t.stallMs.get(p)! || 1);
    c.near(`rebuffer ratio ${p}`, Number(ratio.toFixed(6)), got?.rebufferRatio, 1e-6, '±1e-6');
  }

  // Concurrency, on the replay's wall clock: once every session has ended or been silent for
  // 2 × heartbeatSec (and the worker has sampled since), nobody is watching; the day's peak lies between
  // one session and every session sent, and was reached while the replay was sending.
  const settleAt = run.sentMs + 2 * sum.heartbeatSec * 1000 + 2500;
  if (Date.now() < settleAt) {
    log(`waiting ${secs(settleAt - Date.now())} for the live sessions to go silent (2 × heartbeatSec)`);
    await sleep(settleAt - Date.now());
  }
  const settled = await d.summary();
  for (const p of [...PLATFORMS, 'total'] as const) {
    c.exact(`concurrent now ${p} (after the replay)`, 0, settled.concurrentNow[p], 'concurrent now, settled');
  }
  c.between(
    'peak today (replay)',
    1,
    t.sessions,
    settled.peakToday.viewers,
    'wall clock: 1 ≤ peak ≤ sessions',
  );
  const peakAt = settled.peakToday.at === null ? NaN : Date.parse(settled.peakToday.at);
  c.same(
    'peak time within the send',
    'yes',
    peakAt >= run.startMs - 1000 && peakAt <= settleAt ? 'yes' : String(settled.peakToday.at),
  );

  // The ingest's own answers: every unique event accepted once, teachers' excluded, replays recognised.
  c.exact('ingest: events accepted', t.events, stats.accepted);
  c.exact('ingest: teacher events excluded (replays included)', t.teacherEventsSent, stats.excluded);
  if (stats.retried503 === 0 && stats.networkErrors === 0) {
    c.exact('ingest: replayed events recognised as duplicates', t.replayedEvents, stats.duplicates);
  } else {
    c.near(
      'ingest: duplicates (≥ replayed; 503 retries add)',
      t.replayedEvents,
      Math.min(stats.duplicates, t.replayedEvents),
      0,
      'retries',
    );
  }
  return c;
}

// ————————————————————————————— main —————————————————————————————

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 6 });
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function printShape(t: Truth, gen: DayGenerator) {
  const total = t.total();
  log(
    `day: ${fmt(gen.students)} students, ${fmt(t.viewers)} viewers, ${fmt(t.sessions)} sessions ` +
      `(${fmt(t.bounces)} under 10 s), ${fmt(total.views)} views ` +
      `(web ${fmt(t.platform.get('web')!.views)}, tv ${fmt(t.platform.get('tv')!.views)}, ` +
      `live-webrtc ${fmt(t.platform.get('live-webrtc')!.views)}), ` +
      `${fmt(Math.round(total.watchSec / 3600))} h watched; ${fmt(t.events)} events in ${fmt(t.batches)} batches ` +
      `(+${fmt(t.replayedBatches)} replayed, ${fmt(t.teacherEvents)} teacher events` +
      `${t.eventsDropped ? `, ${fmt(t.eventsDropped)} DROPPED (fault drill)` : ''})`,
  );
  const top = [...t.lesson.values()].sort((a, b) => b.views - a.views).slice(0, 5);
  log(`top lessons: ${top.map((v) => fmt(v.views)).join(', ')} views`);
}

/** The generator, with the time spent inside it measured (generation interleaves with sending). */
function timed<T>(it: Iterator<T>): Iterator<T> & { ms: number } {
  const wrapped = {
    ms: 0,
    next() {
      const t0 = performance.now();
      const r = it.next();
      wrapped.ms += performance.now() - t0;
      return r;
    },
  };
  return wrapped;
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  const city = buildCity(o);
  log(
    `scale ${o.scale}, seed "${o.seed}", day ${o.date} (Asia/Shanghai), ${fmt(city.lessons.length)} lessons`,
  );
  if (o.dryRun) {
    for (const l of city.lessons) l.id = l.index.toString(16).padStart(24, '0');
    const gen = new DayGenerator(o, city, createViewerIds(randomBytes(24).toString('base64url')));
    const t0 = performance.now();
    for (const _ of gen.batches());
    log(`generated in ${secs(performance.now() - t0)}`);
    printShape(gen.truth, gen);
    return 0;
  }
  const stack = await startStack(o);
  let ok = false;
  // Ctrl-C or a test's timeout: stop the api and infra we started before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void stack.close(false).finally(() => process.exit(130));
    });
  }
  try {
    const tokens = createTokenIssuer(stack.secret, 12 * 3600);
    const teacher = tokens.sign({ sub: 'feedfacefeedfacefeedface', role: 'teacher' });
    const analyst = tokens.sign({ sub: 'a11a11a11a11a11a11a11a11', role: 'analyst' });
    const admin = tokens.sign({ sub: 'ad0ad0ad0ad0ad0ad0ad0ad0', role: 'admin' });
    const dashboard = new Dashboard(stack.url, analyst, o.date);

    const before = await dashboard.summary();
    if (before.views.total > 0 || before.watchSec.total > 0) {
      throw new Error(
        `${o.date} already has ${before.views.total} views on ${stack.url}; pick an unused --date`,
      );
    }
    let t0 = performance.now();
    await createLessons(stack.url, teacher, city, 8);
    log(`created ${fmt(city.lessons.length)} lessons through the api in ${secs(performance.now() - t0)}`);
    t0 = performance.now();
    await teachLive(stack.url, teacher, city, 8);
    const places = await createPlaces(stack.url, admin, city, 4);
    log(
      `lessons taught live, ${fmt(places)} school accounts (their districts and schools) in ${secs(performance.now() - t0)}`,
    );

    const gen = new DayGenerator(o, city, createViewerIds(stack.secret));
    const batches = timed(gen.batches());
    t0 = performance.now();
    const startMs = Date.now();
    const progress = setInterval(() => {
      const t = gen.truth;
      log(
        `  … ${fmt(t.viewers)}/${fmt(gen.students)} students, ${fmt(t.events)} events, ${secs(performance.now() - t0)}`,
      );
    }, 10_000);
    let stats: SendStats;
    try {
      stats = await sendAll(stack.url, batches, o, tokens);
    } finally {
      clearInterval(progress);
    }
    const sendMs = performance.now() - t0;
    const sentMs = Date.now();
    printShape(gen.truth, gen);
    log(
      `generate ${secs(batches.ms)} (inside the send), send ${secs(sendMs)}: ${fmt(stats.requests)} requests, ` +
        `${fmt(Math.round(gen.truth.events / (sendMs / 1000)))} events/s, ${fmt(stats.retried429)} × 429, ` +
        `${fmt(stats.retried503)} × 503, ${fmt(stats.networkErrors)} network errors; simulator rss ` +
        `${fmt(Math.round(process.memoryUsage().rss / 2 ** 20))} MB`,
    );

    // Drain: until the rollups hold every view and second, or nothing has moved for a while.
    t0 = performance.now();
    const want = gen.truth.total();
    let last = '';
    let still = performance.now();
    for (;;) {
      const s = await dashboard.summary();
      if (s.views.total === want.views && s.watchSec.total === want.watchSec) break;
      const now = `${s.views.total}/${s.watchSec.total}`;
      if (now !== last) {
        last = now;
        still = performance.now();
      } else if (s.lagSec === 0 && performance.now() - still > 15_000) {
        log('the rollups stopped moving before they matched');
        break;
      }
      if (performance.now() - t0 > o.drainTimeoutSec * 1000) {
        log(`the rollups did not settle within ${o.drainTimeoutSec} s`);
        break;
      }
      await sleep(500);
    }
    log(
      `drain ${secs(performance.now() - t0)} (from the last batch sent until the rollups matched or stopped; ` +
        `${fmt(dashboard.waited)} dashboard reads asked again after a 503 or 429)`,
    );

    const check = await compare(dashboard, gen.truth, city, stats, { startMs, sentMs });
    check.print();
    log(
      'uniques: Redis HyperLogLog (standard error 0.81%); accepted within ±3% (≈3.7 σ) of the exact count, ' +
        'or ±5 viewers for small sets',
    );
    for (const figure of NOT_CHECKED) log(`not checked: ${figure}`);
    ok = check.failures === 0;
    log(ok ? 'PASS: every checked figure matches' : `FAIL: ${check.failures} figure(s) do not match`);
  } finally {
    await stack.close(ok);
  }
  return ok ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
