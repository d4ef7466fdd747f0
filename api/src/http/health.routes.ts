import { QueueTicket, type HealthReport } from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { TicketIssuer } from '../adapters/tokens.js';
import type { StatusService } from '../services/status.service.js';

export function healthRoutes(
  health: () => Promise<HealthReport>,
  status: StatusService,
  tickets: TicketIssuer,
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
    // The transcoder's queue UI is opened by navigation, which sends no header: a one-use ticket for it
    // goes in the URL instead of the admin's access token.
    app.post(
      '/api/status/queue-ticket',
      { config: { access: ['admin'] }, schema: { response: { 200: QueueTicket } } },
      (req, reply) => {
        void reply.header('cache-control', 'no-store');
        const admin = actorOf(req);
        return { ticket: tickets.sign({ sub: admin.sub, role: admin.role, use: 'queues' }) };
      },
    );
  };
}
