import { chinaDay } from '@sky/contracts';
import type { TFunction } from 'i18next';

export const DAY_MS = 86_400_000;

/** Today and n days before, as China days (the api's days). */
export const today = (now = Date.now()) => chinaDay(now);
export const daysAgo = (n: number, now = Date.now()) => chinaDay(now - n * DAY_MS);

/** Inclusive days between two YYYY-MM-DD dates. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

export function numberFormat(lang: string): (n: number) => string {
  const f = new Intl.NumberFormat(lang);
  return (n) => f.format(Math.round(n));
}

/**
 * A headline figure: exact below 100,000; above, 135.3万 (zh) or 1.4M (en) so a card never overflows
 * (the exact number goes in the element's title).
 */
export function compactFormat(lang: string): (n: number) => string {
  const exact = numberFormat(lang);
  const zh = lang !== 'en';
  const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
  return (n) => {
    if (Math.abs(n) < 100_000) return exact(n);
    if (zh)
      return n >= 100_000_000
        ? `${(n / 100_000_000).toFixed(2)}亿`
        : `${(n / 10_000).toFixed(n >= 10_000_000 ? 0 : 1)}万`;
    return compact.format(n);
  };
}

/** Watch time for people: hours from an hour on, minutes from a minute on (one decimal), else seconds. */
export function formatWatch(sec: number, t: TFunction, lang: string): string {
  const one = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  if (sec >= 3600 * 10_000) return t('analytics.unit.hours', { value: compactFormat(lang)(sec / 3600) });
  if (sec >= 3600) return t('analytics.unit.hours', { value: one.format(sec / 3600) });
  if (sec >= 60) return t('analytics.unit.minutes', { value: one.format(sec / 60) });
  return t('analytics.unit.seconds', { value: Math.round(sec) });
}

export const formatMs = (ms: number | null, t: TFunction): string =>
  ms === null
    ? '—'
    : ms >= 1000
      ? t('analytics.unit.seconds', { value: (ms / 1000).toFixed(2) })
      : t('analytics.unit.ms', { value: Math.round(ms) });

export const formatRatio = (r: number): string => `${(r * 100).toFixed(2)}%`;

/** `2026-03-02T19:00:00+08:00` → `19:00`, or `03-02 19:00` when the range has several days. */
export function hourLabel(t: string, withDay: boolean): string {
  const m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(t);
  if (!m) return t;
  return withDay ? `${m[1]}-${m[2]} ${m[3]}:${m[4]}` : `${m[3]}:${m[4]}`;
}

/** The clock time (China time) of an ISO instant. */
export function chinaTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms + 8 * 3600_000).toISOString().slice(11, 19);
}
