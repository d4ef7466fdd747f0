import { joined, type LiveHandlers } from './wrap.js';

/** Publishing: the teacher's camera/mic/screen, an invited student's mic/camera; own producers only. */
export const produceHandlers: LiveHandlers<
  'produce' | 'producer.pause' | 'producer.resume' | 'producer.close'
> = {
  async produce(ctx, req) {
    const { room, peer } = await joined(ctx);
    // what the peer publishes carries its name (a student invited without a raised hand has none yet)
    await peer.named();
    return room.produce(peer, req);
  },
  async 'producer.pause'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.setProducerPaused(peer, req.producerId, true);
  },
  async 'producer.resume'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.setProducerPaused(peer, req.producerId, false);
  },
  async 'producer.close'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.closeProducer(peer, req.producerId);
  },
};
