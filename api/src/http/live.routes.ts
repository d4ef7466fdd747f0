import { LessonParams, LiveInfoQuery } from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { LiveService } from '../services/live.service.js';

export function liveRoutes(live: LiveService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/lessons/:id/live',
      { config: { access: ['teacher', 'admin'] }, schema: { params: LessonParams } },
      async (req, reply) => reply.code(201).send(await live.start(actorOf(req), req.params.id)),
    );
    app.get(
      '/api/lessons/:id/live',
      { config: { access: 'authenticated' }, schema: { params: LessonParams, querystring: LiveInfoQuery } },
      (req) => live.get(actorOf(req), req.params.id, req.query.unreachable),
    );
    app.get(
      '/api/public/lessons/:id/live',
      { config: { access: 'public' }, schema: { params: LessonParams } },
      (req) => live.state(req.params.id),
    );
  };
}
