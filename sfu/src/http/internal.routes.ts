// Routes for other sfu nodes (cascading) and for viewers without WebRTC (bench, tests): never for
// browsers; every request carries CASCADE_SECRET. In a deployment only the internal network reaches them.
import { timingSafeEqual } from 'node:crypto';
import { AppError, type AccessClaims } from '@sky/contracts';
import type { FastifyInstance } from 'fastify';
import type { Cascade } from '../services/cascade.js';
import {
  CASCADE_SECRET_HEADER,
  CascadeEvent,
  LinkRequest,
  PlainViewerRequest,
} from '../services/cascade-wire.js';
import { joinPlainViewer } from '../services/plain-viewer.js';
import type { RoomService } from '../services/room.service.js';

export interface InternalRouteDeps {
  secret: string;
  rooms: RoomService;
  cascade: Cascade;
  verify(token: string): AccessClaims;
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  v: unknown,
): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new AppError('VALIDATION_FAILED', 'malformed internal request');
  return r.data;
}

export function internalRoutes(deps: InternalRouteDeps) {
  const secret = Buffer.from(deps.secret);
  return async (http: FastifyInstance) => {
    http.addHook('onRequest', async (req) => {
      const given = Buffer.from(String(req.headers[CASCADE_SECRET_HEADER] ?? ''));
      if (given.length !== secret.length || !timingSafeEqual(given, secret))
        throw new AppError('UNAUTHENTICATED', 'internal route: wrong or missing cascade secret');
    });

    http.post<{ Params: { lessonId: string } }>('/cascade/lessons/:lessonId/links', async (req) => {
      const body = parse(LinkRequest, req.body);
      const room = deps.rooms.room(req.params.lessonId);
      if (!room || room.closed || deps.cascade.isEdge(room.lessonId))
        throw new AppError('NOT_FOUND', 'this node runs no origin room of that lesson');
      await room.settled();
      return deps.cascade.openLink(room, body);
    });

    http.post<{ Params: { lessonId: string } }>('/cascade/lessons/:lessonId/events', async (req) => {
      const event = parse(CascadeEvent, req.body);
      const known = deps.cascade.edgeEvent(req.params.lessonId, event, (room, ended) =>
        deps.rooms.endEdge(room, ended),
      );
      // the origin drops its link on an error answer: this node has no such room any more
      if (!known) throw new AppError('NOT_FOUND', 'no edge room of that lesson here');
      return { ok: true };
    });

    // a bench's viewers join by the hundred: their requests are not logged one by one (failures are)
    http.post('/plain-viewers', { logLevel: 'warn' }, async (req) => {
      const body = parse(PlainViewerRequest, req.body);
      return joinPlainViewer(deps.rooms, deps.verify(body.token), body.token, body.lessonId, body.rtp);
    });
  };
}
