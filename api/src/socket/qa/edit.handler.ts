import type { QaHandler } from './wrap.js';

/** The author rewords a question nobody has answered yet. */
export const edit: QaHandler<'question:edit'> = (ctx, req) => ctx.qa.edit(ctx.actor, req);
