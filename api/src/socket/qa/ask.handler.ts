import type { QaHandler } from './wrap.js';

/** A question, as plain text; anonymous to peers if asked so. One per user per room every 10 s. */
export const ask: QaHandler<'question:ask'> = (ctx, req) => ctx.qa.ask(ctx.actor, req);
