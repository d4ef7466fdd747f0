import { actorOf } from '@sky/contracts/http';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ScheduleService } from '../services/schedule.service.js';

const ADMIN = ['admin'] as const;
// 20,000 lessons (the contract's cap) are about 5 MB of pretty-printed JSON.
const PLAN_BODY_LIMIT = 8 * 1024 * 1024;
const CsvPart = z.strictObject({ part: z.enum(['lessons', 'teachers']) });

/**
 * The plan in and out. Imports take the file as it is (JSON text, or CSV for lessons/teachers) so that
 * errors name the file's own lines and columns; an import is all or nothing.
 */
export async function planRoutes(app: FastifyInstance, { schedule }: { schedule: ScheduleService }) {
  const http = app.withTypeProvider<ZodTypeProvider>();
  // This plugin's routes read bodies as text: JSON plans are parsed by the plan importer, not fastify.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'text/csv', 'text/plain'],
    { parseAs: 'string', bodyLimit: PLAN_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );

  http.get(
    '/plan',
    {
      config: { access: 'public' },
      schema: { tags: ['plan'], summary: 'The current plan as JSON (export)' },
    },
    async (_req, reply) => {
      const { plan, version } = await schedule.plan();
      return reply.header('etag', `"plan-${version}"`).send(plan);
    },
  );
  http.put(
    '/plan',
    {
      config: { access: ADMIN },
      bodyLimit: PLAN_BODY_LIMIT,
      schema: {
        tags: ['plan'],
        summary: 'Replace the plan with a JSON plan (all or nothing; 422 lists every bad item)',
      },
    },
    (req) => schedule.importJson(textOf(req.body), actorOf(req).sub),
  );
  http.get(
    '/plan/:part.csv',
    {
      config: { access: 'public' },
      schema: { tags: ['plan'], summary: 'Lessons or teachers as CSV (UTF-8 with BOM)', params: CsvPart },
    },
    async (req, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${req.params.part}.csv"`)
        .send(await schedule.exportCsv(req.params.part)),
  );
  http.put(
    '/plan/:part.csv',
    {
      config: { access: ADMIN },
      bodyLimit: PLAN_BODY_LIMIT,
      schema: {
        tags: ['plan'],
        summary: 'Replace the lessons or teachers from CSV (422 lists every bad row)',
        params: CsvPart,
      },
    },
    (req) => schedule.importCsv(req.params.part, textOf(req.body), actorOf(req).sub),
  );
}

/** The raw text this plugin's parser kept (an empty body is no body). */
function textOf(body: unknown): string {
  return typeof body === 'string' ? body : '';
}
