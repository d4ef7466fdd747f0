import type { QaHandler } from './wrap.js';

/** Staff pin a question to the top of the room, or unpin it. */
export const pin: QaHandler<'question:pin'> = (ctx, req) => ctx.qa.pin(ctx.actor, req);
