// CSV as every part of the platform writes it (plan exports, analytics tables, pages' own downloads):
// UTF-8 with a BOM (Excel then reads Chinese right), CRLF as Excel writes it, RFC 4180 quoting, and text
// cells that a spreadsheet would run as formulas written as text (OWASP "CSV injection").

export type CsvValue = string | number | null | undefined;

/** A text cell a spreadsheet reads as a formula: = + - @ tab CR first (also after apostrophes, see below). */
const FORMULA = /^'*[=+\-@\t\r]/;
const DEFUSED = /^'+[=+\-@\t\r]/;

/**
 * The text cell as a spreadsheet shows it as text: a leading apostrophe before a formula character.
 * Text that already starts with apostrophes before one gets one more, so `restoreCsvText` is its exact
 * inverse and an exported file imports back unchanged.
 */
export function defuseCsvText(text: string): string {
  return FORMULA.test(text) ? `'${text}` : text;
}

/** The text a defused cell stood for (what an import of our own export must read). */
export function restoreCsvText(cell: string): string {
  return DEFUSED.test(cell) ? cell.slice(1) : cell;
}

/** One cell: numbers as they are, text defused, quoted when it holds a separator, quote or line break. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? String(value) : defuseCsvText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole file: a header row and data rows, with the BOM and CRLF line ends. */
export function writeCsv(rows: readonly (readonly CsvValue[])[]): string {
  return '\uFEFF' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
