// The peers' media in one room: WebRTC (and in-process plain) transports, producers, consumers and their
// layers, through the RoomMedia port. Where each transport goes is the router topology's business.
import {
  AppError,
  LIVE_LIMITS,
  SOURCE_KIND,
  type ConsumerInfo,
  type LiveSource,
  type ProducerClosedEvent,
  type RtpCapabilities,
  type RtpParameters,
  type TransportDirection,
  type TransportInfo,
} from '@sky/contracts';
import type {
  MediaConsumer,
  MediaRouter,
  MediaTransport,
  PlainMediaTransport,
  RoomMedia,
  WebRtcMediaTransport,
} from '../adapters/room-media.js';
import { chooseLayers, type LayerHint, type Layers } from './layers.js';
import type { Peer, PeerProducer, PeerTransport } from './peer.js';
import { producerInfo, type RoomPeers } from './room-peers.js';
import type { RoomRouters, RouterSlot } from './room-routers.js';

export interface PeerMediaDeps {
  media: RoomMedia;
  peers: RoomPeers;
  routers: RoomRouters;
  /** The teacher's producers changed: the HLS bridge follows. */
  teacherMediaChanged(): void;
  /** One of the peer's producers was resumed (a teacher's mute may be over). */
  resumed(peer: Peer): void;
  /** A new producer, announced to the room (cascade links pipe it to other nodes). */
  produced(peer: Peer, pp: PeerProducer): void;
}

export class PeerMedia {
  /** While tearing media down on purpose: no per-item events to clients. */
  quiet = false;

  constructor(private readonly deps: PeerMediaDeps) {}

  // Transports

  async createWebRtcTransport(peer: Peer, direction: TransportDirection): Promise<TransportInfo> {
    const t = await this.addTransport(peer, direction, true, (router) =>
      this.deps.media.createWebRtcTransport(router, direction),
    );
    return {
      id: t.id,
      direction,
      iceParameters: t.iceParameters,
      iceCandidates: t.iceCandidates,
      dtlsParameters: t.dtlsParameters,
    };
  }

  createPlainTransport(
    peer: Peer,
    direction: TransportDirection,
    opts: { comedia?: boolean; rtcpMux?: boolean } = {},
  ): Promise<PlainMediaTransport> {
    return this.addTransport(peer, direction, false, (router) =>
      this.deps.media.createPlainTransport(router, {
        comedia: opts.comedia ?? false,
        rtcpMux: opts.rtcpMux ?? true,
      }),
    );
  }

  private async addTransport<T extends MediaTransport>(
    peer: Peer,
    direction: TransportDirection,
    webrtc: boolean,
    create: (router: MediaRouter) => Promise<T>,
  ): Promise<T> {
    if (!webrtc) return this.placeTransport(peer, direction, false, create);
    // A bounded number of WebRTC transports per peer, counting those still being made: asks sent all at
    // once must not each get their own before any replaces another.
    if (peer.creatingTransports >= LIVE_LIMITS.transportsPerPeer) {
      throw new AppError('RATE_LIMITED', 'a transport is being created already; wait for it');
    }
    peer.creatingTransports += 1;
    try {
      return await this.placeTransport(peer, direction, true, create);
    } finally {
      peer.creatingTransports -= 1;
    }
  }

  private async placeTransport<T extends MediaTransport>(
    peer: Peer,
    direction: TransportDirection,
    webrtc: boolean,
    create: (router: MediaRouter) => Promise<T>,
  ): Promise<T> {
    // One WebRTC transport per direction: a new one (reconnect, ICE failure) replaces the old. (In-process
    // PlainTransports carry one stream each and are left alone.)
    if (webrtc) this.replaceTransports(peer, direction);
    const slot = direction === 'send' ? this.deps.routers.origin : await this.deps.routers.placeViewer();
    const transport = await create(slot.router);
    if (this.deps.peers.get(peer.id) !== peer) {
      // The peer left (or its account joined again elsewhere) while this was being made.
      this.deps.media.closeTransport(transport);
      throw new AppError('NOT_JOINED', 'no longer in the room; send room.join again');
    }
    // Another ask of the same direction finished meanwhile: the newest wins, as above.
    if (webrtc) this.replaceTransports(peer, direction);
    // Entries stay when the router dies under them (a worker death), so the recovery knows whom to tell.
    peer.transports.set(transport.id, { transport, direction, slot, webrtc });
    return transport;
  }

  /** Closes the peer's WebRTC transport(s) of one direction (and a send transport's producers). */
  private replaceTransports(peer: Peer, direction: TransportDirection): void {
    for (const [id, t] of peer.transports) {
      if (!t.webrtc || t.direction !== direction) continue;
      if (direction === 'send')
        this.closeProducersOf(peer, (pp) => pp.producer.appData['transportId'] === id);
      this.deps.media.closeTransport(t.transport);
      peer.transports.delete(id);
    }
  }

