// What every service's logger keeps out of its logs: credentials in URLs (a box's ?token=, a socket's
// ?access_token=, a device code), Authorization and cookie headers, and password or token fields.

/** Query parameters that carry a credential. */
const SECRET_PARAMS =
  /([?&](?:token|access_token|refresh_token|ticket|device_code|code|password)=)[^&#\s"]*/gi;

/** `url` with the values of credential-carrying query parameters replaced. */
export function scrubUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

/** Field paths pino censors wherever a log line carries them. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
];

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
}

/** pino options for a service: its name and level, requests logged without credentials. */
export function logOptions(name: string, level: string) {
  return {
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: req.url === undefined ? undefined : scrubUrl(req.url),
        remoteAddress: req.ip,
      }),
    },
    hooks: {
      // a message that quotes a URL (fastify's "Route GET:/x?token=… not found") is scrubbed as well
      logMethod(this: unknown, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrubUrl(a) : a)),
        );
      },
    },
    formatters: {
      // a URL logged by hand (a proxied request, a failed fetch) is scrubbed too
      log: (o: Record<string, unknown>) =>
        typeof o['url'] === 'string' ? { ...o, url: scrubUrl(o['url']) } : o,
    },
  };
}
