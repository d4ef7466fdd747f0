import { Stage, type HealthReport } from '@sky/contracts';
import { registerProblemHandlers } from '@sky/contracts/http';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import mongoose, { type Connection } from 'mongoose';
import { z } from 'zod';
import { CatalogRepository } from './adapters/catalog.repository.js';

export interface CurriculumDeps {
  logger: FastifyBaseLogger;
  mongo: Connection;
  version: string;
}

export async function createApp(deps: CurriculumDeps) {
  const startedAt = Date.now();
  const catalog = new CatalogRepository(deps.mongo);
  await catalog.seed();

  const http = Fastify({ loggerInstance: deps.logger }).withTypeProvider<ZodTypeProvider>();
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(http);
  http.get('/healthz', async (_req, reply) => {
    const ok = deps.mongo.readyState === mongoose.ConnectionStates.connected;
    const report: HealthReport = {
      service: 'curriculum',
      ok,
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies: { mongodb: { ok, detail: ok ? 'connected' : 'not connected' } },
    };
    return reply.code(ok ? 200 : 503).send(report);
  });
  // The catalogue is public reference data, like a published school plan.
  http.get('/grades', () => catalog.listGrades());
  http.get('/subjects', { schema: { querystring: z.strictObject({ stage: Stage.optional() }) } }, (req) =>
    catalog.listSubjects(req.query.stage),
  );
  return { http, close: () => http.close() };
}
