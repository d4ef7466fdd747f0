import { LessonParams, PlaybackPositionBody } from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PositionService } from '../services/positions.service.js';

/** The signed-in viewer's resume position in a lesson: read when the player opens, written as it plays. */
export function positionRoutes(positions: PositionService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/me/positions/:id',
      { config: { access: 'authenticated' }, schema: { params: LessonParams } },
      (req) => positions.get(actorOf(req), req.params.id),
    );
    app.put(
      '/api/me/positions/:id',
      { config: { access: 'authenticated' }, schema: { params: LessonParams, body: PlaybackPositionBody } },
      (req) => positions.save(actorOf(req), req.params.id, req.body.positionSec),
    );
  };
}
