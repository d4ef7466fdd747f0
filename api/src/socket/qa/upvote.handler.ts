import type { QaHandler } from './wrap.js';

/** Toggles the user's vote (one per user and question); 30 votes a minute. */
export const upvote: QaHandler<'question:upvote'> = (ctx, req) => ctx.qa.upvote(ctx.actor, req);
