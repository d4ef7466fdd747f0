import type { HealthReport } from '@sky/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { StatusService } from '../services/status.service.js';

export function healthRoutes(
  health: () => Promise<HealthReport>,
  status: StatusService,
): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { config: { access: 'public' } }, async (_req, reply) => {
      const report = await health();
      return reply.code(report.ok ? 200 : 503).send(report);
    });
    // The status page is public, like a status page should be: it shows states, never the insides
    // (internal URLs, versions, pids), which only admins get.
    app.get('/api/status', { config: { access: 'public' } }, () => status.summary());
    app.get('/api/status/detail', { config: { access: ['admin'] } }, () => status.check());
  };
}
