import { qaRoom } from '../../adapters/qa.redis.js';
import type { QaHandler } from './wrap.js';

/**
 * Enters a lesson's room (staff and peers hear different versions of the same changes) and answers
 * with a page of questions, or, with `since`, the changes missed since then.
 */
export const join: QaHandler<'room:join'> = (ctx, req) =>
  ctx.qa.join(ctx.actor, req, async (rooms) => {
    await ctx.socket.join(rooms.map((r) => qaRoom(req.lessonId, r)));
  });
