import { qaRoomPrefix } from '../../adapters/qa.redis.js';
import type { QaHandler } from './wrap.js';

/** Leaves a lesson's room (moving to another lesson without reconnecting). */
export const leave: QaHandler<'room:leave'> = async (ctx, req) => {
  const prefix = qaRoomPrefix(req.lessonId);
  for (const room of ctx.socket.rooms) if (room.startsWith(prefix)) await ctx.socket.leave(room);
  return { lessonId: req.lessonId };
};
