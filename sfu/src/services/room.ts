// One live lesson's room: its routers (an origin carrying every producer, plus edge routers on other workers
// fed by pipeToRouter once the origin carries ROUTER_CONSUMER_THRESHOLD consumers), its peers, the stage,
// the active speaker and the HLS bridge. A router whose worker dies is rebuilt and its peers told.
import { randomUUID } from 'node:crypto';
import {
  AppError,
  SOURCE_KIND,
  type ConsumerInfo,
  type LiveRole,
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
import type * as mediasoup from 'mediasoup';
import { MEDIA_CODECS, type WorkerPool } from '../adapters/mediasoup.js';
import { chooseLayers, type LayerHint, type Layers } from './layers.js';
import { Stage } from './stage.js';

type Router = mediasoup.types.Router;
type Transport = mediasoup.types.Transport;
type Producer = mediasoup.types.Producer;
type Consumer = mediasoup.types.Consumer;

/** Sends one server → client event to one peer (socket.emit, or a no-op for in-process peers). */
export type Notify = <E extends keyof LiveServerEvents>(
  event: E,
  ...args: Parameters<LiveServerEvents[E]>
) => void;

export interface RoomLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the room needs of the HLS bridge (services/live-bridge.ts LiveBridge fits). */
export interface RoomBridge {
  update(
    sources: { video?: Producer | undefined; audio?: Producer | undefined },
    router?: Router,
  ): Promise<void>;
  stop(): Promise<{ recording: string | null; durationSec: number }>;
}
/** `startedAt`: the lesson's go-live (ISO), where its replay begins. */
export type BridgeFactory = (lessonId: string, router: Router, startedAt: string) => RoomBridge;

export interface RoomDeps {
  pool: WorkerPool;
  log: RoomLogger;
  listenIp: string;
  announcedIp?: string | undefined;
  consumerThreshold: number;
  bridges?: BridgeFactory | undefined;
}

interface RouterSlot {
  router: Router;
  workerIndex: number;
  /** Consumers on this router (counted by the room, for the pipeToRouter threshold). */
  consumers: number;
  /** Producers piped into this (edge) router. */
  piped: Set<string>;
}

interface PeerTransport {
  transport: Transport;
  webrtc: boolean;
  direction: TransportDirection;
  slot: RouterSlot;
}
interface PeerProducer {
  producer: Producer;
  source: LiveSource;
  pausedBy?: 'owner' | 'teacher';
}
interface PeerConsumer {
  consumer: Consumer;
  source: LiveSource;
}

export class Peer {
  readonly id = randomUUID();
  readonly transports = new Map<string, PeerTransport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, PeerConsumer>();
  constructor(
    readonly userId: string,
    readonly name: string,
    readonly role: LiveRole,
    readonly notify: Notify,
  ) {}
}

/** mediasoup refuses malformed parameters with TypeError / UnsupportedError: the client's fault. */
function clientFault(err: unknown, what: string): never {
  const name = (err as Error | undefined)?.name;
  if (name === 'TypeError' || name === 'UnsupportedError')
    throw new AppError('VALIDATION_FAILED', `${what}: ${(err as Error).message}`);
  throw err;
}

const VIEWER_COUNT_EVERY_MS = 1000;

export class Room {
  readonly stage: Stage;
  readonly peers = new Map<string, Peer>();
  epoch = 0;
  closed = false;
  private origin!: RouterSlot;
  private edges: RouterSlot[] = [];
  private speaker: mediasoup.types.ActiveSpeakerObserver | undefined;
  private bridge: RoomBridge | undefined;
  /** Every operation waits for a restart in progress. */
  private ready: Promise<void> = Promise.resolve();
  /** While tearing media down on purpose: no per-item events to clients. */
  private quiet = false;
  private placing: Promise<unknown> = Promise.resolve();
  private viewerTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly lessonId: string,
    readonly teacherId: string,
    readonly startedAt: string,
    private readonly deps: RoomDeps,
  ) {
    this.stage = new Stage(lessonId);
  }

  static async open(lessonId: string, teacherId: string, startedAt: string, deps: RoomDeps): Promise<Room> {
    const room = new Room(lessonId, teacherId, startedAt, deps);
    room.origin = await room.openOrigin();
    return room;
  }

  get routerRtpCapabilities(): RtpCapabilities {
    return this.origin.router.rtpCapabilities;
  }

  /** The routers this room uses now: for tests and the bench. */
  routers(): { router: Router; workerIndex: number; consumers: number; origin: boolean }[] {
    return [this.origin, ...this.edges].map((s) => ({ ...s, origin: s === this.origin }));
  }

  async settled(): Promise<void> {
    await this.ready;
    if (this.closed) throw new AppError('NOT_LIVE', 'the lesson has ended');
  }

  // Peers

  addPeer(peer: Peer): void {
    this.peers.set(peer.id, peer);
    this.scheduleViewerCount();
  }

  removePeer(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    this.resetMedia(peer, 'left');
    const stillHere = [...this.peers.values()].some((p) => p.userId === peer.userId);
    if (!stillHere && !this.stage.isOnStage(peer.userId) && this.stage.lower(peer.userId))
      this.broadcastStage();
    this.scheduleViewerCount();
  }

  /** Closes a peer's transports (and so its producers and consumers). */
  resetMedia(peer: Peer, reason: ProducerClosedEvent['reason']): void {
    const hadTeacherMedia = peer.role === 'teacher' && peer.producers.size > 0;
    for (const [id, pp] of peer.producers) {
      peer.producers.delete(id);
      pp.producer.close();
      this.broadcast('producer.closed', { producerId: id, reason }, peer);
    }
    const quiet = this.quiet;
    this.quiet = true;
    for (const t of peer.transports.values()) t.transport.close();
    this.quiet = quiet;
    peer.transports.clear();
    peer.consumers.clear();
    if (hadTeacherMedia) this.updateBridge();
  }

  students(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.role === 'student') n += 1;
    return n;
  }

  producerInfos(except?: Peer): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const peer of this.peers.values()) {
      if (peer === except) continue;
      for (const pp of peer.producers.values()) out.push(this.producerInfo(peer, pp));
    }
    return out;
  }

  // Transports

  async createWebRtcTransport(peer: Peer, direction: TransportDirection): Promise<TransportInfo> {
    const { listenIp, announcedIp } = this.deps;
    const listen = (protocol: 'udp' | 'tcp') => ({
      protocol,
      ip: listenIp,
      ...(announcedIp ? { announcedAddress: announcedIp } : {}),
    });
    const t = await this.addTransport(peer, direction, true, (router) =>
      router.createWebRtcTransport({
        listenInfos: [listen('udp'), listen('tcp')],
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
      }),
    );
    if (direction === 'send') await t.setMaxIncomingBitrate(3_000_000).catch(() => undefined);
    return {
      id: t.id,
      direction,
      iceParameters: t.iceParameters,
      iceCandidates: t.iceCandidates,
      dtlsParameters: t.dtlsParameters,
    };
  }

  /**
   * A PlainTransport on the same placement as a WebRTC one: tests and the bench send or receive RTP with
   * ffmpeg / UDP sockets through it (Node has no WebRTC). Not reachable from the socket API.
   */
  createPlainTransport(
    peer: Peer,
    direction: TransportDirection,
    opts: { comedia?: boolean; rtcpMux?: boolean } = {},
  ): Promise<mediasoup.types.PlainTransport> {
    return this.addTransport(peer, direction, false, (router) =>
      router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: this.deps.listenIp },
        rtcpMux: opts.rtcpMux ?? true,
        comedia: opts.comedia ?? false,
      }),
    );
  }

  private async addTransport<T extends Transport>(
    peer: Peer,
    direction: TransportDirection,
    webrtc: boolean,
    create: (router: Router) => Promise<T>,
  ): Promise<T> {
    // One WebRTC transport per direction: a new one (reconnect, ICE failure) replaces the old. (In-process
    // PlainTransports carry one stream each and are left alone.)
    for (const [id, t] of peer.transports) {
      if (!webrtc || !t.webrtc || t.direction !== direction) continue;
      if (direction === 'send')
        this.closeProducersOf(peer, (pp) => pp.producer.appData['transportId'] === id);
      t.transport.close();
      peer.transports.delete(id);
    }
    const slot = direction === 'send' ? this.origin : await this.placeViewer();
    const transport = await create(slot.router);
    // Entries stay when the router dies under them (a worker death), so the recovery knows whom to tell.
    peer.transports.set(transport.id, { transport, direction, slot, webrtc });
    return transport;
  }

  async connectTransport(peer: Peer, transportId: string, dtlsParameters: unknown): Promise<void> {
    const t = this.webRtcTransportOf(peer, transportId);
    if (t.dtlsState !== 'new') throw new AppError('CONFLICT', 'that transport is already connected');
    await t
      .connect({ dtlsParameters: dtlsParameters as mediasoup.types.DtlsParameters })
      .catch((e: unknown) => clientFault(e, 'dtlsParameters'));
  }

  async restartIce(peer: Peer, transportId: string) {
    const t = this.webRtcTransportOf(peer, transportId);
    return { transportId, iceParameters: await t.restartIce() };
  }

  private webRtcTransportOf(peer: Peer, transportId: string): mediasoup.types.WebRtcTransport {
    const t = this.transportOf(peer, transportId);
    if (!t.webrtc) throw new AppError('VALIDATION_FAILED', 'transportId: not a WebRTC transport');
    return t.transport as mediasoup.types.WebRtcTransport;
  }

  transportOf(peer: Peer, transportId: string): PeerTransport {
    const t = peer.transports.get(transportId);
    if (!t || t.transport.closed) throw new AppError('NOT_FOUND', 'no such transport of yours in this room');
    return t;
  }

  /**
   * Where a new viewer's receive transport goes: the first router under the consumer threshold; when all
   * are full, a new router on the least-loaded other worker, fed with every producer by pipeToRouter.
   */
  private placeViewer(): Promise<RouterSlot> {
    const run = this.placing.then(async () => {
      const slots = [this.origin, ...this.edges];
      const free = slots.find((s) => s.consumers < this.deps.consumerThreshold);
      if (free) return free;
      const used = new Set(slots.map((s) => s.workerIndex));
      const picked = await this.deps.pool.pick(used);
      if (used.has(picked.index)) {
        // Every worker already carries this room: spread over the routers there are.
        return slots.reduce((a, b) => (b.consumers < a.consumers ? b : a));
      }
      const router = await picked.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
      const slot: RouterSlot = { router, workerIndex: picked.index, consumers: 0, piped: new Set() };
      this.watch(slot);
      for (const p of this.allProducers()) await this.pipe(p.producer.id, slot);
      this.edges.push(slot);
      this.deps.log.info(
        { lessonId: this.lessonId, worker: picked.index, routers: this.edges.length + 1 },
        'room grew onto another worker (pipeToRouter)',
      );
      return slot;
    });
    this.placing = run.catch(() => undefined);
    return run;
  }

  private async pipe(producerId: string, slot: RouterSlot): Promise<void> {
    if (slot === this.origin || slot.piped.has(producerId)) return;
    slot.piped.add(producerId);
    try {
      await this.origin.router.pipeToRouter({ producerId, router: slot.router, listenIp: '127.0.0.1' });
    } catch (err) {
      slot.piped.delete(producerId);
      throw err;
    }
  }

  // Producers

  async produce(
    peer: Peer,
    req: { transportId: string; kind: 'audio' | 'video'; source: LiveSource; rtpParameters: RtpParameters },
  ): Promise<{ producerId: string }> {
    if (peer.role !== 'teacher') {
      if (!this.stage.isOnStage(peer.userId))
        throw new AppError('FORBIDDEN', 'only the teacher and students invited to the stage may publish');
      if (req.source === 'screen')
        throw new AppError('FORBIDDEN', 'students on stage share mic and camera only');
    }
    if (SOURCE_KIND[req.source] !== req.kind)
      throw new AppError('VALIDATION_FAILED', 'kind: does not fit source');
    const t = this.transportOf(peer, req.transportId);
    if (t.direction !== 'send') throw new AppError('VALIDATION_FAILED', 'transportId: not a send transport');
    for (const pp of peer.producers.values())
      if (pp.source === req.source) throw new AppError('CONFLICT', `already publishing ${req.source}`);
    const producer = await t.transport
      .produce({
        kind: req.kind,
        rtpParameters: req.rtpParameters as mediasoup.types.RtpParameters,
        appData: { source: req.source, peerId: peer.id, transportId: t.transport.id },
      })
      .catch((e: unknown) => clientFault(e, 'rtpParameters'));
    const pp: PeerProducer = { producer, source: req.source };
    peer.producers.set(producer.id, pp);
    producer.on('transportclose', () => {
      if (peer.producers.delete(producer.id) && !this.quiet)
        this.broadcast('producer.closed', { producerId: producer.id, reason: 'closed' }, peer);
    });
    try {
      if (req.kind === 'audio' && this.speaker && !this.speaker.closed)
        await this.speaker.addProducer({ producerId: producer.id });
      // Edge routers get it before anyone hears of it, so a consume there finds it.
      for (const edge of this.edges) await this.pipe(producer.id, edge);
    } catch (err) {
      this.deps.log.warn({ lessonId: this.lessonId, err: (err as Error).message }, 'producer wiring failed');
    }
    if (!peer.producers.has(producer.id)) throw new AppError('CONFLICT', 'the transport closed meanwhile');
    this.broadcast('producer.new', this.producerInfo(peer, pp), peer);
    if (peer.role === 'teacher') this.updateBridge();
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

  private async pauseProducer(peer: Peer, pp: PeerProducer, paused: boolean, by: 'owner' | 'teacher') {
    if (paused) await pp.producer.pause();
    else await pp.producer.resume();
    if (paused) pp.pausedBy = by;
    else delete pp.pausedBy;
    if (!paused && peer.role === 'student' && this.stage.isOnStage(peer.userId)) {
      const stillMuted = [...this.peers.values()].some(
        (p) => p.userId === peer.userId && [...p.producers.values()].some((x) => x.pausedBy === 'teacher'),
      );
      if (!stillMuted) {
        this.stage.setMuted(peer.userId, false);
        this.broadcastStage();
      }
    }
    this.broadcast('producer.state', { producerId: pp.producer.id, paused, by });
  }

  closeProducer(peer: Peer, producerId: string): { producerId: string } {
    this.producerOf(peer, producerId);
    this.closeProducersOf(peer, (pp) => pp.producer.id === producerId);
    return { producerId };
  }

  private closeProducersOf(
    peer: Peer,
    which: (pp: PeerProducer) => boolean,
    reason: ProducerClosedEvent['reason'] = 'closed',
  ): number {
    let n = 0;
    for (const [id, pp] of peer.producers) {
      if (!which(pp)) continue;
      peer.producers.delete(id);
      pp.producer.close();
      this.broadcast('producer.closed', { producerId: id, reason }, peer);
      n += 1;
    }
    if (n && peer.role === 'teacher') this.updateBridge();
    return n;
  }

  private *allProducers(): Generator<PeerProducer> {
    for (const peer of this.peers.values()) yield* peer.producers.values();
  }

  private findProducer(producerId: string): { peer: Peer; pp: PeerProducer } | undefined {
    for (const peer of this.peers.values()) {
      const pp = peer.producers.get(producerId);
      if (pp) return { peer, pp };
    }
    return undefined;
  }

  private producerInfo(peer: Peer, pp: PeerProducer): ProducerInfo {
    return {
      producerId: pp.producer.id,
      peerId: peer.id,
      userId: peer.userId,
      name: peer.name,
      role: peer.role,
      kind: pp.producer.kind,
      source: pp.source,
      paused: pp.producer.paused,
    };
  }

  // Consumers

  async consume(
    peer: Peer,
    req: { transportId: string; producerId: string; rtpCapabilities: RtpCapabilities },
  ): Promise<ConsumerInfo> {
    const t = this.transportOf(peer, req.transportId);
    if (t.direction !== 'recv')
      throw new AppError('VALIDATION_FAILED', 'transportId: not a receive transport');
    const found = this.findProducer(req.producerId);
    if (!found) throw new AppError('NOT_FOUND', 'no such producer in this room');
    if (found.peer === peer) throw new AppError('VALIDATION_FAILED', 'producerId: that is your own producer');
    for (const pc of peer.consumers.values())
      if (pc.consumer.producerId === req.producerId) throw new AppError('CONFLICT', 'already consuming it');
    // A producer born while this edge router was being set up may not be piped yet.
    await this.pipe(req.producerId, t.slot);
    const caps = req.rtpCapabilities as mediasoup.types.RtpCapabilities;
    let ok: boolean;
    try {
      ok = t.slot.router.canConsume({ producerId: req.producerId, rtpCapabilities: caps });
    } catch (e) {
      clientFault(e, 'rtpCapabilities');
    }
    if (!ok)
      throw new AppError('VALIDATION_FAILED', 'rtpCapabilities: this device cannot receive that stream');
    const consumer = await t.transport
      .consume({ producerId: req.producerId, rtpCapabilities: caps, paused: true })
      .catch((e: unknown) => clientFault(e, 'rtpCapabilities'));
    const slot = t.slot;
    slot.consumers += 1;
    consumer.observer.once('close', () => (slot.consumers -= 1));
    peer.consumers.set(consumer.id, { consumer, source: found.pp.source });
    const gone = (tell: boolean) => () => {
      if (peer.consumers.delete(consumer.id) && tell && !this.quiet)
        peer.notify('consumer.closed', { consumerId: consumer.id, producerId: consumer.producerId });
    };
    consumer.on('producerclose', gone(true));
    consumer.on('transportclose', gone(false));
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

  private consumerOf(peer: Peer, consumerId: string): Consumer {
    const pc = peer.consumers.get(consumerId);
    if (!pc) throw new AppError('NOT_FOUND', 'no such consumer of yours');
    return pc.consumer;
  }

  async setConsumerPaused(peer: Peer, consumerId: string, paused: boolean) {
    const c = this.consumerOf(peer, consumerId);
    if (paused) await c.pause();
    else await c.resume();
    return { consumerId };
  }

  async setPreferredLayers(peer: Peer, consumerId: string, hint: LayerHint) {
    const c = this.consumerOf(peer, consumerId);
    if (c.type !== 'simulcast' && c.type !== 'svc')
      throw new AppError('VALIDATION_FAILED', 'consumerId: that stream has a single layer');
    const svc = Number(/^L(\d)/.exec(c.rtpParameters.encodings?.[0]?.scalabilityMode ?? '')?.[1] ?? 3);
    const layers: Layers = chooseLayers(hint, c.type === 'simulcast' ? this.simulcastLayers(c) : svc);
    await c.setPreferredLayers(layers);
    return { consumerId, ...layers };
  }

  private simulcastLayers(c: Consumer): number {
    const found = this.findProducer(c.producerId);
    return found?.pp.producer.rtpParameters.encodings?.length ?? 3;
  }

  // Stage

  raiseHand(peer: Peer): StageState {
    if (peer.role !== 'student') throw new AppError('FORBIDDEN', 'only students raise hands');
    this.stage.raise(peer.userId, peer.name);
    return this.broadcastStage();
  }

  lowerHand(peer: Peer): StageState {
    if (peer.role !== 'student') throw new AppError('FORBIDDEN', 'only students raise hands');
    if (this.stage.lower(peer.userId) === 'stage') this.closeUserProducers(peer.userId, 'closed');
    return this.broadcastStage();
  }

  invite(actor: Peer, userId: string): StageState {
    this.mustTeach(actor);
    this.stage.invite(userId);
    for (const p of this.peersOf(userId)) p.notify('stage.invited', { lessonId: this.lessonId });
    return this.broadcastStage();
  }

  removeFromStage(actor: Peer, userId: string): StageState {
    this.mustTeach(actor);
    this.stage.remove(userId);
    this.closeUserProducers(userId, 'removed');
    for (const p of this.peersOf(userId)) p.notify('stage.removed', { lessonId: this.lessonId });
    return this.broadcastStage();
  }

  async mute(actor: Peer, userId: string, source?: 'mic' | 'camera'): Promise<StageState> {
    this.mustTeach(actor);
    if (!this.stage.isOnStage(userId)) throw new AppError('NOT_FOUND', 'that user is not on stage');
    const sources = new Set<LiveSource>();
    for (const p of this.peersOf(userId)) {
      for (const pp of p.producers.values()) {
        if (source && pp.source !== source) continue;
        if (!pp.producer.paused) await this.pauseProducer(p, pp, true, 'teacher');
        else pp.pausedBy = 'teacher';
        sources.add(pp.source);
      }
    }
    this.stage.setMuted(userId, true);
    for (const p of this.peersOf(userId))
      p.notify('stage.muted', { lessonId: this.lessonId, sources: [...sources] });
    return this.broadcastStage();
  }

  mustTeach(peer: Peer): void {
    if (peer.role !== 'teacher') throw new AppError('FORBIDDEN', "only the lesson's teacher may do this");
  }

  private peersOf(userId: string): Peer[] {
    return [...this.peers.values()].filter((p) => p.userId === userId);
  }

  private closeUserProducers(userId: string, reason: ProducerClosedEvent['reason']) {
    for (const p of this.peersOf(userId)) this.closeProducersOf(p, () => true, reason);
  }

  private broadcastStage(): StageState {
    const state = this.stage.state();
    this.broadcast('stage.updated', state);
    return state;
  }

  // Fan-out

  broadcast<E extends keyof LiveServerEvents>(
    event: E,
    payload: Parameters<LiveServerEvents[E]>[0],
    except?: Peer,
  ): void {
    for (const p of this.peers.values()) {
      if (p === except) continue;
      try {
        (p.notify as (e: E, x: typeof payload) => void)(event, payload);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message, event }, 'notify failed');
      }
    }
  }

  private scheduleViewerCount(): void {
    if (this.viewerTimer || this.closed) return;
    this.viewerTimer = setTimeout(() => {
      this.viewerTimer = undefined;
      if (!this.closed) this.broadcast('viewerCount', { lessonId: this.lessonId, webrtc: this.peers.size });
    }, VIEWER_COUNT_EVERY_MS);
    this.viewerTimer.unref();
  }

  // Bridge

  private updateBridge(): void {
    if (this.closed) return;
    const teacher = [...this.peers.values()].filter((p) => p.role === 'teacher');
    const pick = (source: LiveSource) => {
      for (const p of teacher)
        for (const pp of p.producers.values()) if (pp.source === source) return pp.producer;
      return undefined;
    };
    const video = pick('screen') ?? pick('camera');
    const audio = pick('mic');
    if (!this.bridge) {
      if (!this.deps.bridges || (!video && !audio)) return;
      this.bridge = this.deps.bridges(this.lessonId, this.origin.router, this.startedAt);
    }
    this.bridge
      .update({ video, audio })
      .catch((err: unknown) =>
        this.deps.log.error(
          { lessonId: this.lessonId, err: (err as Error).message },
          'live bridge update failed',
        ),
      );
  }

  // Worker death

  private async openOrigin(): Promise<RouterSlot> {
    const picked = await this.deps.pool.pick();
    const router = await picked.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    const slot: RouterSlot = { router, workerIndex: picked.index, consumers: 0, piped: new Set() };
    this.watch(slot);
    const speaker = await router.createActiveSpeakerObserver({ interval: 300 });
    speaker.on('dominantspeaker', ({ producer }) => {
      const found = this.findProducer(producer.id);
      this.broadcast('activeSpeaker', { peerId: found?.peer.id ?? null, userId: found?.peer.userId ?? null });
    });
    this.speaker = speaker;
    return slot;
  }

  private watch(slot: RouterSlot): void {
    slot.router.on('workerclose', () => {
      if (this.closed) return;
      this.deps.log.error(
        { lessonId: this.lessonId, worker: slot.workerIndex, origin: slot === this.origin },
        'a worker of this room died; moving the room',
      );
      const once = slot === this.origin ? () => this.restartAll() : () => this.restartEdge(slot);
      // No live worker for a while (all dead, replacements failing): keep trying, clients wait.
      const recover = async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await once();
          } catch (err) {
            if (attempt >= 5 || this.closed) throw err;
            this.deps.log.warn(
              { lessonId: this.lessonId, attempt, err: (err as Error).message },
              'room recovery retry',
            );
            await new Promise((r) => setTimeout(r, 1000 * attempt));
          }
        }
      };
      this.ready = this.ready.then(recover).catch((err: unknown) => {
        this.deps.log.error({ lessonId: this.lessonId, err: (err as Error).message }, 'room recovery failed');
      });
    });
  }

  /** The origin died: every peer's media is gone; a new origin on a live worker, clients re-create. */
  private async restartAll(): Promise<void> {
    this.quiet = true;
    try {
      for (const peer of this.peers.values()) {
        peer.producers.clear();
        for (const t of peer.transports.values()) t.transport.close();
        peer.transports.clear();
        peer.consumers.clear();
      }
      for (const e of this.edges) e.router.close();
      this.edges = [];
      this.origin = await this.openOrigin();
    } finally {
      this.quiet = false;
    }
    this.epoch += 1;
    if (this.bridge)
      this.bridge
        .update({}, this.origin.router)
        .catch((err: unknown) =>
          this.deps.log.error(
            { lessonId: this.lessonId, err: (err as Error).message },
            'live bridge move failed',
          ),
        );
    this.deps.log.info(
      { lessonId: this.lessonId, worker: this.origin.workerIndex, epoch: this.epoch },
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
    this.edges = this.edges.filter((s) => s !== slot);
    const affected: Peer[] = [];
    this.quiet = true;
    for (const peer of this.peers.values()) {
      let hit = false;
      for (const [id, t] of peer.transports)
        if (t.slot === slot) {
          t.transport.close();
          peer.transports.delete(id);
          hit = true;
        }
      if (!hit) continue;
      for (const [id, pc] of peer.consumers) if (pc.consumer.closed) peer.consumers.delete(id);
      affected.push(peer);
    }
    this.quiet = false;
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
    await this.ready;
    this.closed = true;
    if (this.viewerTimer) clearTimeout(this.viewerTimer);
    const endedAt = new Date().toISOString();
    let result: { recording: string | null; durationSec: number } = { recording: null, durationSec: 0 };
    if (this.bridge) {
      try {
        result = await this.bridge.stop();
      } catch (err) {
        this.deps.log.error(
          { lessonId: this.lessonId, err: (err as Error).message },
          'live bridge stop failed',
        );
      }
    }
    const ended: RoomEnded = { lessonId: this.lessonId, endedAt, recording: result.recording };
    this.broadcast('room.ended', ended);
    this.close();
    return { ...ended, durationSec: result.durationSec };
  }

  /** Drops everything without the bridge's finalisation (shutdown). */
  close(): void {
    this.closed = true;
    if (this.viewerTimer) clearTimeout(this.viewerTimer);
    this.quiet = true;
    for (const s of [this.origin, ...this.edges]) s.router.close();
    this.peers.clear();
  }

  /** Shutdown: stops the bridge's ffmpeg too (its recording stays on disk). */
  async shutdown(): Promise<void> {
    if (this.bridge) await this.bridge.stop().catch(() => undefined);
    this.close();
  }
}
