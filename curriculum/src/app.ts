import { Stage, type AccessClaims, type HealthReport } from '@sky/contracts';
import { registerGuard, registerProblemHandlers, registerSecurityHeaders } from '@sky/contracts/http';
import { mongoState } from '@sky/contracts/mongo';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import { CatalogRepository } from './adapters/catalog.repository.js';
import { PlanRepository } from './adapters/plan.repository.js';
import { redisPublisher } from './adapters/redis.publisher.js';
import { ScheduleRepository } from './adapters/schedule.repository.js';
import { planRoutes } from './http/plan.routes.js';
import { scheduleRoutes } from './http/schedule.routes.js';
import { generatePlan } from './services/plan-generator.js';
import { ScheduleService } from './services/schedule.service.js';

export interface CurriculumDeps {
  logger: FastifyBaseLogger;
  mongo: Connection;
  redis: Redis;
  /** Redis channel prefix (REDIS_PREFIX). */
  redisPrefix: string;
  /** Checks an api access token (HS256, shared secret). */
  verify: (token: string) => AccessClaims;
  version: string;
  /** Empty database → generate the 3,100-lesson demo plan from this week's Monday and schedule it. */
  seedDemo?: boolean;
}

export async function createApp(deps: CurriculumDeps) {
  const startedAt = Date.now();
  const catalog = new CatalogRepository(deps.mongo);
  await catalog.seed();
  const schedule = new ScheduleService(
    new PlanRepository(deps.mongo),
    new ScheduleRepository(deps.mongo),
    redisPublisher(deps.redis, deps.redisPrefix),
  );
  if (deps.seedDemo && !(await schedule.summary())) {
    const plan = generatePlan({});
    await schedule.replacePlan(plan, 'seed');
    const built = await schedule.build('seed');
    deps.logger.info({ lessons: built.lessons, ms: built.ms, score: built.score }, 'demo plan scheduled');
  }

  const http = Fastify({ loggerInstance: deps.logger }).withTypeProvider<ZodTypeProvider>();
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(http);
  // swagger UI adds <style> elements of its own: inline styles on /docs only, scripts stay 'self'
  registerSecurityHeaders(http, { relaxed: { '/docs': { 'style-src': ["'self'", "'unsafe-inline'"] } } });
  await http.register(swagger, {
    openapi: {
      info: {
        title: '空中课堂 curriculum',
        description: 'The term plan, its schedule, channels and programmes.',
        version: deps.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await http.register(swaggerUi, { routePrefix: '/docs' });
  // Every route but the docs declares who may call it.
  registerGuard(http, deps.verify, '/');
  http.get('/healthz', { config: { access: 'public' } }, async (_req, reply) => {
    // a primary to write to, not merely a connection (the driver stays connected through an election)
    const mongodb = await mongoState(deps.mongo);
    const redisOk = deps.redis.status === 'ready';
    const report: HealthReport = {
      service: 'curriculum',
      ok: mongodb.ok && redisOk,
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies: {
        mongodb,
        redis: { ok: redisOk, detail: deps.redis.status },
      },
    };
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  // The catalogue is public reference data, like a published school plan.
  http.get('/grades', { config: { access: 'public' } }, () => catalog.listGrades());
  http.get(
    '/subjects',
    { config: { access: 'public' }, schema: { querystring: z.strictObject({ stage: Stage.optional() }) } },
    (req) => catalog.listSubjects(req.query.stage),
  );
  await http.register(scheduleRoutes, { schedule });
  await http.register(planRoutes, { schedule });
  return { http, schedule, close: () => http.close() };
}
