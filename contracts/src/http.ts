// Fastify glue for problem+json; a separate entry (@sky/contracts/http) so browsers never load it.
import { readFileSync } from 'node:fs';
import { AppError, ERROR_STATUS, problemFromError } from './problem.js';
import type { FastifyError, FastifyInstance } from 'fastify';

export { AppError };

/** Every error leaves as application/problem+json with the contract's status table. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
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
