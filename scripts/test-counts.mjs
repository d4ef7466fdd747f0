// A node:test reporter that counts the run's tests (passed, failed, skipped, todo; suites are not tests) and
// writes the counts to TEST_COUNTS_FILE after every result, synchronously. node's own reporters write their
// totals last, and under --test-force-exit the process ends before those lines reach a file: the TAP
// summary npm test used to read for skipped and todo tests was never there. Plain JavaScript: node loads a
// reporter before tsx's hooks apply.
//
// It also keeps each failure's file, name and message (its head and tail, 2,000 characters at most), so
// that npm test can repeat them last: a CI log shown by its tail then still says why a test failed.
import { relative } from 'node:path';
import { writeFileSync } from 'node:fs';

const MESSAGE_MAX = 2000;

/** The failure's own message: node wraps a test's error in ERR_TEST_FAILURE with the error as its cause. */
function messageOf(error) {
  const cause = error?.cause ?? error;
  const text = String(cause?.message ?? cause ?? 'no message');
  if (text.length <= MESSAGE_MAX) return text;
  const keep = MESSAGE_MAX / 2;
  return `${text.slice(0, keep)}\n… ${text.length - MESSAGE_MAX} characters left out …\n${text.slice(-keep)}`;
}

/** @param {AsyncIterable<{ type: string, data?: { name?: string, file?: string, skip?: unknown, todo?: unknown, details?: { type?: string, error?: unknown } } }>} source */
export default async function* counts(source) {
  const file = process.env['TEST_COUNTS_FILE'];
  const c = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, failures: [] };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data?.details?.type === 'suite') continue;
    c.tests++;
    if (event.type === 'test:fail') {
      c.fail++;
      c.failures.push({
        file: event.data?.file ? relative(process.cwd(), event.data.file) : '?',
        name: event.data?.name ?? '?',
        message: messageOf(event.data?.details?.error),
      });
    } else c.pass++;
    if (event.data?.skip !== undefined && event.data.skip !== false) c.skipped++;
    if (event.data?.todo !== undefined && event.data.todo !== false) c.todo++;
    if (file) writeFileSync(file, JSON.stringify(c));
  }
  yield '';
}
