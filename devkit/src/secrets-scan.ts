// What no log of a test run may hold: a password the tests sign in with, an access token (a JWT), a refresh
// token, or a credential in a URL's query. scripts/test.ts scans every log of the run with it.
import { pino, type Logger, type LoggerOptions } from 'pino';

/** The password the test users sign in with (api/test/helpers). */
export const TEST_PASSWORD = 'correct horse battery';

const PATTERNS: [string, RegExp][] = [
  ['access token (JWT)', /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/],
  ['refresh token', /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[\w-]{20,}/],
  [
    'credential in a URL',
    /[?&](?:token|access_token|refresh_token|ticket|device_code|password)=(?!\[redacted\])[^&\s"']{8,}/i,
  ],
];

export interface SecretFinding {
  kind: string;
  line: number;
  excerpt: string;
}

/** Every secret in `text` (one finding per line at most), with `passwords` looked for verbatim. */
export function findSecrets(text: string, passwords: readonly string[] = [TEST_PASSWORD]): SecretFinding[] {
  const found: SecretFinding[] = [];
  text.split('\n').forEach((l, i) => {
    const hit =
      PATTERNS.find(([, re]) => re.test(l)) ??
      (passwords.some((p) => p && l.includes(p)) ? (['password', /./] as const) : undefined);
    if (hit) found.push({ kind: hit[0], line: i + 1, excerpt: l.slice(0, 160) });
  });
  return found;
}

let logFiles = 0;
/** Where a test's service writes its log in this run (npm test sets TEST_LOG_DIR), or undefined: silent. */
export function testLogFile(service: string): string | undefined {
  const dir = process.env['TEST_LOG_DIR'];
  return dir ? `${dir}/${service}-${process.pid}-${++logFiles}.log` : undefined;
}

/**
 * A test's service logger: in an npm test run, `options` (the service's own: logOptions) at info into the
 * run's log folder, which the run scans for secrets afterwards; silent otherwise.
 */
export function testLogger(service: string, options: LoggerOptions): Logger {
  const file = testLogFile(service);
  if (!file) return pino({ level: 'silent' });
  return pino({ ...options, level: 'info' }, pino.destination({ dest: file, sync: true, mkdir: true }));
}
