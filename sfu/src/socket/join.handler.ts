import type { Notify } from '../services/room.js';
import type { LiveContext, LiveHandlers } from './wrap.js';

const notifier =
  (ctx: LiveContext): Notify =>
  (event, ...args) => {
    (ctx.socket.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
  };

/** room.join / room.leave: admission (role from the api and the token), snapshot of the room. */
export const joinHandlers: LiveHandlers<'room.join' | 'room.leave'> = {
  async 'room.join'(ctx, req) {
    const current = ctx.joined;
    if (
      current &&
      !current.room.closed &&
      current.room.lessonId === req.lessonId &&
      current.room.peers.get(current.peer.id) === current.peer
    ) {
      // Joining again on the same socket (after room.restarted, or a confused client): fresh media.
      await current.room.settled();
      current.room.resetMedia(current.peer, 'closed');
      return ctx.rooms.snapshot(current.room, current.peer);
    }
    if (current) {
      ctx.rooms.leave(current.room, current.peer);
      ctx.joined = undefined;
    }
    const j = await ctx.rooms.join(ctx.actor, ctx.token, req.lessonId, notifier(ctx));
    if (!ctx.socket.connected) {
      ctx.rooms.leave(j.room, j.peer);
      return ctx.rooms.snapshot(j.room, j.peer);
    }
    ctx.joined = j;
    return ctx.rooms.snapshot(j.room, j.peer);
  },
  async 'room.leave'(ctx) {
    const current = ctx.joined;
    ctx.joined = undefined;
    if (current) ctx.rooms.leave(current.room, current.peer);
    return { lessonId: current?.room.lessonId ?? '' };
  },
};
