// Fastify glue for problem+json; a separate entry (@sky/contracts/http) so browsers never load it.
import { readFileSync } from 'node:fs';
import { AppError, ERROR_STATUS, problemFromError } from './problem.js';
import type { FastifyError, FastifyInstance } from 'fastify';

export { AppError };

/**
 * Mongo errors that mean "no primary to talk to now" (an election, a lost majority, a network cut). The
 * driver subclasses these (a cleared pool is a `MongoPoolClearedError`, a `MongoNetworkError` underneath),
 * so an error counts when any class it is made from is named here.
 */
const DB_UNAVAILABLE_CLASSES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNotConnectedError',
  'MongooseServerSelectionError',
]);
// NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, PrimarySteppedDown,
// InterruptedDueToReplStateChange, InterruptedAtShutdown, ShutdownInProgress
const DB_UNAVAILABLE_CODES = new Set([10107, 13435, 13436, 189, 11602, 11600, 91]);
/** Seconds a client waits before it retries a request refused while the database has no primary. */
export const DB_UNAVAILABLE_RETRY_SEC = 2;

function classNames(err: object): string[] {
  const names: string[] = [];
  for (let p: unknown = Object.getPrototypeOf(err); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    names.push((p as { constructor: { name: string } }).constructor.name);
  return names;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  const classes = classNames(err);
  return (
    classes.some((name) => DB_UNAVAILABLE_CLASSES.has(name)) ||
    (typeof e.name === 'string' && DB_UNAVAILABLE_CLASSES.has(e.name)) ||
    (classes.includes('MongoError') && DB_UNAVAILABLE_CODES.has(Number(e.code)))
  );
}

/**
 * Every error leaves as application/problem+json with the contract's status table. A database without a
 * primary (an election takes ~12 s) is a 503 with Retry-After that clients retry, not a 500.
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err }, 'database unavailable');
      void reply.header('retry-after', String(DB_UNAVAILABLE_RETRY_SEC));
      const down = new AppError('DEPENDENCY_DOWN', 'the database is electing a primary; retry shortly');
      return reply
        .code(ERROR_STATUS.DEPENDENCY_DOWN)
        .type('application/problem+json')
        .send(problemFromError(down, req.url));
    }
    const body = problemFromError(err, req.url);
    if (body.code === 'INTERNAL') req.log.error({ err }, 'unhandled error');
    else req.log.info({ code: body.code, detail: body.detail }, 'request refused');
    return reply.code(ERROR_STATUS[body.code]).type('application/problem+json').send(body);
  });
}

/** The version in a service's package.json, for /healthz. `mainUrl` is the caller's import.meta.url. */
export function serviceVersion(mainUrl: string): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', mainUrl), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

/** SIGTERM / SIGINT → close once (servers, workers, connections in the order given), then exit. */
export function closeOnSignals(
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
  ...steps: (() => Promise<unknown>)[]
) {
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      log.info({ signal }, 'shutting down');
      void (async () => {
        for (const step of steps)
          await step().catch((err: unknown) => log.error({ err }, 'error while closing'));
        process.exit(0);
      })();
    });
  }
}
export { actorOf, registerGuard, type Access } from './guard.js';
export { logOptions, scrubUrl } from './logging.js';
export { registerSecurityHeaders, type SecurityHeaderOptions } from './security-headers.js';
