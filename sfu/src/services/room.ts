// One live lesson's room, as the socket handlers and RoomService see it: a façade over its parts — the
// router topology (room-routers.ts), the peers' media (peer-media.ts), the stage (room-stage.ts), the
// HLS bridge link (bridge-link.ts) and the viewer count. It owns the lesson's life: open, a worker's
// death (what the peers lose, and telling them), end.
import {
  AppError,
  type ConsumerInfo,
  type LiveServerEvents,
  type LiveSource,
  type ProducerClosedEvent,
  type ProducerInfo,
  type RoomEnded,
  type RtpCapabilities,
  type RtpParameters,
  type StageState,
  type TransportDirection,
  type TransportInfo,
} from '@sky/contracts';
import type { MediaProducer, MediaRouter, PlainMediaTransport, RoomMedia } from '../adapters/room-media.js';
import { BridgeLink, type BridgeFactory } from './bridge-link.js';
import type { LayerHint } from './layers.js';
import { Peer, type PeerProducer, type PeerTransport } from './peer.js';
import { PeerMedia } from './peer-media.js';
import { producerInfo, RoomPeers, type RoomLogger } from './room-peers.js';
import { RoomRouters, type RouterSlot } from './room-routers.js';
import { mustTeach, RoomStage } from './room-stage.js';
import type { Stage } from './stage.js';
import { ViewerCount } from './viewer-count.js';

export type { BridgeFactory, RoomBridge } from './bridge-link.js';
export { Peer, type Notify } from './peer.js';
export type { RoomLogger } from './room-peers.js';

export interface RoomDeps {
  media: RoomMedia;
  log: RoomLogger;
  consumerThreshold: number;
  bridges?: BridgeFactory | undefined;
}

export class Room {
  readonly peers: RoomPeers;
  readonly stage: Stage;
  epoch = 0;
  closed = false;
  /** Hear every new producer of this room's own peers (the cascade's links to other nodes). */
  readonly producedTaps = new Set<(peer: Peer, pp: PeerProducer) => void>();
  private readonly topology: RoomRouters;
  private readonly media: PeerMedia;
  private readonly staging: RoomStage;
  private readonly bridge: BridgeLink;
  private readonly viewers: ViewerCount;

  private constructor(
    readonly lessonId: string,
    readonly teacherId: string,
    readonly startedAt: string,
    private readonly deps: RoomDeps,
  ) {
    const peers = new RoomPeers(deps.log);
    this.peers = peers;
    this.topology = new RoomRouters({
      lessonId,
      media: deps.media,
      log: deps.log,
      consumerThreshold: deps.consumerThreshold,
      closed: () => this.closed,
      *producerIds() {
        for (const pp of peers.producers()) yield pp.producer.id;
      },
      onDominantSpeaker: (producerId) => {
        const found = peers.findProducer(producerId);
        this.broadcast('activeSpeaker', {
          peerId: found?.peer.id ?? null,
          userId: found?.peer.userId ?? null,
        });
      },
      onWorkerDeath: (slot, origin) => (origin ? this.restartAll() : this.restartEdge(slot)),
    });
    this.media = new PeerMedia({
      media: deps.media,
      peers,
      routers: this.topology,
      teacherMediaChanged: () => this.updateBridge(),
      resumed: (peer) => this.staging.resumed(peer),
      produced: (peer, pp) => {
        for (const tap of this.producedTaps) tap(peer, pp);
      },
    });
    this.staging = new RoomStage(lessonId, peers, this.media);
    this.stage = this.staging.stage;
    this.bridge = new BridgeLink(lessonId, startedAt, deps);
    this.viewers = new ViewerCount(() =>
      this.broadcast('viewerCount', { lessonId, webrtc: peers.size, students: peers.students() }),
    );
  }

  static async open(lessonId: string, teacherId: string, startedAt: string, deps: RoomDeps): Promise<Room> {
    const room = new Room(lessonId, teacherId, startedAt, deps);
    await room.topology.open();
    return room;
  }

  get routerRtpCapabilities(): RtpCapabilities {
    return this.topology.origin.router.rtpCapabilities;
  }

