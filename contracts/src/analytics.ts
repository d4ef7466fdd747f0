// Viewing analytics (issue 7): beacon events, batches, and the bureau dashboard's query shapes.
import { z } from 'zod';
import { BEACON_BATCH_MAX_EVENTS, MAX_WATCHED_SEC } from './analytics-limits.js';
import { GradeId } from './grades.js';

/** What a player reports. */
export const BEACON_TYPES = ['start', 'heartbeat', 'pause', 'seek', 'stall', 'quality', 'end'] as const;
export const BeaconType = z.enum(BEACON_TYPES);
export type BeaconType = z.infer<typeof BeaconType>;

/** Where a session plays: live HLS in a browser is 'web' with `live: true`; WebRTC live is its own. */
export const PLATFORMS = ['web', 'tv', 'live-webrtc'] as const;
export const Platform = z.enum(PLATFORMS);
export type Platform = z.infer<typeof Platform>;

// The beacon limits and intervals are plain numbers of their own module (no zod), for players that send
// beacons before their schemas load (the web lesson page until its first frame).
export * from './analytics-limits.js';

/** Client-generated ids: event ids (idempotency), session ids, anonymised viewer ids. */
export const BeaconId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 characters of A-Z a-z 0-9 _ -');
/**
 * Districts and schools as the profile names them (海淀区, 第一实验小学): any text up to 64 characters
 * without control characters.
 */
export const BeaconPlace = z
  .string()
  .min(1)
  .max(64)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');
/** A lesson id (api ObjectId or a curriculum plan lesson id). */
export const BeaconRef = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 _ . : -');
const Seconds = z.number().min(0).max(86_400);

/** Fields every event carries. */
const BeaconBase = {
  /** Client-generated, unique per event: a resent event with the same id is counted once. */
  eventId: BeaconId,
  /**
   * The viewer, as a signed id the platform issued (AnalyticsViewer: POST /api/analytics/viewer; a paired
   * TV box gets its device's from the gateway). Unsigned or invented ids are refused. Never a user id or name.
   */
  viewerId: BeaconId,
  /** One playback session (one lesson opened in one player); new after `end`. */
  sessionId: BeaconId,
  lessonId: BeaconRef,
  platform: Platform,
  /** Client clock, epoch ms: decides the (China time) hour and day an event counts in. */
  at: z.number().int().min(0).max(8_640_000_000_000),
  /** Playback position in the media, seconds (for live: seconds since the lesson went live, or 0). */
  position: Seconds,
  /** Media duration in seconds when the player knows it (retention uses the lesson's when the api has it). */
  duration: z.number().positive().max(86_400).optional(),
  /** Current rendition, e.g. '720p'. */
  rendition: z.string().max(16).optional(),
  /** Dimensions; the api takes grade/subject from its own lesson record when it has one. */
  grade: GradeId.optional(),
  subject: z.string().min(1).max(32).optional(),
  district: BeaconPlace.optional(),
  school: BeaconPlace.optional(),
  live: z.boolean().optional(),
};

export const StartBeacon = z.strictObject({
  ...BeaconBase,
  type: z.literal('start'),
  /**
   * From play request to first frame. Absent when the session began on a video already playing (a live
   * channel moving on to its next programme): there was no start-up to measure, and a 0 would flatter
   * the platform's start-up figures.
   */
  startupMs: z.number().int().min(0).max(600_000).optional(),
});
export const HeartbeatBeacon = z.strictObject({
  ...BeaconBase,
  type: z.literal('heartbeat'),
  /** Seconds actually played since the previous start/heartbeat of this session (not wall time). */
  watchedSec: z.number().min(0).max(MAX_WATCHED_SEC),
});
export const PauseBeacon = z.strictObject({ ...BeaconBase, type: z.literal('pause') });
export const SeekBeacon = z.strictObject({
  ...BeaconBase,
  type: z.literal('seek'),
  /** Position before the seek; `position` is where it landed. */
  from: Seconds,
});
export const StallBeacon = z.strictObject({
  ...BeaconBase,
  type: z.literal('stall'),
  /** How long playback waited for data (rebuffering). */
  durationMs: z.number().int().min(0).max(3_600_000),
});
export const QualityBeacon = z.strictObject({
  ...BeaconBase,
  type: z.literal('quality'),
  rendition: z.string().min(1).max(16),
  bitrate: z.number().int().min(0).max(100_000_000).optional(),
});
export const EndBeacon = z.strictObject({
  ...BeaconBase,
  type: z.literal('end'),
  /** Seconds played since the last heartbeat. */
  watchedSec: z.number().min(0).max(MAX_WATCHED_SEC),
});

