import {
  AppError,
  type AccessClaims,
  type QaClientEvents,
  type QaEventName,
  type QaServerEvents,
} from '@sky/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { Namespace, Server } from 'socket.io';
import { qaRoom } from '../../adapters/qa.redis.js';
import type { QaService } from '../../services/qa.service.js';
import { answer } from './answer.handler.js';
import { ask } from './ask.handler.js';
import { remove } from './delete.handler.js';
import { edit } from './edit.handler.js';
import { hide } from './hide.handler.js';
import { join } from './join.handler.js';
import { leave } from './leave.handler.js';
import { mute } from './mute.handler.js';
import { answeredOnAir } from './on-air.handler.js';
import { pin } from './pin.handler.js';
import { upvote } from './upvote.handler.js';
import { bind, guard, type QaContext, type QaHandler } from './wrap.js';

/** Every client event and its handler; the compiler refuses a missing one. */
const HANDLERS: { [K in QaEventName]: QaHandler<K> } = {
  'room:join': join,
  'room:leave': leave,
  'question:ask': ask,
  'question:upvote': upvote,
  'question:answer': answer,
  'question:answeredOnAir': answeredOnAir,
  'question:pin': pin,
  'question:hide': hide,
  'user:mute': mute,
  'question:edit': edit,
  'question:delete': remove,
};

/** Between api processes (through the Redis adapter): how many connections each has in a room. */
interface QaInterServerEvents {
  'qa:online': (lessonId: string, reply: (count: number) => void) => void;
}

/**
 * Namespace /qa: one room per lesson, for every signed-in role. Identity and role come from the access
 * token in `handshake.auth.token`, never from payloads. Room events reach every api process through
 * the socket.io Redis adapter (see QaRedis.commit).
 */
export function registerQaNamespace(
  io: Server,
  deps: { verify: (token: string) => AccessClaims; qa: QaService; log: FastifyBaseLogger },
) {
  const nsp = io.of('/qa') as unknown as Namespace<QaClientEvents, QaServerEvents, QaInterServerEvents>;
  nsp.use((socket, next) => {
    try {
      const raw = (socket.handshake.auth as { token?: unknown }).token;
      const actor = deps.verify(typeof raw === 'string' ? raw : '');
      (socket.data as { actor?: AccessClaims }).actor = actor;
      next();
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('UNAUTHENTICATED', 'sign in first');
      next(Object.assign(new Error(e.message), { data: { code: e.code } }));
    }
  });
  nsp.on('connection', (socket) => {
    const ctx: QaContext = { actor: (socket.data as { actor: AccessClaims }).actor, qa: deps.qa, socket };
    socket.use(guard(deps.log));
    for (const event of Object.keys(HANDLERS) as QaEventName[]) {
      bind(ctx, event, HANDLERS[event] as QaHandler<typeof event>, deps.log);
    }
    // Nothing a client sends should reach here, but an 'error' without a listener would throw.
    socket.on('error', (err) => deps.log.warn({ err, user: ctx.actor.sub }, 'qa socket error'));
  });

  const localOnline = (lessonId: string) =>
    (nsp.adapter.rooms.get(qaRoom(lessonId, 'staff'))?.size ?? 0) +
    (nsp.adapter.rooms.get(qaRoom(lessonId, 'peers'))?.size ?? 0);
  nsp.on('qa:online', (lessonId, reply) => reply(localOnline(lessonId)));

  return {
    /** Connections in a lesson's room across every api process (a slow process is left out). */
    async online(lessonId: string): Promise<number> {
      const others = await nsp.serverSideEmitWithAck('qa:online', lessonId).catch(() => [] as number[]);
      return others.reduce((sum, n) => sum + n, localOnline(lessonId));
    },
  };
}
