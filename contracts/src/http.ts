// Fastify glue for problem+json; a separate entry (@sky/contracts/http) so browsers never load it.
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