export const Beacon = z.discriminatedUnion('type', [
  StartBeacon,
  HeartbeatBeacon,
  PauseBeacon,
  SeekBeacon,
  StallBeacon,
  QualityBeacon,
  EndBeacon,
]);
export type Beacon = z.infer<typeof Beacon>;
export type StartBeacon = z.infer<typeof StartBeacon>;
export type HeartbeatBeacon = z.infer<typeof HeartbeatBeacon>;
export type StallBeacon = z.infer<typeof StallBeacon>;
export type EndBeacon = z.infer<typeof EndBeacon>;
/** What a client fills in; the library adds eventId and at. */
export type BeaconInput = Beacon extends infer B
  ? B extends Beacon
    ? Omit<B, 'eventId' | 'at'>
    : never
  : never;

/**
 * POST /api/analytics/viewer — public: the signed viewer id a player puts in every event's `viewerId`.
 * With a signed-in user's token it is that user's (the same id every time); without, a new anonymous one,
 * at most ANALYTICS_VIEWER_ISSUE_MAX per client address per window (429 past it): keep it (localStorage)
 * rather than ask again. A TV box asks its gateway (`api/analytics/viewer`), which answers for a paired box
 * with its device's id.
 */
export const AnalyticsViewer = z.object({ viewerId: BeaconId });
export type AnalyticsViewer = z.infer<typeof AnalyticsViewer>;

/**
 * POST /api/analytics/beacons — public (TV boxes and navigator.sendBeacon cannot set headers), body
 * as application/json or text/plain (sendBeacon) holding this JSON. A signed-in web client should add
 * its access token (`Authorization: Bearer …`, or `accessToken` in the body with sendBeacon, which sets no
 * headers; never in the URL, which proxies and logs keep): events sent with a
 * teacher's or admin's token are dropped as `excluded` (teachers' own views do not count). An invalid
 * or expired token is ignored (the events count as anonymous).
 *
 * What counts: events whose `viewerId` is a signed viewer id (else 400 at `events.N.viewerId`), of a
 * lesson that exists and is published or taught live (an api lesson, or a lesson of the curriculum's
 * plan; else 400 at `events.N.lessonId`), with a `district`/`school` that some account's profile names
 * (else 400 at that field). Each viewer opens at most ANALYTICS_VIEWER_SESSIONS_MAX sessions per window:
 * events of further sessions are answered as `excluded`, not counted.
 *
 * Answers: 202 BeaconBatchResult; 400 problem+json whose `errors[].path` names the field
 * (`events.3.position`); 413 over BEACON_BATCH_MAX_EVENTS events or BEACON_BATCH_MAX_BYTES bytes (split
 * the batch); 429 with Retry-After (per signed-in user, else per signed viewer id); 503 with Retry-After
 * when the event store (or the curriculum, asked about a plan lesson) is down (DEPENDENCY_DOWN) or while
 * the events not yet counted are at their cap (OVERLOADED: nothing of the batch was taken). Retry
 * 429/503/network errors with the same event ids (they are deduplicated).
 */
export const BeaconBatch = z.strictObject({
  events: z.array(Beacon).min(1).max(BEACON_BATCH_MAX_EVENTS),
  /** sendBeacon's stand-in for the Authorization header. */
  accessToken: z.string().max(4096).optional(),
});
export type BeaconBatch = z.infer<typeof BeaconBatch>;

export const BeaconBatchResult = z.object({
  /** Events stored for counting. */
  accepted: z.number().int(),
  /** Events whose eventId was seen before (a retry): not counted again. */
  duplicates: z.number().int(),
  /** Events not counted: sent with a teacher's/admin's token, or past the viewer's session budget. */
  excluded: z.number().int(),
  /** The heartbeat interval the client must use from now on (raised under load). */
  heartbeatSec: z.number().int().positive(),
});
export type BeaconBatchResult = z.infer<typeof BeaconBatchResult>;

// ---------------------------------------------------------------- dashboard (roles analyst, admin)

