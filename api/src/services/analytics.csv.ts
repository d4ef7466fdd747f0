// CSV for the dashboard's tables, written as every CSV of the platform is (contracts' writeCsv).
import {
  analyticsCsvColumns,
  writeCsv,
  type AnalyticsLang,
  type AnalyticsTable,
  type BreakdownDim,
  type CsvValue,
} from '@sky/contracts';

export type CsvRow = Record<string, CsvValue>;

export function toCsv(
  table: AnalyticsTable,
  rows: readonly CsvRow[],
  lang: AnalyticsLang,
  dim?: BreakdownDim,
): string {
  const cols = analyticsCsvColumns(table, dim);
  return writeCsv([
    cols.map((c) => (lang === 'zh-CN' ? c.zh : c.en)),
    ...rows.map((r) => cols.map((c) => r[c.key])),
  ]);
}

/** `?lang=` wins; else the Accept-Language's first supported tag; Chinese by default. */
export function csvLang(query: AnalyticsLang | undefined, acceptLanguage: string | undefined): AnalyticsLang {
  if (query) return query;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.trim().split(';')[0]?.toLowerCase() ?? '';
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}
