import { joined, type LiveHandlers } from './wrap.js';

/** WebRTC transports: one per direction per peer (a new one replaces the old). */
export const transportHandlers: LiveHandlers<
  'transport.create' | 'transport.connect' | 'transport.restartIce'
> = {
  async 'transport.create'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.createWebRtcTransport(peer, req.direction);
  },
  async 'transport.connect'(ctx, req) {
    const { room, peer } = await joined(ctx);
    await room.connectTransport(peer, req.transportId, req.dtlsParameters);
    return { transportId: req.transportId };
  },
  async 'transport.restartIce'(ctx, req) {
    const { room, peer } = await joined(ctx);
    return room.restartIce(peer, req.transportId);
  },
};
