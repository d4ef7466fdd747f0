import {
  AnalyticsBreakdown,
  AnalyticsQuality,
  AnalyticsRetention,
  AnalyticsSummary,
  AnalyticsTimeseries,
  AnalyticsTopLessons,
  PLATFORMS,
  type BreakdownDim,
  type Platform,
  type PerPlatform,
} from '@sky/contracts';
import type { TFunction } from 'i18next';
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { withQuery, type ApiError } from '../api/client';
import { TermInfo, CURRICULUM } from '../api/curriculum';
import { useApi, type Loaded } from '../api/useApi';
import { ErrorNote, problemText } from '../components/Bits';
import { downloadApiCsv } from './csv';
import { EChart, type ChartOption } from './EChart';
import {
  chinaTime,
  compactFormat,
  daysAgo,
  daysBetween,
  formatMs,
  formatRatio,
  formatWatch,
  hourLabel,
  numberFormat,
  today,
} from './format';
import './dashboard.css';
import '../i18n/analytics';

const REFRESH_MS = 30_000;
const TOP_LIMIT = 20;
/** The bureau's "10万+" list: lessons with at least this many views. */
const BIG_LESSON = 100_000;
const MAX_RANGE_DAYS = 366;
const COLORS: Record<Platform, string> = { web: '#1a56db', tv: '#d97706', 'live-webrtc': '#16a34a' };

type RangeKind = 'today' | 'week' | 'term' | 'custom';
interface Range {
  from: string;
  to: string;
}

/** The range picker: today, the last 7 days, this term (from the curriculum's calendar), or two dates. */
function RangePicker({
  kind,
  custom,
  term,
  onKind,
  onCustom,
  error,
}: {
  kind: RangeKind;
  custom: Range;
  term: Range | undefined;
  onKind: (k: RangeKind) => void;
  onCustom: (r: Range) => void;
  error: string | undefined;
}) {
  const { t } = useTranslation();
  const kinds: RangeKind[] = ['today', 'week', 'term', 'custom'];
  return (
    <div className="an-range" role="group" aria-label={t('analytics.range.label')}>
      <div className="chips" data-testid="range">
        {kinds.map((k) => (
          <button
            key={k}
            type="button"
            className="chip"
            aria-pressed={kind === k}
            disabled={k === 'term' && !term}
            title={k === 'term' && !term ? t('analytics.range.noTerm') : undefined}
            data-range={k}
            onClick={() => onKind(k)}
          >
            {t(`analytics.range.${k}`)}
          </button>
        ))}
      </div>
      {kind === 'custom' && (
        <div className="an-dates">
          <label>
            {t('analytics.range.from')}
            <input
              type="date"
              data-testid="range-from"
              value={custom.from}
              max={today()}
              onChange={(e) => e.target.value && onCustom({ ...custom, from: e.target.value })}
            />
          </label>
          <label>
            {t('analytics.range.to')}
            <input
              type="date"
              data-testid="range-to"
              value={custom.to}
              max={today()}
              onChange={(e) => e.target.value && onCustom({ ...custom, to: e.target.value })}
            />
          </label>
          {error && (
            <span className="field-error" role="alert">
              {error}
            </span>
          )}
        </div>
      )}
    </div>
  );
}

