import { joined, type LiveHandlers } from './wrap.js';

/** Hands and invitations: students raise and lower hands, the teacher invites. */
export const stageHandlers: LiveHandlers<'stage.raiseHand' | 'stage.lowerHand' | 'stage.invite'> = {
  async 'stage.raiseHand'(ctx) {
    const { room, peer } = await joined(ctx);
    // the queue shows the student's name: it may still be on its way from the api (a join just now)
    await peer.named();
    return room.raiseHand(peer);
  },
  async 'stage.lowerHand'(ctx) {
    const { room, peer } = await joined(ctx);
    return room.lowerHand(peer);
  },
  async 'stage.invite'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.invite(peer, req.userId);
  },
};
