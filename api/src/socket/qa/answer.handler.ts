import type { QaHandler } from './wrap.js';

/** Staff answer in text; the room sees it live. */
export const answer: QaHandler<'question:answer'> = (ctx, req) => ctx.qa.answer(ctx.actor, req);
