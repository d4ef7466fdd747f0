import { joined, type LiveHandlers } from './wrap.js';

/** Receiving: consumers start paused; preferred simulcast layers follow the viewer's window and bandwidth. */
export const consumeHandlers: LiveHandlers<
  'consume' | 'consumer.resume' | 'consumer.pause' | 'consumer.setPreferredLayers'
> = {
  async consume(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.consume(peer, req);
  },
  async 'consumer.resume'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.setConsumerPaused(peer, req.consumerId, false);
  },
  async 'consumer.pause'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.setConsumerPaused(peer, req.consumerId, true);
  },
  async 'consumer.setPreferredLayers'(ctx, req) {
    const { room, peer } = await joined(ctx);
    const { consumerId, ...hint } = req;
    return room.setPreferredLayers(peer, consumerId, hint);
  },
};