  async connectTransport(peer: Peer, transportId: string, dtlsParameters: unknown): Promise<void> {
    const t = this.webRtcTransportOf(peer, transportId);
    if (t.dtlsState !== 'new') throw new AppError('CONFLICT', 'that transport is already connected');
    await this.deps.media.connectTransport(t, dtlsParameters);
  }

  async restartIce(peer: Peer, transportId: string) {
    const t = this.webRtcTransportOf(peer, transportId);
    return { transportId, iceParameters: await this.deps.media.restartIce(t) };
  }

  private webRtcTransportOf(peer: Peer, transportId: string): WebRtcMediaTransport {
    const t = this.transportOf(peer, transportId);
    if (!t.webrtc) throw new AppError('VALIDATION_FAILED', 'transportId: not a WebRTC transport');
    return t.transport as WebRtcMediaTransport;
  }

  transportOf(peer: Peer, transportId: string): PeerTransport {
    const t = peer.transports.get(transportId);
    if (!t || t.transport.closed) throw new AppError('NOT_FOUND', 'no such transport of yours in this room');
    return t;
  }

  // Producers

  /** Publishing; who may publish what is the stage's to say first. */
  async produce(
    peer: Peer,
    req: { transportId: string; kind: 'audio' | 'video'; source: LiveSource; rtpParameters: RtpParameters },
  ): Promise<{ producerId: string }> {
    if (SOURCE_KIND[req.source] !== req.kind)
      throw new AppError('VALIDATION_FAILED', 'kind: does not fit source');
    const t = this.transportOf(peer, req.transportId);
    if (t.direction !== 'send') throw new AppError('VALIDATION_FAILED', 'transportId: not a send transport');
    for (const pp of peer.producers.values())
      if (pp.source === req.source) throw new AppError('CONFLICT', `already publishing ${req.source}`);
    const { peers } = this.deps;
    const producer = await this.deps.media.produce(
      t.transport,
      {
        kind: req.kind,
        rtpParameters: req.rtpParameters,
        appData: { source: req.source, peerId: peer.id, transportId: t.transport.id },
      },
      () => {
        if (peer.producers.delete(producer.id) && !this.quiet)
          peers.broadcast('producer.closed', { producerId: producer.id, reason: 'closed' }, peer);
      },
    );
    const pp: PeerProducer = { producer, source: req.source };
    peer.producers.set(producer.id, pp);
    await this.deps.routers.wire(producer.id, req.kind);
    if (!peer.producers.has(producer.id)) throw new AppError('CONFLICT', 'the transport closed meanwhile');
    peers.broadcast('producer.new', producerInfo(peer, pp), peer);
    if (peer.role === 'teacher') this.deps.teacherMediaChanged();
    this.deps.produced(peer, pp);
    return { producerId: producer.id };
  }

  private producerOf(peer: Peer, producerId: string): PeerProducer {
    const pp = peer.producers.get(producerId);
    if (!pp) throw new AppError('NOT_FOUND', 'no such producer of yours');
    return pp;
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean) {
    const pp = this.producerOf(peer, producerId);
    await this.pauseProducer(peer, pp, paused, 'owner');
    return { producerId, paused };
  }

  async pauseProducer(peer: Peer, pp: PeerProducer, paused: boolean, by: 'owner' | 'teacher') {
    await this.deps.media.setProducerPaused(pp.producer, paused);
    if (paused) pp.pausedBy = by;
    else delete pp.pausedBy;
    if (!paused) this.deps.resumed(peer);
    // the HLS stage skips a paused camera or screen (bridge-sources)
    if (peer.role === 'teacher') this.deps.teacherMediaChanged();
    this.deps.peers.broadcast('producer.state', { producerId: pp.producer.id, paused, by });
  }

  closeProducer(peer: Peer, producerId: string): { producerId: string } {
    this.producerOf(peer, producerId);
    this.closeProducersOf(peer, (pp) => pp.producer.id === producerId);
    return { producerId };
  }

  closeProducersOf(
    peer: Peer,
    which: (pp: PeerProducer) => boolean,
    reason: ProducerClosedEvent['reason'] = 'closed',
  ): number {
    let n = 0;
    for (const [id, pp] of peer.producers) {
      if (!which(pp)) continue;
      peer.producers.delete(id);
      this.deps.media.closeProducer(pp.producer);
      this.deps.peers.broadcast('producer.closed', { producerId: id, reason }, peer);
      n += 1;
    }
    if (n && peer.role === 'teacher') this.deps.teacherMediaChanged();
    return n;
  }

  // Consumers