/** A China-time (Asia/Shanghai, UTC+8) calendar day. */
export const AnalyticsDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00+08:00`)), 'must be a real date');
export const ANALYTICS_LANGS = ['zh-CN', 'en'] as const;
export const AnalyticsLang = z.enum(ANALYTICS_LANGS);
export type AnalyticsLang = z.infer<typeof AnalyticsLang>;

/**
 * Every dashboard GET takes `from` and `to` (inclusive China days, default today, at most 366 days) and
 * `format=csv` for a CSV download (UTF-8 with BOM; headers in Chinese when `lang=zh-CN` or
 * Accept-Language prefers zh; `.csv` on the path works too, e.g. /api/analytics/top-lessons.csv).
 */
export const AnalyticsRangeQuery = z.strictObject({
  from: AnalyticsDay.optional(),
  to: AnalyticsDay.optional(),
  format: z.enum(['json', 'csv']).optional(),
  lang: AnalyticsLang.optional(),
});
export type AnalyticsRangeQuery = z.infer<typeof AnalyticsRangeQuery>;

export const TopLessonsQuery = AnalyticsRangeQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(10),
});
export type TopLessonsQuery = z.infer<typeof TopLessonsQuery>;

export const BREAKDOWN_DIMS = ['grade', 'subject', 'platform', 'district', 'school'] as const;
export const BreakdownDim = z.enum(BREAKDOWN_DIMS);
export type BreakdownDim = z.infer<typeof BreakdownDim>;
/** `district` with dim=school: drill down into one district's schools. */
export const BreakdownQuery = AnalyticsRangeQuery.extend({
  dim: BreakdownDim,
  district: BeaconPlace.optional(),
});
export type BreakdownQuery = z.infer<typeof BreakdownQuery>;

export const RetentionParams = z.strictObject({ lessonId: BeaconRef });
export const RetentionQuery = z.strictObject({
  format: z.enum(['json', 'csv']).optional(),
  lang: AnalyticsLang.optional(),
});

/** Numbers per platform, with their total. */
export const PerPlatform = z.object({
  web: z.number(),
  tv: z.number(),
  'live-webrtc': z.number(),
  total: z.number(),
});
export type PerPlatform = z.infer<typeof PerPlatform>;

/** GET /api/analytics/summary */
export const AnalyticsSummary = z.object({
  from: z.string(),
  to: z.string(),
  views: PerPlatform,
  /** Sum of heartbeat/end watchedSec (each rounded to whole milliseconds, so sums are exact). */
  watchSec: PerPlatform,
  /** Distinct viewerIds with any event in the range (HyperLogLog: ±0.81% standard error). */
  uniques: PerPlatform,
  /** Sessions whose last heartbeat is within 2 × heartbeatSec of now. */
  concurrentNow: PerPlatform,
  /** The highest concurrentNow sampled today (China day), and when (ISO time). */
  peakToday: z.object({ viewers: z.number(), at: z.string().nullable() }),
  heartbeatSec: z.number(),
  /** How far behind the rollups are: seconds since the oldest event not yet in them arrived (0 when none waits). */
  lagSec: z.number(),
  generatedAt: z.string(),
});
export type AnalyticsSummary = z.infer<typeof AnalyticsSummary>;

/**
 * GET /api/lessons/:id/live/audience (the lesson's teacher, admins, analysts): the lesson's sessions
 * heard from (start or heartbeat, no end since) within 2 × heartbeatSec of `at`, by way of watching —
 * concurrentNow for one lesson. Teachers' and admins' own sessions are not counted.
 */
export const LessonAudience = z.object({
  lessonId: z.string(),
  /** Students in the WebRTC room (platform 'live-webrtc'). */
  webrtc: z.number().int(),
  /** Browsers on the live HLS (platform 'web'). */
  web: z.number().int(),
  /** Set-top boxes (platform 'tv'). */
  tv: z.number().int(),
  total: z.number().int(),
  /** When counted (ISO time). */
  at: z.string(),
});
export type LessonAudience = z.infer<typeof LessonAudience>;

/** GET /api/analytics/timeseries: one point per China hour in the range (zeros included). */
export const AnalyticsTimeseries = z.object({
  from: z.string(),
  to: z.string(),
  bucket: z.literal('hour'),
  points: z.array(
    z.object({
      /** Start of the hour, ISO with +08:00 (e.g. 2026-03-02T19:00:00+08:00). */
      t: z.string(),
      views: PerPlatform,
      watchSec: z.number(),
    }),
  ),
});
export type AnalyticsTimeseries = z.infer<typeof AnalyticsTimeseries>;

export const TopLesson = z.object({
  lessonId: z.string(),
  /** From the api's lesson record when known (else absent). */
  title: z.string().optional(),
  grade: z.string(),
  subject: z.string(),
  views: PerPlatform,
  watchSec: z.number(),
  /** Distinct viewers of the lesson over the range (HyperLogLog). */
  uniques: z.number(),
});
export type TopLesson = z.infer<typeof TopLesson>;
/** GET /api/analytics/top-lessons: by total views, descending. */
export const AnalyticsTopLessons = z.object({ from: z.string(), to: z.string(), items: z.array(TopLesson) });
export type AnalyticsTopLessons = z.infer<typeof AnalyticsTopLessons>;

/** GET /api/analytics/breakdown: views and watch time per value of one dimension ('unknown' when absent). */
export const AnalyticsBreakdown = z.object({
  from: z.string(),
  to: z.string(),
  dim: BreakdownDim,
  district: z.string().optional(),
  items: z.array(z.object({ key: z.string(), views: PerPlatform, watchSec: z.number() })),
});
export type AnalyticsBreakdown = z.infer<typeof AnalyticsBreakdown>;

/**
 * GET /api/analytics/retention/:lessonId (all time): the audience at each point of the lesson.
 * counts[i] = seconds played inside bucket i (position i% … (i+1)% of the duration, taken from each
 * heartbeat/end as the span [position − watchedSec, position]) ÷ the bucket's length, i.e. how many
 * sessions played that part in full (re-watching counts again); `sessions` = start events of the lesson.
 */
export const AnalyticsRetention = z.object({
  lessonId: z.string(),
  title: z.string().optional(),
  /** The lesson's duration (the api's record, else the players' `duration`); null: no curve. */
  durationSec: z.number().nullable(),
  sessions: z.number(),
  /** RETENTION_BUCKETS numbers (3 decimals). */
  counts: z.array(z.number()),
  /** counts[i] / max(sessions, 1) (3 decimals; above 1 when parts were re-watched). */
  share: z.array(z.number()),
});
export type AnalyticsRetention = z.infer<typeof AnalyticsRetention>;

/** GET /api/analytics/quality: per platform over the range. */
export const AnalyticsQuality = z.object({
  from: z.string(),
  to: z.string(),
  items: z.array(
    z.object({
      platform: Platform,
      startups: z.number(),
      startupAvgMs: z.number().nullable(),
      /** From a histogram (STARTUP_BUCKETS_MS), interpolated within the bucket. */
      startupP50Ms: z.number().nullable(),
      startupP90Ms: z.number().nullable(),
      stalls: z.number(),
      stallMs: z.number(),
      watchSec: z.number(),
      /** stallMs / (watchSec × 1000 + stallMs); 0 when nothing was watched. */
      rebufferRatio: z.number(),
    }),
  ),
});
export type AnalyticsQuality = z.infer<typeof AnalyticsQuality>;

/** Upper bounds of the startup-time histogram buckets (the last bucket is open). */
export const STARTUP_BUCKETS_MS = [
  100, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 20000, 30000,
] as const;

/** CSV tables: the same columns as the JSON rows, headers in both languages. */
export interface CsvColumn {
  key: string;
  zh: string;
  en: string;
}
export const ANALYTICS_CSV_COLUMNS = {
  timeseries: [
    { key: 't', zh: '时间', en: 'Hour' },
    { key: 'web', zh: '网页观看次数', en: 'Web views' },
    { key: 'tv', zh: '电视观看次数', en: 'TV views' },
    { key: 'live-webrtc', zh: '直播互动观看次数', en: 'Live (WebRTC) views' },
    { key: 'total', zh: '观看次数合计', en: 'Total views' },
    { key: 'watchSec', zh: '观看时长（秒）', en: 'Watch time (s)' },
  ],
  'top-lessons': [
    { key: 'rank', zh: '排名', en: 'Rank' },
    { key: 'lessonId', zh: '课程编号', en: 'Lesson id' },
    { key: 'title', zh: '课程名称', en: 'Title' },
    { key: 'grade', zh: '年级', en: 'Grade' },
    { key: 'subject', zh: '学科', en: 'Subject' },
    { key: 'web', zh: '网页观看次数', en: 'Web views' },
    { key: 'tv', zh: '电视观看次数', en: 'TV views' },
    { key: 'live-webrtc', zh: '直播互动观看次数', en: 'Live (WebRTC) views' },
    { key: 'total', zh: '观看次数合计', en: 'Total views' },
    { key: 'uniques', zh: '独立观众数', en: 'Unique viewers' },
    { key: 'watchSec', zh: '观看时长（秒）', en: 'Watch time (s)' },
  ],
  // the first column is named after the breakdown's dimension (analyticsCsvColumns)
  breakdown: [
    { key: 'key', zh: '分类', en: 'Category' },
    { key: 'web', zh: '网页观看次数', en: 'Web views' },
    { key: 'tv', zh: '电视观看次数', en: 'TV views' },
    { key: 'live-webrtc', zh: '直播互动观看次数', en: 'Live (WebRTC) views' },
    { key: 'total', zh: '观看次数合计', en: 'Total views' },
    { key: 'watchSec', zh: '观看时长（秒）', en: 'Watch time (s)' },
  ],
  retention: [
    { key: 'bucket', zh: '进度（%）', en: 'Position (%)' },
    { key: 'count', zh: '观看会话数', en: 'Sessions' },
    { key: 'share', zh: '留存率', en: 'Retention' },
  ],
  quality: [
    { key: 'platform', zh: '平台', en: 'Platform' },
    { key: 'startups', zh: '起播次数', en: 'Starts' },
    { key: 'startupAvgMs', zh: '平均起播时间（毫秒）', en: 'Avg startup (ms)' },
    { key: 'startupP50Ms', zh: '起播时间中位数（毫秒）', en: 'Startup p50 (ms)' },
    { key: 'startupP90Ms', zh: '起播时间P90（毫秒）', en: 'Startup p90 (ms)' },
    { key: 'stalls', zh: '卡顿次数', en: 'Stalls' },
    { key: 'stallMs', zh: '卡顿时长（毫秒）', en: 'Stall time (ms)' },
    { key: 'rebufferRatio', zh: '卡顿率', en: 'Rebuffer ratio' },
  ],
  summary: [
    { key: 'metric', zh: '指标', en: 'Metric' },
    { key: 'web', zh: '网页', en: 'Web' },
    { key: 'tv', zh: '电视', en: 'TV' },
    { key: 'live-webrtc', zh: '直播互动', en: 'Live (WebRTC)' },
    { key: 'total', zh: '合计', en: 'Total' },
  ],
} as const satisfies Record<string, readonly CsvColumn[]>;
export type AnalyticsTable = keyof typeof ANALYTICS_CSV_COLUMNS;

/** What a breakdown's rows are, as its CSV's first column says. */
export const BREAKDOWN_KEY_COLUMN: Record<BreakdownDim, CsvColumn> = {
  grade: { key: 'key', zh: '年级', en: 'Grade' },
  subject: { key: 'key', zh: '学科', en: 'Subject' },
  platform: { key: 'key', zh: '平台', en: 'Platform' },
  district: { key: 'key', zh: '区', en: 'District' },
  school: { key: 'key', zh: '学校', en: 'School' },
};

/** A table's CSV columns; a breakdown's first one names its dimension (年级, 学科, 区, 学校). */
export function analyticsCsvColumns(table: AnalyticsTable, dim?: BreakdownDim): readonly CsvColumn[] {
  const cols: readonly CsvColumn[] = ANALYTICS_CSV_COLUMNS[table];
  return table === 'breakdown' && dim ? [BREAKDOWN_KEY_COLUMN[dim], ...cols.slice(1)] : cols;
}

/** The file a table's CSV is saved as: `breakdown-grade.csv`, `top-lessons.csv`. */
export function analyticsCsvName(table: AnalyticsTable, dim?: BreakdownDim): string {
  return table === 'breakdown' && dim ? `${table}-${dim}` : table;
}

/** China-time day (YYYY-MM-DD) of an epoch-ms instant. */
export function chinaDay(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
}
/** China-time hour key (YYYY-MM-DDTHH) of an epoch-ms instant. */
export function chinaHour(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 13);
}
