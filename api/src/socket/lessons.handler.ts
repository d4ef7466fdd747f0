import {
  AppError,
  ObjectIdString,
  TranscodeProgress,
  type AccessClaims,
  type LessonClientEvents,
  type LessonServerEvents,
  type Role,
} from '@sky/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { Server } from 'socket.io';
import type { LessonService } from '../services/lessons.service.js';

const ALLOWED: readonly Role[] = ['teacher', 'admin'];

/**
 * Namespace /lessons: a teacher's page watches its lessons and receives transcoding progress live.
 * The same role guard as HTTP: a signed-in teacher or admin, checked at connect; each watch request is
 * checked against the lesson's owner.
 */
export function registerLessonsNamespace(
  io: Server,
  deps: { verify: (token: string) => AccessClaims; lessons: LessonService; log: FastifyBaseLogger },
) {
  const nsp = io.of('/lessons') as unknown as import('socket.io').Namespace<
    LessonClientEvents,
    LessonServerEvents
  >;
  nsp.use((socket, next) => {
    try {
      const raw = (socket.handshake.auth as { token?: unknown }).token;
      const token = typeof raw === 'string' ? raw : '';
      const actor = deps.verify(token);
      if (!ALLOWED.includes(actor.role)) throw new AppError('FORBIDDEN', 'teachers and admins only');
      (socket.data as { actor?: AccessClaims }).actor = actor;
      next();
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('UNAUTHENTICATED', 'sign in first');
      next(Object.assign(new Error(e.message), { data: { code: e.code } }));
    }
  });
  nsp.on('connection', (socket) => {
    const actor = (socket.data as { actor: AccessClaims }).actor;
    socket.on('lesson:watch', (req, ack) => {
      if (typeof ack !== 'function') return;
      const id = ObjectIdString.safeParse((req as { lessonId?: unknown } | undefined)?.lessonId);
      if (!id.success) {
        ack({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'lessonId must be a lesson id' } });
        return;
      }
      deps.lessons
        .assertOwner(actor, id.data)
        .then(async () => {
          await socket.join(`lesson:${id.data}`);
          ack({ ok: true, data: { lessonId: id.data } });
        })
        .catch((err: unknown) => {
          const e = err instanceof AppError ? err : new AppError('INTERNAL', 'could not watch this lesson');
          ack({ ok: false, error: { code: e.code, message: e.message } });
        });
    });
  });
  return {
    /** Progress from the transcode queue → the teachers watching that lesson. */
    progress(data: unknown) {
      const p = TranscodeProgress.safeParse(data);
      if (!p.success) {
        deps.log.warn('ignored malformed transcode progress');
        return;
      }
      // every api process hears every progress event from the queue itself: emit to its own sockets only
      nsp.local.to(`lesson:${p.data.lessonId}`).emit('lesson:progress', p.data);
    },
  };
}
