// A viewer without WebRTC (the bench, integration tests): admitted like any viewer (its own access token,
// the api's word on the lesson), its media sent as plain RTP to a UDP address: every producer of the room
// now and every one announced later.
import type { AccessClaims } from '@sky/contracts';
import type { Notify } from './room.js';
import type { RoomService } from './room.service.js';

export async function joinPlainViewer(
  rooms: RoomService,
  actor: AccessClaims,
  token: string,
  lessonId: string,
  rtp: { ip: string; port: number },
): Promise<{ peerId: string; consumers: number }> {
  let consume: (producerId: string) => Promise<void> = async () => undefined;
  const notify: Notify = (event, ...args) => {
    if (event !== 'producer.new') return;
    const { producerId } = args[0] as { producerId: string };
    consume(producerId).catch(() => undefined);
  };
  const { room, peer } = await rooms.join(actor, token, lessonId, notify);
  try {
    const transport = await room.createPlainTransport(peer, 'recv', { rtcpMux: true });
    await transport.connect(rtp);
    consume = async (producerId) => {
      const c = await room.consume(peer, {
        transportId: transport.id,
        producerId,
        rtpCapabilities: room.routerRtpCapabilities,
      });
      await room.setConsumerPaused(peer, c.id, false);
    };
    for (const p of room.producerInfos(peer)) await consume(p.producerId);
    return { peerId: peer.id, consumers: peer.consumers.size };
  } catch (err) {
    rooms.leave(room, peer);
    throw err;
  }
}