  /** The routers this room uses now: for tests and the bench. */
  routers(): { router: MediaRouter; workerIndex: number; consumers: number; origin: boolean }[] {
    const origin = this.topology.origin;
    return this.topology.list().map((s) => ({ ...s, origin: s === origin }));
  }

  async settled(): Promise<void> {
    await this.topology.ready;
    if (this.closed) throw new AppError('NOT_LIVE', 'the lesson has ended');
  }

  // Peers

  addPeer(peer: Peer): void {
    this.peers.set(peer.id, peer);
    this.viewers.schedule();
  }

  removePeer(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    this.media.reset(peer, 'left');
    this.staging.left(peer);
    this.viewers.schedule();
  }

  /** Closes a peer's transports (and so its producers and consumers). */
  resetMedia(peer: Peer, reason: ProducerClosedEvent['reason']): void {
    this.media.reset(peer, reason);
  }

  students(): number {
    return this.peers.students();
  }

  producerInfos(except?: Peer): ProducerInfo[] {
    return this.peers.producerInfos(except);
  }

  broadcast<E extends keyof LiveServerEvents>(
    event: E,
    payload: Parameters<LiveServerEvents[E]>[0],
    except?: Peer,
  ): void {
    this.peers.broadcast(event, payload, except);
  }

  // Media

  createWebRtcTransport(peer: Peer, direction: TransportDirection): Promise<TransportInfo> {
    return this.media.createWebRtcTransport(peer, direction);
  }

  /**
   * A PlainTransport on the same placement as a WebRTC one: tests and the bench send or receive RTP with
   * ffmpeg / UDP sockets through it (Node has no WebRTC). Not reachable from the socket API.
   */
  createPlainTransport(
    peer: Peer,
    direction: TransportDirection,
    opts: { comedia?: boolean; rtcpMux?: boolean } = {},
  ): Promise<PlainMediaTransport> {
    return this.media.createPlainTransport(peer, direction, opts);
  }

  connectTransport(peer: Peer, transportId: string, dtlsParameters: unknown): Promise<void> {
    return this.media.connectTransport(peer, transportId, dtlsParameters);
  }

  restartIce(peer: Peer, transportId: string) {
    return this.media.restartIce(peer, transportId);
  }

  transportOf(peer: Peer, transportId: string): PeerTransport {
    return this.media.transportOf(peer, transportId);
  }

  produce(
    peer: Peer,
    req: { transportId: string; kind: 'audio' | 'video'; source: LiveSource; rtpParameters: RtpParameters },
  ): Promise<{ producerId: string }> {
    this.staging.mayPublish(peer, req.source);
    return this.media.produce(peer, req);
  }

  setProducerPaused(peer: Peer, producerId: string, paused: boolean) {
    return this.media.setProducerPaused(peer, producerId, paused);
  }

  closeProducer(peer: Peer, producerId: string): { producerId: string } {
    return this.media.closeProducer(peer, producerId);
  }

  consume(
    peer: Peer,
    req: { transportId: string; producerId: string; rtpCapabilities: RtpCapabilities },
  ): Promise<ConsumerInfo> {
    return this.media.consume(peer, req);
  }

  setConsumerPaused(peer: Peer, consumerId: string, paused: boolean) {
    return this.media.setConsumerPaused(peer, consumerId, paused);
  }

  setPreferredLayers(peer: Peer, consumerId: string, hint: LayerHint) {
    return this.media.setPreferredLayers(peer, consumerId, hint);
  }

  // Cascading: producers of another node's room, piped in

  /** The router producers live on (cascade links attach here). */
  get originRouter(): MediaRouter {
    return this.topology.origin.router;
  }

  /** The peers' producers with what a cascade link needs of them. */
  ownProducers(): { peer: Peer; pp: PeerProducer }[] {
    const out: { peer: Peer; pp: PeerProducer }[] = [];
    for (const peer of this.peers.values())
      if (!peer.remote) for (const pp of peer.producers.values()) out.push({ peer, pp });
    return out;
  }

  /**
   * A producer of the origin node, piped into this room: its peer shows here as a remote peer (same
   * id, name and role), and viewers consume it as any other.
   */
  async adoptRemote(info: ProducerInfo, producer: MediaProducer): Promise<void> {
    let peer = this.peers.get(info.peerId);
    if (!peer) {
      peer = new Peer(info.userId, info.name, info.role, () => undefined, { id: info.peerId });
      this.peers.set(peer.id, peer);
    }
    const pp: PeerProducer = { producer, source: info.source };
    peer.producers.set(producer.id, pp);
    await this.topology.wire(producer.id, producer.kind);
    this.broadcast('producer.new', producerInfo(peer, pp), peer);
  }

