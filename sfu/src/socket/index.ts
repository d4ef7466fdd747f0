import {
  AppError,
  LIVE_NAMESPACE,
  type AccessClaims,
  type LiveClientEvents,
  type LiveEventName,
  type LiveServerEvents,
} from '@sky/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { Namespace, Server } from 'socket.io';
import type { RoomService } from '../services/room.service.js';
import { consumeHandlers } from './consume.handler.js';
import { joinHandlers } from './join.handler.js';
import { moderationHandlers } from './moderation.handler.js';
import { produceHandlers } from './produce.handler.js';
import { stageHandlers } from './stage.handler.js';
import { transportHandlers } from './transports.handler.js';
import { bind, guard, type LiveContext, type LiveHandler } from './wrap.js';

/** Every client event and its handler; the compiler refuses a missing one. */
const HANDLERS: { [K in LiveEventName]: LiveHandler<K> } = {
  ...joinHandlers,
  ...transportHandlers,
  ...produceHandlers,
  ...consumeHandlers,
  ...stageHandlers,
  ...moderationHandlers,
};

/**
 * Namespace /live: the signalling of live rooms. Identity comes from the access token in
 * `handshake.auth.token`; the role in a room from the api's lesson, never from payloads.
 */
export function registerLiveNamespace(
  io: Server,
  deps: { verify: (token: string) => AccessClaims; rooms: RoomService; log: FastifyBaseLogger },
) {
  const nsp = io.of(LIVE_NAMESPACE) as unknown as Namespace<LiveClientEvents, LiveServerEvents>;
  nsp.use((socket, next) => {
    try {
      const raw = (socket.handshake.auth as { token?: unknown }).token;
      const token = typeof raw === 'string' ? raw : '';
      const actor = deps.verify(token);
      Object.assign(socket.data as object, { actor, token });
      next();
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('UNAUTHENTICATED', 'sign in first');
      next(Object.assign(new Error(e.message), { data: { code: e.code } }));
    }
  });
  nsp.on('connection', (socket) => {
    const data = socket.data as { actor: AccessClaims; token: string };
    const ctx: LiveContext = { actor: data.actor, token: data.token, rooms: deps.rooms, socket };
    socket.use(guard(deps.log));
    for (const event of Object.keys(HANDLERS) as LiveEventName[]) {
      bind(ctx, event, HANDLERS[event] as LiveHandler<typeof event>, deps.log);
    }
    socket.on('disconnect', () => {
      const j = ctx.joined;
      ctx.joined = undefined;
      if (j) deps.rooms.leave(j.room, j.peer);
    });
    // Nothing a client sends should reach here, but an 'error' without a listener would throw.
    socket.on('error', (err) => deps.log.warn({ err, user: ctx.actor.sub }, 'live socket error'));
  });
  return nsp;
}
