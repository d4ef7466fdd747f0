import type { QaHandler } from './wrap.js';

/** The author takes back a question nobody has answered yet. */
export const remove: QaHandler<'question:delete'> = (ctx, req) => ctx.qa.remove(ctx.actor, req);