  /** A piped producer closed at the origin (or the link went): its consumers here close with it. */
  dropRemote(producerId: string): void {
    const found = this.peers.findProducer(producerId);
    if (!found?.peer.remote) return;
    found.peer.producers.delete(producerId);
    this.deps.media.closeProducer(found.pp.producer);
    this.broadcast('producer.closed', { producerId, reason: 'closed' }, found.peer);
    if (found.peer.producers.size === 0) this.peers.delete(found.peer.id);
  }

  /** A piped producer was paused or resumed at the origin. */
  async remotePaused(producerId: string, paused: boolean): Promise<void> {
    const found = this.peers.findProducer(producerId);
    if (!found?.peer.remote) return;
    await this.deps.media.setProducerPaused(found.pp.producer, paused);
    this.broadcast('producer.state', { producerId, paused, by: 'owner' });
  }

  // Stage

  raiseHand(peer: Peer): StageState {
    return this.staging.raiseHand(peer);
  }

  lowerHand(peer: Peer): StageState {
    return this.staging.lowerHand(peer);
  }

  invite(actor: Peer, userId: string): StageState {
    return this.staging.invite(actor, userId);
  }

  removeFromStage(actor: Peer, userId: string): StageState {
    return this.staging.remove(actor, userId);
  }

  mute(actor: Peer, userId: string, source?: 'mic' | 'camera'): Promise<StageState> {
    return this.staging.mute(actor, userId, source);
  }

  mustTeach(peer: Peer): void {
    mustTeach(peer);
  }

  // Bridge

  private updateBridge(): void {
    if (this.closed) return;
    this.bridge.follow(this.peers.teachers(), this.topology.origin.router);
  }

  // Worker death

  /** The origin died: every peer's media is gone; a new origin on a live worker, clients re-create. */
  private async restartAll(): Promise<void> {
    this.media.quiet = true;
    try {
      this.media.dropAll();
      await this.topology.replaceOrigin();
    } finally {
      this.media.quiet = false;
    }
    this.epoch += 1;
    const origin = this.topology.origin;
    this.bridge.moveTo(origin.router);
    this.deps.log.info(
      { lessonId: this.lessonId, worker: origin.workerIndex, epoch: this.epoch },
      'room restarted',
    );
    this.broadcast('room.restarted', {
      lessonId: this.lessonId,
      epoch: this.epoch,
      producers: [],
      routerRtpCapabilities: this.routerRtpCapabilities,
    });
  }

  /** An edge router died: only its viewers lost their receive transports; producers stay. */
  private async restartEdge(slot: RouterSlot): Promise<void> {
    this.topology.dropEdge(slot);
    this.media.quiet = true;
    const affected = this.media.dropRouter(slot);
    this.media.quiet = false;
    this.epoch += 1;
    for (const peer of affected)
      peer.notify('room.restarted', {
        lessonId: this.lessonId,
        epoch: this.epoch,
        producers: this.producerInfos(peer),
        routerRtpCapabilities: this.routerRtpCapabilities,
      });
  }

  // End

  async end(): Promise<RoomEnded & { durationSec: number }> {
    await this.topology.ready;
    this.closed = true;
    this.viewers.stop();
    const endedAt = new Date().toISOString();
    const result = await this.bridge.stop();
    const ended: RoomEnded = { lessonId: this.lessonId, endedAt, recording: result.recording };
    this.broadcast('room.ended', ended);
    this.close();
    return { ...ended, durationSec: result.durationSec };
  }

  /** Drops everything without the bridge's finalisation (shutdown). */
  close(): void {
    this.closed = true;
    this.viewers.stop();
    this.media.quiet = true;
    this.topology.close();
    this.peers.clear();
  }

  /** Shutdown: stops the bridge's ffmpeg too (its recording stays on disk). */
  async shutdown(): Promise<void> {
    await this.bridge.shutdown();
    this.close();
  }
}
