import {
  AppError,
  chinaDay,
  GRADE_NAMES,
  PLATFORMS,
  RETENTION_BUCKETS,
  STARTUP_BUCKETS_MS,
  type AnalyticsBreakdown,
  type AnalyticsLang,
  type AnalyticsQuality,
  type AnalyticsRetention,
  type AnalyticsSummary,
  type AnalyticsTimeseries,
  type AnalyticsTopLessons,
  type BreakdownDim,
  type PerPlatform,
  type Platform,
} from '@sky/contracts';
import type { AnalyticsRedis } from '../adapters/analytics.redis.js';
import type { AnalyticsRepository, RollupDoc } from '../adapters/analytics.repository.js';
import type { CsvRow } from './analytics.csv.js';

const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

export interface Range {
  from: string;
  to: string;
  days: string[];
}

/** Inclusive China-day range, today by default; a reversed or too long range is a 400 on the field. */
export function dayRange(from: string | undefined, to: string | undefined, now = Date.now()): Range {
  const today = chinaDay(now);
  const f = from ?? to ?? today;
  const t = to ?? (from ? today : today);
  const start = Date.parse(`${f}T00:00:00Z`);
  const end = Date.parse(`${t}T00:00:00Z`);
  if (end < start) {
    throw new AppError('VALIDATION_FAILED', 'querystring.to: must not be before from', {
      errors: [{ path: 'querystring.to', message: 'must not be before from' }],
    });
  }
  const n = Math.round((end - start) / DAY_MS) + 1;
  if (n > MAX_RANGE_DAYS) {
    throw new AppError('VALIDATION_FAILED', `querystring.to: at most ${MAX_RANGE_DAYS} days`, {
      errors: [{ path: 'querystring.to', message: `at most ${MAX_RANGE_DAYS} days from from` }],
    });
  }
  const days = Array.from({ length: n }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
  return { from: f, to: t, days };
}

const zero = (): PerPlatform => ({ web: 0, tv: 0, 'live-webrtc': 0, total: 0 });
const sec = (ms: number) => Math.round(ms) / 1000;
const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const field = (doc: RollupDoc, path: string): number => {
  let v: unknown = doc;
  for (const k of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
  return num(v);
};
const isPlatform = (p: unknown): p is Platform =>
  typeof p === 'string' && (PLATFORMS as readonly string[]).includes(p);

function addTo(pp: PerPlatform, p: Platform, n: number) {
  pp[p] += n;
  pp.total += n;
}

/** Percentile from histogram counts, interpolated inside its bucket (the open bucket reports its floor). */
export function histogramPercentile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const target = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && seen + c >= target) {
      const lo = i === 0 ? 0 : STARTUP_BUCKETS_MS[i - 1]!;
      const hi = STARTUP_BUCKETS_MS[i];
      if (hi === undefined) return lo;
      return Math.round(lo + ((target - seen) / c) * (hi - lo));
    }
    seen += c;
  }
  return STARTUP_BUCKETS_MS.at(-1)!;
}

/** The bureau dashboard's numbers, read from the rollups (Mongo) and the uniques/live sets (Redis). */
export class AnalyticsQueryService {
  constructor(
    private readonly repo: AnalyticsRepository,
    private readonly redis: AnalyticsRedis,
    /** consumers: each stream shard's aggregator (its checkpoint), by shard. */
    private readonly opts: { heartbeatSec: () => number; consumers: readonly string[] },
  ) {}

