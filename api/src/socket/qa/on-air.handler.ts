import type { QaHandler } from './wrap.js';

/** Staff mark a question answered out loud in the lesson (or take that back). */
export const answeredOnAir: QaHandler<'question:answeredOnAir'> = (ctx, req) =>
  ctx.qa.answeredOnAir(ctx.actor, req);