/** A dashboard panel: heading, CSV export, and the loading / error / empty states around its body. */
function Panel<T>({
  title,
  res,
  empty,
  csv,
  children,
  testId,
  actions,
}: {
  title: string;
  res: Loaded<T>;
  empty: (data: T) => boolean;
  csv?: { path: string; file: string } | undefined;
  children: (data: T) => ReactNode;
  testId: string;
  actions?: ReactNode;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [csvError, setCsvError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const exportCsv = () => {
    if (!csv) return;
    setSaving(true);
    setCsvError(null);
    downloadApiCsv(csv.path, csv.file)
      .catch((err: unknown) => setCsvError(err as ApiError))
      .finally(() => setSaving(false));
  };
  return (
    <section className="panel an-panel" aria-labelledby={id} data-testid={testId}>
      <header className="an-panel-head">
        <h2 id={id}>{title}</h2>
        <div className="an-panel-actions">
          {actions}
          {csv && res.data !== undefined && !empty(res.data) && (
            <button
              type="button"
              className="btn btn-small"
              data-testid="csv"
              onClick={exportCsv}
              disabled={saving}
            >
              {t('analytics.exportCsv')}
            </button>
          )}
        </div>
      </header>
      {csvError && <ErrorNote error={csvError} />}
      {res.error && <ErrorNote error={res.error} onRetry={res.reload} />}
      {res.data === undefined && !res.error && (
        <p className="muted" aria-busy="true">
          {t('errors.loading')}
        </p>
      )}
      {res.data !== undefined &&
        (empty(res.data) ? (
          <p className="empty an-empty" data-testid="empty">
            {t('analytics.empty')}
          </p>
        ) : (
          children(res.data)
        ))}
    </section>
  );
}

/** An accessible table: a caption (for screen readers), column headers, numbers right-aligned. */
function DataTable({
  caption,
  head,
  numeric,
  rows,
  testId,
}: {
  caption: string;
  head: string[];
  /** Which columns hold numbers. */
  numeric: boolean[];
  rows: { key: string; cells: ReactNode[]; onSelect?: () => void; selected?: boolean }[];
  testId?: string;
}) {
  return (
    <div className="table-wrap">
      <table className="an-table" data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={h} scope="col" className={numeric[i] ? 'num' : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} aria-selected={r.selected} className={r.selected ? 'is-selected' : undefined}>
              {r.cells.map((c, i) =>
                i === 0 ? (
                  <th key={i} scope="row">
                    {c}
                  </th>
                ) : (
                  <td key={i} className={numeric[i] ? 'num' : undefined}>
                    {c}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Stat({
  label,
  value,
  exact,
  detail,
  testId,
}: {
  label: string;
  value: string;
  /** The exact figure when `value` is rounded (135.3万). */
  exact?: string | undefined;
  detail?: string | undefined;
  testId: string;
}) {
  return (
    <div className="stat an-stat" data-testid={testId}>
      <span className="stat-label">{label}</span>
      <span
        className="stat-value"
        data-testid={`${testId}-value`}
        title={exact !== value ? exact : undefined}
      >
        {value}
      </span>
      {detail && <span className="an-stat-detail">{detail}</span>}
    </div>
  );
}

function SummaryCards({ res }: { res: Loaded<AnalyticsSummary> }) {
  const { t, i18n } = useTranslation();
  const n = numberFormat(i18n.language);
  const big = compactFormat(i18n.language);
  const s = res.data;
  // Never a made-up figure: a dash when it could not be loaded, an ellipsis while it loads.
  const v = (f: (s: AnalyticsSummary) => number) => (s ? big(f(s)) : res.error ? '—' : '…');
  const x = (f: (s: AnalyticsSummary) => number) => (s ? n(f(s)) : undefined);
  const split = (p: (s: AnalyticsSummary) => PerPlatform) =>
    s
      ? t('analytics.split', {
          web: n(p(s).web),
          tv: n(p(s).tv),
          live: n(p(s)['live-webrtc']),
        })
      : undefined;
  return (
    <div className="stats an-stats" data-testid="summary">
      <Stat
        testId="views"
        label={t('analytics.summary.views')}
        value={v((y) => y.views.total)}
        exact={x((y) => y.views.total)}
        detail={split((x) => x.views)}
      />
      <Stat
        testId="views-web"
        label={t('analytics.summary.viewsWeb')}
        value={v((y) => y.views.web)}
        exact={x((y) => y.views.web)}
      />
      <Stat
        testId="views-tv"
        label={t('analytics.summary.viewsTv')}
        value={v((y) => y.views.tv)}
        exact={x((y) => y.views.tv)}
      />
      <Stat
        testId="uniques"
        label={t('analytics.summary.uniques')}
        value={v((y) => y.uniques.total)}
        exact={x((y) => y.uniques.total)}
        detail={split((x) => x.uniques)}
      />
      <Stat
        testId="concurrent"
        label={t('analytics.summary.concurrentNow')}
        value={v((y) => y.concurrentNow.total)}
        exact={x((y) => y.concurrentNow.total)}
        detail={split((x) => x.concurrentNow)}
      />
      <Stat
        testId="peak"
        label={t('analytics.summary.peakToday')}
        value={v((y) => y.peakToday.viewers)}
        exact={x((y) => y.peakToday.viewers)}
        {...(s?.peakToday.at
          ? { detail: t('analytics.summary.peakAt', { time: chinaTime(s.peakToday.at) }) }
          : {})}
      />
      <Stat
        testId="watch"
        label={t('analytics.summary.watch')}
        value={s ? formatWatch(s.watchSec.total, t, i18n.language) : res.error ? '—' : '…'}
      />
    </div>
  );
}

const platformLabel = (p: Platform, t: TFunction) => t(`analytics.platform.${p}`);

function TimeseriesPanel({
  res,
  csv,
}: {
  res: Loaded<AnalyticsTimeseries>;
  csv: { path: string; file: string };
}) {
  const { t, i18n } = useTranslation();
  const n = numberFormat(i18n.language);
  const option = useMemo((): ChartOption | null => {
    const d = res.data;
    if (!d) return null;
    const multiDay = d.points.length > 24;
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: d.points.map((p) => hourLabel(p.t, multiDay)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: PLATFORMS.map((p) => ({
        name: platformLabel(p, t),
        type: 'line',
        // stacked bands: each platform's own area, the top edge is the total
        stack: 'views',
        areaStyle: { opacity: 0.55 },
        lineStyle: { width: 1 },
        showSymbol: false,
        color: COLORS[p],
        data: d.points.map((pt) => pt.views[p]),
      })),
    };
  }, [res.data, t]);
  return (
    <Panel
      testId="timeseries"
      title={t('analytics.timeseries.title')}
      res={res}
      empty={(d) => d.points.every((p) => p.views.total === 0 && p.watchSec === 0)}
      csv={csv}
    >
      {(d) => {
        const busy = d.points.filter((p) => p.views.total > 0 || p.watchSec > 0);
        const multiDay = d.points.length > 24;
        return (
          <>
            {option && <EChart option={option} label={t('analytics.timeseries.chart')} />}
            <details className="an-details">
              <summary>{t('analytics.showTable', { count: busy.length })}</summary>
              <DataTable
                caption={t('analytics.timeseries.title')}
                head={[
                  t('analytics.col.hour'),
                  ...PLATFORMS.map((p) => platformLabel(p, t)),
                  t('analytics.col.total'),
                  t('analytics.col.watch'),
                ]}
                numeric={[false, true, true, true, true, true]}
                rows={busy.map((p) => ({
                  key: p.t,
                  cells: [
                    hourLabel(p.t, multiDay),
                    ...PLATFORMS.map((k) => n(p.views[k])),
                    n(p.views.total),
                    formatWatch(p.watchSec, t, i18n.language),
                  ],
                }))}
              />
            </details>
          </>
        );
      }}
    </Panel>
  );
}

function gradeLabel(key: string, t: TFunction): string {
  if (key === 'unknown') return t('analytics.unknown');
  return t(`grades.${key}`, { defaultValue: key });
}

function TopLessonsPanel({
  res,
  csv,
  selected,
  onSelect,
}: {
  res: Loaded<AnalyticsTopLessons>;
  csv: { path: string; file: string };
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const n = numberFormat(i18n.language);
  return (
    <Panel
      testId="top-lessons"
      title={t('analytics.top.title')}
      res={res}
      empty={(d) => d.items.length === 0}
      csv={csv}
    >
      {(d) => (
        <DataTable
          testId="top-table"
          caption={t('analytics.top.title')}
          head={[
            t('analytics.col.rank'),
            t('analytics.col.lesson'),
            t('analytics.col.grade'),
            t('analytics.col.subject'),
            t('analytics.platform.web'),
            t('analytics.platform.tv'),
            t('analytics.col.total'),
            t('analytics.col.uniques'),
            t('analytics.col.retention'),
          ]}
          numeric={[false, false, false, false, true, true, true, true, false]}
          rows={d.items.map((l, i) => ({
            key: l.lessonId,
            selected: l.lessonId === selected,
            cells: [
              i + 1,
              <span className="an-lesson" key="t">
                {l.title ?? l.lessonId}
                {l.views.total >= BIG_LESSON && (
                  <span className="an-badge" title={t('analytics.top.bigHint')}>
                    {t('analytics.top.big')}
                  </span>
                )}
              </span>,
              gradeLabel(l.grade, t),
              l.subject === 'unknown' ? t('analytics.unknown') : l.subject,
              n(l.views.web),
              n(l.views.tv),
              n(l.views.total),
              n(l.uniques),
              <button
                key="r"
                type="button"
                className="btn btn-small btn-ghost"
                aria-pressed={l.lessonId === selected}
                data-testid="pick-retention"
                onClick={() => onSelect(l.lessonId)}
              >
                {t('analytics.top.showRetention')}
              </button>,
            ],
          }))}
        />
      )}
    </Panel>
  );
}

function BreakdownPanel({
  title,
  dim,
  res,
  csv,
  chart,
  label,
  onPick,
  actions,
  testId,
}: {
  title: string;
  dim: BreakdownDim;
  res: Loaded<AnalyticsBreakdown>;
  csv: { path: string; file: string };
  chart: boolean;
  label: (key: string) => string;
  onPick?: (key: string) => void;
  actions?: ReactNode;
  testId: string;
}) {
  const { t, i18n } = useTranslation();
  const n = numberFormat(i18n.language);
  const items = useMemo(
    () => [...(res.data?.items ?? [])].sort((a, b) => b.views.total - a.views.total),
    [res.data],
  );
  const option = useMemo(
    (): ChartOption => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 28, containLabel: true },
      xAxis: {
        type: 'category',
        data: items.map((i) => label(i.key)),
        axisLabel: { interval: 0, rotate: items.length > 6 ? 30 : 0 },
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: PLATFORMS.map((p) => ({
        name: platformLabel(p, t),
        type: 'bar',
        stack: 'views',
        color: COLORS[p],
        data: items.map((i) => i.views[p]),
      })),
    }),
    [items, t, label],
  );
  return (
    <Panel
      testId={testId}
      title={title}
      res={res}
      empty={(d) => d.items.length === 0}
      csv={csv}
      actions={actions}
    >
      {() => (
        <>
          {chart && <EChart option={option} label={title} height={240} />}
          <DataTable
            testId={`${dim}-table`}
            caption={title}
            head={[
              t(`analytics.dim.${dim}`),
              ...PLATFORMS.map((p) => platformLabel(p, t)),
              t('analytics.col.total'),
              t('analytics.col.watch'),
            ]}
            numeric={[false, true, true, true, true, false]}
            rows={items.map((i) => ({
              key: i.key,
              cells: [
                onPick && i.key !== 'unknown' ? (
                  <button
                    key="k"
                    type="button"
                    className="an-link"
                    data-testid="drill"
                    onClick={() => onPick(i.key)}
                  >
                    {label(i.key)}
                  </button>
                ) : (
                  label(i.key)
                ),
                ...PLATFORMS.map((p) => n(i.views[p])),
                n(i.views.total),
                formatWatch(i.watchSec, t, i18n.language),
              ],
            }))}
          />
        </>
      )}
    </Panel>
  );
}

function RetentionPanel({
  res,
  csv,
}: {
  res: Loaded<AnalyticsRetention>;
  csv: { path: string; file: string } | undefined;
}) {
  const { t, i18n } = useTranslation();
  const n = numberFormat(i18n.language);
  const option = useMemo((): ChartOption | null => {
    const d = res.data;
    if (!d) return null;
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => `${Number(v).toFixed(1)}%` },
      grid: { left: 48, right: 16, top: 16, bottom: 28 },
      xAxis: {
        type: 'category',
        data: d.share.map((_, i) => `${i}%`),
        name: t('analytics.retention.position'),
      },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: [
        {
          name: t('analytics.retention.share'),
          type: 'line',
          showSymbol: false,
          areaStyle: { opacity: 0.15 },
          color: COLORS.web,
          data: d.share.map((s) => Math.round(s * 1000) / 10),
        },
      ],
    };
  }, [res.data, t]);
  return (
    <Panel
      testId="retention"
      title={
        res.data?.title
          ? t('analytics.retention.titleOf', { title: res.data.title })
          : t('analytics.retention.title')
      }
      res={res}
      empty={(d) => d.sessions === 0}
      csv={csv}
    >
      {(d) => (
        <>
          <p className="muted small" data-testid="retention-sessions">
            {t('analytics.retention.sessions', { count: d.sessions, value: n(d.sessions) })}
          </p>
          {option && <EChart option={option} label={t('analytics.retention.chart')} height={220} />}
          <details className="an-details">
            <summary>{t('analytics.showTable', { count: 10 })}</summary>
            <DataTable
              caption={t('analytics.retention.title')}
              head={[
                t('analytics.retention.position'),
                t('analytics.retention.sessionsCol'),
                t('analytics.retention.share'),
              ]}
              numeric={[false, true, true]}
              rows={d.counts
                .map((c, i) => ({ c, i }))
                .filter(({ i }) => i % 10 === 0 || i === d.counts.length - 1)
                .map(({ c, i }) => ({
                  key: String(i),
                  cells: [`${i}%`, n(c), formatRatio(d.share[i] ?? 0)],
                }))}
            />
          </details>
        </>
      )}
    </Panel>
  );
}

function QualityPanel({ res, csv }: { res: Loaded<AnalyticsQuality>; csv: { path: string; file: string } }) {
  const { t, i18n } = useTranslation();
  const n = numberFormat(i18n.language);
  return (
    <Panel
      testId="quality"
      title={t('analytics.quality.title')}
      res={res}
      empty={(d) => d.items.every((i) => i.startups === 0 && i.watchSec === 0)}
      csv={csv}
    >
      {(d) => (
        <DataTable
          testId="quality-table"
          caption={t('analytics.quality.title')}
          head={[
            t('analytics.col.platform'),
            t('analytics.quality.startups'),
            t('analytics.quality.p50'),
            t('analytics.quality.p90'),
            t('analytics.quality.stalls'),
            t('analytics.quality.rebuffer'),
          ]}
          numeric={[false, true, true, true, true, true]}
          rows={d.items.map((q) => ({
            key: q.platform,
            cells: [
              platformLabel(q.platform, t),
              n(q.startups),
              formatMs(q.startupP50Ms, t),
              formatMs(q.startupP90Ms, t),
              n(q.stalls),
              formatRatio(q.rebufferRatio),
            ],
          }))}
        />
      )}
    </Panel>
  );
}

/** Reloads every panel each REFRESH_MS while on (and the tab is visible); says when figures last arrived. */
function useAutoRefresh(reloads: (() => void)[], on: boolean): void {
  // the panels in view change (a district picked): the timer reloads the latest ones without restarting
  const latest = useRef(reloads);
  useEffect(() => {
    latest.current = reloads;
  });
  useEffect(() => {
    if (!on) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') latest.current.forEach((r) => r());
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [on]);
}

/**
 * The education bureau's viewing dashboard: views web vs TV (and live), unique and concurrent viewers,
 * hourly views, the top lessons (10万+), grade / subject / district → school breakdowns, a lesson's
 * retention and playback quality, for a range of China days, refreshed every 30 s.
 */
export function Dashboard() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const [kind, setKind] = useState<RangeKind>('today');
  const [custom, setCustom] = useState<Range>({ from: daysAgo(6), to: today() });
  const [district, setDistrict] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [auto, setAuto] = useState(true);
  const termInfo = useApi(`${CURRICULUM}/term`, TermInfo);

  const term = useMemo((): Range | undefined => {
    const tm = termInfo.data?.term;
    if (!tm) return undefined;
    const end = tm.endDate < today() ? tm.endDate : today();
    const from = daysBetween(tm.startDate, end) > MAX_RANGE_DAYS ? daysAgo(MAX_RANGE_DAYS - 1) : tm.startDate;
    return from <= end ? { from, to: end } : undefined;
  }, [termInfo.data]);

  const customError =
    custom.from > custom.to
      ? t('analytics.range.fromAfterTo')
      : daysBetween(custom.from, custom.to) > MAX_RANGE_DAYS
        ? t('analytics.range.tooLong', { days: MAX_RANGE_DAYS })
        : undefined;
  const range: Range | null =
    kind === 'today'
      ? { from: today(), to: today() }
      : kind === 'week'
        ? { from: daysAgo(6), to: today() }
        : kind === 'term'
          ? (term ?? null)
          : customError
            ? null
            : custom;

  const q = (path: string, extra: Record<string, string | number | undefined> = {}) =>
    range ? withQuery(`/api/analytics/${path}`, { from: range.from, to: range.to, ...extra }) : null;
  const csvOf = (path: string, extra: Record<string, string | number | undefined> = {}) => {
    const p = range
      ? withQuery(`/api/analytics/${path}`, { from: range.from, to: range.to, ...extra, format: 'csv', lang })
      : '';
    // each table its own file: breakdown-grade-…, breakdown-school-<district>-…
    const name = [
      path.replace(/\//g, '-'),
      extra['dim'],
      extra['district'],
      `${range?.from ?? ''}_${range?.to ?? ''}`,
    ]
      .filter((part) => part !== undefined && part !== '')
      .join('-');
    return { path: p, file: `analytics-${name}.csv` };
  };

  const summary = useApi(q('summary'), AnalyticsSummary);
  const series = useApi(q('timeseries'), AnalyticsTimeseries);
  const top = useApi(q('top-lessons', { limit: TOP_LIMIT }), AnalyticsTopLessons);
  const grades = useApi(q('breakdown', { dim: 'grade' }), AnalyticsBreakdown);
  const subjects = useApi(q('breakdown', { dim: 'subject' }), AnalyticsBreakdown);
  const districts = useApi(q('breakdown', { dim: 'district' }), AnalyticsBreakdown);
  const schools = useApi(district ? q('breakdown', { dim: 'school', district }) : null, AnalyticsBreakdown);
  const quality = useApi(q('quality'), AnalyticsQuality);
  const lessonId = picked ?? top.data?.items[0]?.lessonId ?? null;
  const retention = useApi(
    lessonId ? `/api/analytics/retention/${encodeURIComponent(lessonId)}` : null,
    AnalyticsRetention,
  );

  const updatedAt = summary.receivedAt === undefined ? null : new Date(summary.receivedAt);

  const all = [summary, series, top, grades, subjects, districts, schools, quality, retention];
  useAutoRefresh(
    all.map((r) => r.reload),
    auto && range !== null,
  );
  const refreshing = all.some((r) => r.loading);
  const stale = summary.error && summary.data;

  return (
    <section className="an-dashboard" data-testid="dashboard">
      <div className="page-head an-head">
        <div>
          <h1>{t('analytics.title')}</h1>
          <p className="muted small">
            {range
              ? t('analytics.rangeShown', { from: range.from, to: range.to })
              : t('analytics.range.pick')}
            {' · '}
            {t('analytics.chinaTime')}
          </p>
        </div>
        <div className="an-refresh" aria-live="polite">
          <span className="muted small" data-testid="updated">
            {updatedAt
              ? t('analytics.updatedAt', { time: updatedAt.toLocaleTimeString(lang, { hour12: false }) })
              : t('errors.loading')}
            {refreshing && <span className="an-spinner" aria-hidden="true" />}
          </span>
          <button
            type="button"
            className="btn btn-small"
            aria-pressed={!auto}
            data-testid="auto-refresh"
            onClick={() => setAuto((a) => !a)}
          >
            {auto ? t('analytics.pause') : t('analytics.resume')}
          </button>
          <button
            type="button"
            className="btn btn-small"
            data-testid="refresh"
            onClick={() => all.forEach((r) => r.reload())}
          >
            {t('analytics.refreshNow')}
          </button>
        </div>
      </div>
      <RangePicker
        kind={kind}
        custom={custom}
        term={term}
        onKind={(k) => {
          setKind(k);
          setDistrict(null);
        }}
        onCustom={setCustom}
        error={kind === 'custom' ? customError : undefined}
      />
      {stale && summary.error && (
        <p className="notice notice-error" role="status">
          {t('analytics.stale', { detail: problemText(summary.error, t) })}
        </p>
      )}
      {range && (
        <>
          {summary.error && !summary.data && <ErrorNote error={summary.error} onRetry={summary.reload} />}
          <SummaryCards res={summary} />
          {summary.data && summary.data.views.total === 0 && summary.data.uniques.total === 0 && (
            <p className="empty an-empty" data-testid="summary-empty">
              {t('analytics.emptyRange')}
            </p>
          )}
          <TimeseriesPanel res={series} csv={csvOf('timeseries')} />
          <TopLessonsPanel
            res={top}
            csv={csvOf('top-lessons', { limit: TOP_LIMIT })}
            selected={lessonId}
            onSelect={setPicked}
          />
          <div className="an-grid an-grid-2-3">
            <RetentionPanel
              res={retention}
              csv={
                lessonId
                  ? {
                      path: withQuery(`/api/analytics/retention/${encodeURIComponent(lessonId)}`, {
                        format: 'csv',
                        lang,
                      }),
                      file: `analytics-retention-${lessonId}.csv`,
                    }
                  : undefined
              }
            />
            <QualityPanel res={quality} csv={csvOf('quality')} />
          </div>
          <div className="an-grid">
            <BreakdownPanel
              testId="by-grade"
              title={t('analytics.breakdown.grade')}
              dim="grade"
              res={grades}
              csv={csvOf('breakdown', { dim: 'grade' })}
              chart
              label={(k) => gradeLabel(k, t)}
            />
            <BreakdownPanel
              testId="by-subject"
              title={t('analytics.breakdown.subject')}
              dim="subject"
              res={subjects}
              csv={csvOf('breakdown', { dim: 'subject' })}
              chart
              label={(k) => (k === 'unknown' ? t('analytics.unknown') : k)}
            />
          </div>
          {district === null ? (
            <BreakdownPanel
              testId="by-district"
              title={t('analytics.breakdown.district')}
              dim="district"
              res={districts}
              csv={csvOf('breakdown', { dim: 'district' })}
              chart={false}
              label={(k) => (k === 'unknown' ? t('analytics.unknown') : k)}
              onPick={setDistrict}
            />
          ) : (
            <BreakdownPanel
              testId="by-school"
              title={t('analytics.breakdown.schoolsOf', { district })}
              dim="school"
              res={schools}
              csv={csvOf('breakdown', { dim: 'school', district })}
              chart={false}
              label={(k) => (k === 'unknown' ? t('analytics.unknown') : k)}
              actions={
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  data-testid="drill-up"
                  onClick={() => setDistrict(null)}
                >
                  ← {t('analytics.breakdown.allDistricts')}
                </button>
              }
            />
          )}
          <p className="muted small an-foot">
            {t('analytics.notes', { sec: summary.data?.heartbeatSec ?? 30 })}
            {summary.data &&
              summary.data.lagSec > 0 &&
              ` ${t('analytics.lag', { sec: Math.round(summary.data.lagSec) })}`}
          </p>
        </>
      )}
    </section>
  );
}
