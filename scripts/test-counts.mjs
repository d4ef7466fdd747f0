// A node:test reporter that counts the run's tests (passed, failed, skipped, todo; suites are not tests) and
// writes the counts to TEST_COUNTS_FILE after every result, synchronously. node's own reporters write their
// totals last, and under --test-force-exit the process ends before those lines reach a file: the TAP
// summary npm test used to read for skipped and todo tests was never there. Plain JavaScript: node loads a
// reporter before tsx's hooks apply.
import { writeFileSync } from 'node:fs';

/** @param {AsyncIterable<{ type: string, data?: { skip?: unknown, todo?: unknown, details?: { type?: string } } }>} source */
export default async function* counts(source) {
  const file = process.env['TEST_COUNTS_FILE'];
  const c = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0 };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data?.details?.type === 'suite') continue;
    c.tests++;
    if (event.type === 'test:fail') c.fail++;
    else c.pass++;
    if (event.data?.skip !== undefined && event.data.skip !== false) c.skipped++;
    if (event.data?.todo !== undefined && event.data.todo !== false) c.todo++;
    if (file) writeFileSync(file, JSON.stringify(c));
  }
  yield '';
}