  async summary(r: Range, now = Date.now()): Promise<AnalyticsSummary> {
    const k = this.redis.keys;
    const [docs, uniq, live, peak, oldest] = await Promise.all([
      this.repo.byDays('city_day', r.from, r.to),
      this.redis.uniques([
        r.days.map((d) => k.uniques(d, 'all')),
        ...PLATFORMS.map((p) => r.days.map((d) => k.uniques(d, p))),
      ]),
      this.redis.liveCounts(now - 2 * this.opts.heartbeatSec() * 1000),
      this.repo.peak(chinaDay(now)),
      this.repo.appliedUpTo(this.opts.consumers).then((applied) => this.redis.oldestUnapplied(applied)),
    ]);
    const views = zero();
    const watch = zero();
    for (const d of docs) {
      if (!isPlatform(d['platform'])) continue;
      addTo(views, d['platform'], num(d['v']));
      addTo(watch, d['platform'], num(d['w']));
    }
    const uniques: PerPlatform = {
      total: uniq[0] ?? 0,
      web: uniq[1] ?? 0,
      tv: uniq[2] ?? 0,
      'live-webrtc': uniq[3] ?? 0,
    };
    // How long the oldest event not yet in the rollups has waited.
    const lagSec = oldest === null ? 0 : Math.max(0, (now - oldest) / 1000);
    return {
      from: r.from,
      to: r.to,
      views,
      watchSec: {
        web: sec(watch.web),
        tv: sec(watch.tv),
        'live-webrtc': sec(watch['live-webrtc']),
        total: sec(watch.total),
      },
      uniques,
      concurrentNow: { web: live.web, tv: live.tv, 'live-webrtc': live['live-webrtc'], total: live.all },
      peakToday: { viewers: Math.max(peak.viewers, live.all), at: peak.at ? peak.at.toISOString() : null },
      heartbeatSec: this.opts.heartbeatSec(),
      lagSec: Math.round(lagSec * 10) / 10,
      generatedAt: new Date(now).toISOString(),
    };
  }

  async timeseries(r: Range): Promise<AnalyticsTimeseries> {
    const docs = await this.repo.byDays('city_hour', r.from, r.to);
    const byHour = new Map<string, { views: PerPlatform; w: number }>();
    for (const d of docs) {
      if (!isPlatform(d['platform']) || typeof d['hour'] !== 'string') continue;
      let h = byHour.get(d['hour']);
      if (!h) byHour.set(d['hour'], (h = { views: zero(), w: 0 }));
      addTo(h.views, d['platform'], num(d['v']));
      h.w += num(d['w']);
    }
    const points = r.days.flatMap((day) =>
      Array.from({ length: 24 }, (_, i) => {
        const hour = `${day}T${String(i).padStart(2, '0')}`;
        const h = byHour.get(hour);
        return { t: `${hour}:00:00+08:00`, views: h?.views ?? zero(), watchSec: sec(h?.w ?? 0) };
      }),
    );
    return { from: r.from, to: r.to, bucket: 'hour', points };
  }

  async topLessons(r: Range, limit: number): Promise<AnalyticsTopLessons> {
    const rows = await this.repo.topLessons(r.from, r.to, limit);
    const ids = rows.map((d) => d._id);
    const k = this.redis.keys;
    const [meta, uniq] = await Promise.all([
      this.repo.lessons(ids),
      this.redis.uniques(ids.map((id) => r.days.map((d) => k.uniques(d, { lesson: id })))),
    ]);
    const items = rows.map((d, i) => {
      const m = meta.get(d._id);
      const web = num(d['vweb']);
      const tv = num(d['vtv']);
      const rtc = num(d['vrtc']);
      return {
        lessonId: d._id,
        ...(m?.title === undefined ? {} : { title: m.title }),
        grade: m?.grade ?? (typeof d['grade'] === 'string' ? d['grade'] : 'unknown'),
        subject: m?.subject ?? (typeof d['subject'] === 'string' ? d['subject'] : 'unknown'),
        views: { web, tv, 'live-webrtc': rtc, total: web + tv + rtc },
        watchSec: sec(num(d['wweb']) + num(d['wtv']) + num(d['wrtc'])),
        uniques: uniq[i] ?? 0,
      };
    });
    return { from: r.from, to: r.to, items };
  }

  async breakdown(r: Range, dim: BreakdownDim, district?: string): Promise<AnalyticsBreakdown> {
    const area = dim === 'district' || dim === 'school';
    const extra: Record<string, string> = dim === 'school' && district ? { district } : {};
    const docs = await this.repo.byDays(area ? 'area_day' : 'dim_day', r.from, r.to, extra);
    const by = new Map<string, { views: PerPlatform; w: number }>();
    for (const d of docs) {
      if (!isPlatform(d['platform'])) continue;
      const v = d[dim];
      const key = typeof v === 'string' ? v : 'unknown';
      let g = by.get(key);
      if (!g) by.set(key, (g = { views: zero(), w: 0 }));
      addTo(g.views, d['platform'], num(d['v']));
      g.w += num(d['w']);
    }
    const items = [...by]
      .map(([key, g]) => ({ key, views: g.views, watchSec: sec(g.w) }))
      .sort((a, b) => b.views.total - a.views.total || a.key.localeCompare(b.key));
    return {
      from: r.from,
      to: r.to,
      dim,
      ...(dim === 'school' && district ? { district } : {}),
      items,
    };
  }

