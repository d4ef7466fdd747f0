// CSV for the dashboard's tables: UTF-8 with BOM (Excel then reads Chinese correctly), CRLF, RFC 4180 quoting.
import { ANALYTICS_CSV_COLUMNS, type AnalyticsLang, type AnalyticsTable } from '@sky/contracts';

export type CsvRow = Record<string, string | number | null | undefined>;

const BOM = '\uFEFF';

function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // Quote separators and quotes; defuse spreadsheet formulas in text cells.
  const safe = typeof v === 'string' && /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(table: AnalyticsTable, rows: readonly CsvRow[], lang: AnalyticsLang): string {
  const cols = ANALYTICS_CSV_COLUMNS[table];
  const head = cols.map((c) => cell(lang === 'zh-CN' ? c.zh : c.en)).join(',');
  const body = rows.map((r) => cols.map((c) => cell(r[c.key])).join(','));
  return BOM + [head, ...body].join('\r\n') + '\r\n';
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