  async consume(
    peer: Peer,
    req: { transportId: string; producerId: string; rtpCapabilities: RtpCapabilities },
  ): Promise<ConsumerInfo> {
    const t = this.transportOf(peer, req.transportId);
    if (t.direction !== 'recv')
      throw new AppError('VALIDATION_FAILED', 'transportId: not a receive transport');
    const found = this.deps.peers.findProducer(req.producerId);
    if (!found) throw new AppError('NOT_FOUND', 'no such producer in this room');
    if (found.peer === peer) throw new AppError('VALIDATION_FAILED', 'producerId: that is your own producer');
    for (const pc of peer.consumers.values())
      if (pc.consumer.producerId === req.producerId) throw new AppError('CONFLICT', 'already consuming it');
    // A producer born while this edge router was being set up may not be piped yet.
    await this.deps.routers.pipe(req.producerId, t.slot);
    if (!this.deps.media.canConsume(t.slot.router, req.producerId, req.rtpCapabilities))
      throw new AppError('VALIDATION_FAILED', 'rtpCapabilities: this device cannot receive that stream');
    const slot = t.slot;
    const gone = (tell: boolean) => () => {
      if (peer.consumers.delete(consumer.id) && tell && !this.quiet)
        peer.notify('consumer.closed', { consumerId: consumer.id, producerId: consumer.producerId });
    };
    const consumer = await this.deps.media.consume(
      t.transport,
      { producerId: req.producerId, rtpCapabilities: req.rtpCapabilities },
      { closed: () => (slot.consumers -= 1), producerClosed: gone(true), transportClosed: gone(false) },
    );
    slot.consumers += 1;
    peer.consumers.set(consumer.id, { consumer, source: found.pp.source });
    return {
      id: consumer.id,
      producerId: consumer.producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
      source: found.pp.source,
      peerId: found.peer.id,
      userId: found.peer.userId,
    };
  }

  private consumerOf(peer: Peer, consumerId: string): MediaConsumer {
    const pc = peer.consumers.get(consumerId);
    if (!pc) throw new AppError('NOT_FOUND', 'no such consumer of yours');
    return pc.consumer;
  }

  async setConsumerPaused(peer: Peer, consumerId: string, paused: boolean) {
    const c = this.consumerOf(peer, consumerId);
    await this.deps.media.setConsumerPaused(c, paused);
    return { consumerId };
  }

  async setPreferredLayers(peer: Peer, consumerId: string, hint: LayerHint) {
    const c = this.consumerOf(peer, consumerId);
    if (c.type !== 'simulcast' && c.type !== 'svc')
      throw new AppError('VALIDATION_FAILED', 'consumerId: that stream has a single layer');
    const svc = Number(/^L(\d)/.exec(c.rtpParameters.encodings?.[0]?.scalabilityMode ?? '')?.[1] ?? 3);
    const layers: Layers = chooseLayers(hint, c.type === 'simulcast' ? this.simulcastLayers(c) : svc);
    await this.deps.media.setPreferredLayers(c, layers);
    return { consumerId, ...layers };
  }

  private simulcastLayers(c: MediaConsumer): number {
    const found = this.deps.peers.findProducer(c.producerId);
    return found?.pp.producer.rtpParameters.encodings?.length ?? 3;
  }

  // Teardown

  /** Closes a peer's transports (and so its producers and consumers). */
  reset(peer: Peer, reason: ProducerClosedEvent['reason']): void {
    const hadTeacherMedia = peer.role === 'teacher' && peer.producers.size > 0;
    for (const [id, pp] of peer.producers) {
      peer.producers.delete(id);
      this.deps.media.closeProducer(pp.producer);
      this.deps.peers.broadcast('producer.closed', { producerId: id, reason }, peer);
    }
    const quiet = this.quiet;
    this.quiet = true;
    for (const t of peer.transports.values()) this.deps.media.closeTransport(t.transport);
    this.quiet = quiet;
    peer.transports.clear();
    peer.consumers.clear();
    if (hadTeacherMedia) this.deps.teacherMediaChanged();
  }

  /** The origin died: every peer's media is gone (the room tells them to re-create it). */
  dropAll(): void {
    for (const peer of this.deps.peers.values()) {
      peer.producers.clear();
      for (const t of peer.transports.values()) this.deps.media.closeTransport(t.transport);
      peer.transports.clear();
      peer.consumers.clear();
    }
  }

  /** An edge router died: its viewers lose their receive transports there; says whose. */
  dropRouter(slot: RouterSlot): Peer[] {
    const affected: Peer[] = [];
    for (const peer of this.deps.peers.values()) {
      let hit = false;
      for (const [id, t] of peer.transports)
        if (t.slot === slot) {
          this.deps.media.closeTransport(t.transport);
          peer.transports.delete(id);
          hit = true;
        }
      if (!hit) continue;
      for (const [id, pc] of peer.consumers) if (pc.consumer.closed) peer.consumers.delete(id);
      affected.push(peer);
    }
    return affected;
  }
}