  async retention(lessonId: string): Promise<AnalyticsRetention> {
    const [doc, meta] = await Promise.all([this.repo.retention(lessonId), this.repo.lessons([lessonId])]);
    const m = meta.get(lessonId);
    if (!doc && !m) throw new AppError('NOT_FOUND', `no viewing data for lesson ${lessonId}`);
    const durationSec = m?.durationSec ?? (doc ? field(doc, 'durationSec') || null : null);
    const sessions = doc ? num(doc['sessions']) : 0;
    const bucketMs = durationSec ? (durationSec * 1000) / RETENTION_BUCKETS : 0;
    const counts = Array.from({ length: RETENTION_BUCKETS }, (_, i) =>
      doc && bucketMs > 0 ? Math.round((field(doc, `b.${i}`) / bucketMs) * 1000) / 1000 : 0,
    );
    const share = counts.map((c) => Math.round((c / Math.max(sessions, 1)) * 1000) / 1000);
    return {
      lessonId,
      ...(m?.title === undefined ? {} : { title: m.title }),
      durationSec,
      sessions,
      counts,
      share,
    };
  }

  async quality(r: Range): Promise<AnalyticsQuality> {
    const docs = await this.repo.byDays('quality_day', r.from, r.to);
    const items = PLATFORMS.map((platform) => {
      const mine = docs.filter((d) => d['platform'] === platform);
      const s = (path: string) => mine.reduce((a, d) => a + field(d, path), 0);
      const hist = Array.from({ length: STARTUP_BUCKETS_MS.length + 1 }, (_, i) => s(`h.${i}`));
      const startups = s('startups');
      const stallMs = s('stallMs');
      const watchMs = s('watchMs');
      return {
        platform,
        startups,
        startupAvgMs: startups > 0 ? Math.round(s('startupMs') / startups) : null,
        startupP50Ms: histogramPercentile(hist, 0.5),
        startupP90Ms: histogramPercentile(hist, 0.9),
        stalls: s('stalls'),
        stallMs,
        watchSec: sec(watchMs),
        rebufferRatio: watchMs + stallMs > 0 ? Math.round((stallMs / (watchMs + stallMs)) * 1e6) / 1e6 : 0,
      };
    });
    return { from: r.from, to: r.to, items };
  }
}

/** A grade id in the reader's language (三年级 / Primary 3); other keys as they are. */
function gradeName(key: string, lang: AnalyticsLang): string {
  const names = (GRADE_NAMES as Record<string, { zh: string; en: string } | undefined>)[key];
  return names ? (lang === 'zh-CN' ? names.zh : names.en) : key;
}

/** Rows of each table for CSV export (same numbers as the JSON; grades named for the reader). */
export const csvRows = {
  summary(s: AnalyticsSummary, lang: AnalyticsLang): CsvRow[] {
    const label = (zh: string, en: string) => (lang === 'zh-CN' ? zh : en);
    const row = (metric: string, pp: PerPlatform): CsvRow => ({ metric, ...pp });
    return [
      row(label('观看次数', 'Views'), s.views),
      row(label('观看时长（秒）', 'Watch time (s)'), s.watchSec),
      row(label('独立观众数', 'Unique viewers'), s.uniques),
      row(label('当前在线', 'Concurrent now'), s.concurrentNow),
    ];
  },
  timeseries: (t: AnalyticsTimeseries): CsvRow[] =>
    t.points.map((p) => ({ t: p.t, ...p.views, watchSec: p.watchSec })),
  topLessons: (t: AnalyticsTopLessons, lang: AnalyticsLang): CsvRow[] =>
    t.items.map((l, i) => ({
      rank: i + 1,
      lessonId: l.lessonId,
      title: l.title,
      grade: gradeName(l.grade, lang),
      subject: l.subject,
      ...l.views,
      uniques: l.uniques,
      watchSec: l.watchSec,
    })),
  breakdown: (b: AnalyticsBreakdown, lang: AnalyticsLang): CsvRow[] =>
    b.items.map((i) => ({
      key: b.dim === 'grade' ? gradeName(i.key, lang) : i.key,
      ...i.views,
      watchSec: i.watchSec,
    })),
  retention: (r: AnalyticsRetention): CsvRow[] =>
    r.counts.map((c, i) => ({ bucket: i, count: c, share: r.share[i] })),
  quality: (q: AnalyticsQuality): CsvRow[] => q.items.map((i) => ({ ...i })),
};
