import type { QaHandler } from './wrap.js';

/** Staff moderation (audited): hidden questions stay visible to staff and their author only. */
export const hide: QaHandler<'question:hide'> = (ctx, req) => ctx.qa.hide(ctx.actor, req);
