import type { QaHandler } from './wrap.js';

/** Staff moderation (audited): the user may not ask or edit in this room for a while. */
export const mute: QaHandler<'user:mute'> = (ctx, req) => ctx.qa.mute(ctx.actor, req);
