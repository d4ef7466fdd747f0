import { joined, type LiveHandlers } from './wrap.js';

/** The teacher's powers: mute or remove a student on stage, end the lesson for everyone. */
export const moderationHandlers: LiveHandlers<'stage.mute' | 'stage.remove' | 'room.end'> = {
  async 'stage.mute'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.mute(peer, req.userId, req.source);
  },
  async 'stage.remove'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.removeFromStage(peer, req.userId);
  },
  async 'room.end'(ctx) {
    const { room, peer } = await joined(ctx);
    const ended = await ctx.rooms.end(room, peer);
    ctx.joined = undefined;
    return ended;
  },
};
