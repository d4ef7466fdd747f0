import { AppError, type AccessClaims } from '@sky/contracts';
import type { Server } from 'socket.io';
import type { SessionsEnded } from '../services/auth.service.js';

const userRoom = (userId: string) => `auth:user:${userId}`;
const sessionRoom = (sessionId: string) => `auth:session:${sessionId}`;

/**
 * Sockets follow their sign-in: a connection whose sign-in has ended is refused, and when a sign-in
 * ends (logout, reuse, disable, delete, sign out everywhere) its live connections are closed on every
 * api process (the rooms go through the socket.io Redis adapter). Runs after each namespace's own
 * token check, which leaves the verified claims in `socket.data.actor`.
 */
export function followSessions(
  io: Server,
  namespaces: readonly string[],
  assertLive: (claims: AccessClaims) => Promise<void>,
) {
  for (const name of namespaces) {
    const nsp = io.of(name);
    nsp.use((socket, next) => {
      const actor = (socket.data as { actor?: AccessClaims }).actor;
      if (!actor) return next();
      assertLive(actor).then(
        () => next(),
        (err: unknown) => {
          const e = err instanceof AppError ? err : new AppError('UNAUTHENTICATED', 'sign in first');
          next(Object.assign(new Error(e.message), { data: { code: e.code } }));
        },
      );
    });
    nsp.on('connection', (socket) => {
      const actor = (socket.data as { actor?: AccessClaims }).actor;
      if (actor) void socket.join([userRoom(actor.sub), ...(actor.sid ? [sessionRoom(actor.sid)] : [])]);
    });
  }
  return {
    disconnect(e: SessionsEnded): void {
      const rooms = [...e.sessionIds.map(sessionRoom), ...(e.userId ? [userRoom(e.userId)] : [])];
      if (rooms.length === 0) return;
      for (const name of namespaces) io.of(name).in(rooms).disconnectSockets(true);
    },
  };
}
