// One browser's place in a live room: socket.io signalling (`/live`, contracts/src/live.ts) and
// mediasoup-client transports, producers and consumers. Kept free of React: the pages read snapshots.
import {
  LIVE_NAMESPACE,
  SIMULCAST_ENCODINGS,
  type Ack,
  type ActiveSpeakerEvent,
  type ErrorCode,
  type LiveClientEvents,
  type LiveEventName,
  type LiveJoinReply,
  type LiveReplies,
  type LiveRole,
  type LiveServerEvents,
  type LiveSource,
  type ProducerInfo,
  type StageState,
  type TransportInfo,
} from '@sky/contracts';
import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';

type LiveSocket = Socket<LiveServerEvents, LiveClientEvents>;
type Transport = types.Transport;
type Producer = types.Producer;
type Consumer = types.Consumer;

/** Codes the client adds to the contract's: the media path itself failed (ICE, DTLS, a timeout). */
export type LiveErrorCode = ErrorCode | 'NETWORK' | 'WEBRTC_FAILED';

export class LiveError extends Error {
  constructor(
    readonly code: LiveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LiveError';
  }
}

export type RoomStatus =
  | 'connecting'
  | 'joined'
  /** The worker carrying the room died (room.restarted): transports are being made again. */
  | 'recovering'
  /** The socket dropped; socket.io is reconnecting. */
  | 'reconnecting'
  /** The node stayed unreachable: the api is asked for another one and the room joined there. */
  | 'relocating'
  | 'ended'
  | 'failed';

/** Something this browser receives. */
export interface RemoteMedia {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  source: LiveSource;
  peerId: string;
  userId: string;
  name: string;
  role: LiveRole;
  track: MediaStreamTrack;
  /** The SSRC of this consumer's own RTP stream (getStats shows a probe stream beside it). */
  ssrc: number | undefined;
  paused: boolean;
}

export interface RoomSnapshot {
  status: RoomStatus;
  role: LiveRole | null;
  userId: string | null;
  peerId: string | null;
  stage: StageState | null;
  viewerCount: number;
  /** The class: students over WebRTC (the sfu counts them; the teacher is not one). */
  students: number;
  activeSpeaker: ActiveSpeakerEvent | null;
  remotes: RemoteMedia[];
  /** Sources this browser is producing now. */
  producing: LiveSource[];
  /** This student was invited to the stage and may produce mic/camera. */
  invited: boolean;
  /** Sources of this student the teacher paused. */
  mutedByTeacher: LiveSource[];
  error: LiveError | null;
  /** Times the media was rebuilt after room.restarted, a socket reconnect or a move to another node. */
  recoveries: number;
  /** The sfu node this browser is connected to (or reconnecting to) now. */
  sfuUrl: string;
  /** Times this browser moved to another sfu node after its own stayed unreachable. */
  relocations: number;
}

export interface RoomClientOptions {
  sfuUrl: string;
  lessonId: string;
  token: () => Promise<string | undefined>;
  /** How long ICE + DTLS may take before the media path counts as failed. */
  connectTimeoutMs?: number;
  /**
   * Asks the api again where the lesson's room is, passing over `unreachable` (the node this browser lost):
   * the sfu url to use, or null once the lesson is no longer live. Without it the client only reconnects.
   */
  relocate?: (unreachable: string) => Promise<string | null>;
}

const ACK_TIMEOUT_MS = 10_000;
/**
 * Ending answers once the recording is finalised: the bridge lets ffmpeg drain its backlog (up to 20 s on
 * a busy machine) and joins the parts before the replay is queued. A shorter wait would report a failure
 * for a lesson that is ending fine.
 */
const END_TIMEOUT_MS = 60_000;

/**
 * A node that stays away `firstMs` after the socket dropped is asked about (a blip reconnects to the
 * same node first); later asks back off to `maxMs`, each ±25 % so that a dead node's whole audience does
 * not ask the api in step, and stop after `attempts` (socket.io keeps reconnecting to the last node).
 */
export const RELOCATE = { firstMs: 1500, maxMs: 15_000, attempts: 8 } as const;

/** The wait before the `attempt`-th ask (0-based): 1.5 s, 3 s, 6 s, 12 s, then 15 s, jittered. */
export function relocateDelay(attempt: number, random = Math.random()): number {
  const base = Math.min(RELOCATE.firstMs * 2 ** attempt, RELOCATE.maxMs);
  return Math.round(base * (0.75 + random * 0.5));
}

function sameOrigin(url: string): boolean {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

export class LiveRoomClient {
  private socket: LiveSocket | null = null;
  private device: Device | null = null;
  private sendTransport: Transport | null = null;
  private recvTransport: Transport | null = null;
  private recvConnected = false;
  private recvTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly producers = new Map<LiveSource, Producer>();
  /** What this browser wants to send, kept so it can be sent again after a restart. */
  private readonly wanted = new Map<LiveSource, MediaStreamTrack>();
  private readonly consumers = new Map<string, { consumer: Consumer; remote: RemoteMedia }>();
  private readonly listeners = new Set<(s: RoomSnapshot) => void>();
  /** Media (re)builds run one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The pending ask for another node while the socket is down, and how many asks were made. */
  private relocateTimer: ReturnType<typeof setTimeout> | null = null;
  private relocateAttempts = 0;
  /** A join the node refused for now (DEPENDENCY_DOWN), tried again on the same socket. */
  private rejoinTimer: ReturnType<typeof setTimeout> | null = null;
  private epoch = 0;
  private joinedOnce = false;
  private closed = false;
  /** This client asked to end the room: its own room.ended must not drop the socket before the answer. */
  private ending = false;
  private snap: RoomSnapshot = {
    status: 'connecting',
    role: null,
    userId: null,
    peerId: null,
    stage: null,
    viewerCount: 0,
    students: 0,
    activeSpeaker: null,
    remotes: [],
    producing: [],
    invited: false,
    mutedByTeacher: [],
    error: null,
    recoveries: 0,
    sfuUrl: '',
    relocations: 0,
  };

  constructor(private readonly opts: RoomClientOptions) {
    this.snap = { ...this.snap, sfuUrl: opts.sfuUrl };
  }

  get snapshot(): RoomSnapshot {
    return this.snap;
  }

  subscribe(fn: (s: RoomSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  private set(patch: Partial<RoomSnapshot>): void {
    this.snap = {
      ...this.snap,
      ...patch,
      remotes: [...this.consumers.values()].map((c) => c.remote),
      producing: [...this.producers.keys()],
    };
    for (const fn of this.listeners) fn(this.snap);
  }

  private fail(err: LiveError): void {
    if (this.closed) return;
    this.set({ status: 'failed', error: err });
  }

  /** Connects and joins; rejects with a LiveError (ROOM_FULL, NOT_LIVE, NETWORK…) when it cannot. */
  start(): Promise<LiveJoinReply> {
    return new Promise<LiveJoinReply>((resolve, reject) => {
      let settled = false;
      const socket = this.openSocket(this.opts.sfuUrl, {
        joined: (run) => {
          if (settled) return false;
          settled = true;
          run.then(resolve, (err: unknown) => {
            this.socket?.disconnect();
            reject(err instanceof LiveError ? err : new LiveError('INTERNAL', String(err)));
          });
          return true;
        },
        refused: (err) => {
          if (settled) return false;
          settled = true;
          this.socket?.disconnect();
          reject(err);
          return true;
        },
      });
      setTimeout(() => {
        if (settled) return;
        settled = true;
        socket.disconnect();
        reject(new LiveError('NETWORK', 'the live server did not answer'));
      }, ACK_TIMEOUT_MS * 2);
    });
  }

  /**
   * The socket to one sfu node. Every (re)connect joins again; `first` settles start() (each of its
   * callbacks answers whether it took the event); after that a failed join fails the room.
   */
  private openSocket(
    url: string,
    first?: {
      joined: (run: Promise<LiveJoinReply>) => boolean;
      refused: (err: LiveError) => boolean;
    },
  ): LiveSocket {
    const base = sameOrigin(url) ? '' : url.replace(/\/$/, '');
    const socket: LiveSocket = io(`${base}${LIVE_NAMESPACE}`, {
      auth: (cb) => void this.opts.token().then((token) => cb({ token: token ?? '' })),
      transports: ['websocket'],
      reconnectionDelay: 300,
      reconnectionDelayMax: 2000,
      // this client's own manager: a move to another node closes it whole
      forceNew: true,
    });
    this.socket = socket;
    this.bindServerEvents(socket);
    let rejoins = 0;
    const joinHere = (): void => {
      const run = this.enqueue(() => this.join());
      if (first?.joined(run)) return;
      run.catch((err: unknown) => {
        const e = err instanceof LiveError ? err : new LiveError('INTERNAL', String(err));
        // The node could not reach the lesson's origin (one that died less than SFU_DIRECTORY.staleMs ago
        // still holds the lease): once its record is stale this node takes the lesson, so join again.
        if (
          e.code === 'DEPENDENCY_DOWN' &&
          this.socket === socket &&
          socket.connected &&
          rejoins < RELOCATE.attempts
        ) {
          this.set({ status: 'relocating' });
          this.rejoinTimer = setTimeout(joinHere, relocateDelay(rejoins));
          rejoins += 1;
          return;
        }
        this.fail(e);
      });
    };
    socket.on('connect', () => {
      this.stopRelocating();
      rejoins = 0;
      // a reconnect (new socket id) joins again; the first join settles start()
      joinHere();
    });
    socket.on('disconnect', (reason) => {
      if (this.closed || this.snap.status === 'ended') return;
      // the server closing us (room over, kicked) is final, and so is this client's own disconnect (a
      // failed first join, a move to another node); anything else socket.io retries
      if (reason === 'io server disconnect' || reason === 'io client disconnect') return;
      // a join waiting to be tried again: the reconnect joins anyway
      this.stopRejoining();
      this.set({ status: 'reconnecting' });
      this.scheduleRelocate();
    });
    socket.on('connect_error', (err) => {
      const code = (err as { data?: { code?: ErrorCode } }).data?.code;
      if ((code || !socket.active) && first?.refused(new LiveError(code ?? 'NETWORK', err.message))) return;
      // a node that refuses this browser (its token, a full room) is an answer, not an outage
      if (code) this.fail(new LiveError(code, err.message));
      // a node moved to that does not answer either: ask again (a dropped socket asks on disconnect)
      else if (this.snap.status === 'reconnecting' || this.snap.status === 'relocating')
        this.scheduleRelocate();
    });
    return socket;
  }

  private stopRelocating(): void {
    if (this.relocateTimer) clearTimeout(this.relocateTimer);
    this.relocateTimer = null;
    this.relocateAttempts = 0;
    this.stopRejoining();
  }

  private stopRejoining(): void {
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer);
    this.rejoinTimer = null;
  }

  /** While the socket stays down, asks the api (backing off, a bounded number of times) for another node. */
  private scheduleRelocate(): void {
    const relocate = this.opts.relocate;
    // never before the first join: start() reports that failure to the page, which decides
    if (!relocate || !this.joinedOnce || this.relocateTimer || this.relocateAttempts >= RELOCATE.attempts)
      return;
    this.relocateTimer = setTimeout(() => {
      this.relocateTimer = null;
      const lost = this.snap.sfuUrl;
      const socket = this.socket;
      if (this.closed || !socket || socket.connected) return;
      this.relocateAttempts += 1;
      this.set({ status: 'relocating' });
      relocate(lost).then(
        (next) => {
          if (this.closed || this.socket !== socket || socket.connected) return;
          if (next === null) {
            // the lesson ended while this browser was away
            socket.disconnect();
            this.teardownMedia();
            this.set({ status: 'ended' });
            return;
          }
          if (next !== lost) this.moveTo(socket, next);
          else {
            // the api knows no other node: socket.io keeps trying this one
            this.set({ status: 'reconnecting' });
            this.scheduleRelocate();
          }
        },
        () => {
          // the api is out of reach too (this browser's own network): ask again later
          if (this.closed || this.socket !== socket || socket.connected) return;
          this.set({ status: 'reconnecting' });
          this.scheduleRelocate();
        },
      );
    }, relocateDelay(this.relocateAttempts));
  }

  /** Leaves the unreachable node's socket and joins the room on `url`: the media is built there again. */
  private moveTo(lost: LiveSocket, url: string): void {
    lost.removeAllListeners();
    lost.disconnect();
    this.teardownMedia();
    // the new node's router may differ: the device loads its capabilities afresh
    this.device = null;
    this.set({ sfuUrl: url, relocations: this.snap.relocations + 1 });
    this.openSocket(url);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** One request with its ack; a refusal rejects with its contract code. */
  request<K extends LiveEventName>(
    event: K,
    payload: Parameters<LiveClientEvents[K]>[0],
  ): Promise<LiveReplies[K]> {
    return new Promise((resolve, reject) => {
      const socket = this.socket;
      if (!socket?.connected) {
        reject(new LiveError('NETWORK', 'not connected'));
        return;
      }
      const timer = setTimeout(
        () => reject(new LiveError('NETWORK', `${event}: no answer`)),
        event === 'room.end' ? END_TIMEOUT_MS : ACK_TIMEOUT_MS,
      );
      const ack = (res: Ack<LiveReplies[K]>) => {
        clearTimeout(timer);
        if (res.ok) resolve(res.data);
        else reject(new LiveError(res.error.code, res.error.message));
      };
      // socket.io's typed emit cannot follow a generic event name; the payload type is checked above
      (socket.emit as (e: string, p: unknown, a: (res: Ack<LiveReplies[K]>) => void) => void)(
        event,
        payload,
        ack,
      );
    });
  }

  private bindServerEvents(socket: LiveSocket): void {
    socket.on('producer.new', (p) => {
      void this.enqueue(() => this.consume(p)).catch(() => undefined);
    });
    socket.on('producer.closed', ({ producerId }) => this.dropProducer(producerId));
    socket.on('consumer.closed', ({ consumerId }) => this.dropConsumer(consumerId));
    socket.on('producer.state', ({ producerId, paused, by }) => {
      for (const c of this.consumers.values()) {
        if (c.remote.producerId === producerId) c.remote = { ...c.remote, paused };
      }
      // a producer of mine the teacher paused or resumed
      for (const [source, p] of this.producers) {
        if (p.id !== producerId) continue;
        if (paused) p.pause();
        else p.resume();
        const muted = new Set(this.snap.mutedByTeacher);
        if (paused && by === 'teacher') muted.add(source);
        if (!paused) muted.delete(source);
        this.set({ mutedByTeacher: [...muted] });
        return;
      }
      this.set({});
    });
    // the stage itself says whether this student is on it (invited, removed, or left by lowering the hand)
    socket.on('stage.updated', (stage) =>
      this.set({ stage, invited: stage.onStage.some((e) => e.userId === this.snap.userId) }),
    );
    socket.on('stage.invited', () => this.set({ invited: true }));
    socket.on('stage.removed', () => {
      for (const source of [...this.producers.keys()]) this.closeLocalProducer(source);
      this.set({ invited: false, mutedByTeacher: [] });
    });
    socket.on('stage.muted', ({ sources }) => {
      for (const s of sources) this.producers.get(s)?.pause();
      this.set({ mutedByTeacher: [...new Set([...this.snap.mutedByTeacher, ...sources])] });
    });
    socket.on('activeSpeaker', (e) => this.set({ activeSpeaker: e }));
    socket.on('viewerCount', (e) => this.set({ viewerCount: e.webrtc, students: e.students }));
    socket.on('room.restarted', (e) => {
      if (e.epoch <= this.epoch) return;
      this.epoch = e.epoch;
      this.set({ status: 'recovering' });
      void this.enqueue(async () => {
        await this.rebuild(e.routerRtpCapabilities, e.producers);
        this.set({ status: 'joined', recoveries: this.snap.recoveries + 1 });
      }).catch((err: unknown) =>
        this.fail(err instanceof LiveError ? err : new LiveError('INTERNAL', String(err))),
      );
    });
    socket.on('room.ended', () => {
      this.teardownMedia();
      this.set({ status: 'ended' });
      // The teacher who ended it hears room.ended before room.end's answer (the replay queued, or why
      // not): disconnecting here would lose that answer and time the request out as if nothing ended.
      if (!this.ending) socket.disconnect();
    });
  }

  private async join(): Promise<LiveJoinReply> {
    const reply = await this.request('room.join', { lessonId: this.opts.lessonId });
    this.epoch = reply.epoch;
    this.set({
      role: reply.role,
      userId: reply.userId,
      peerId: reply.peerId,
      stage: reply.stage,
      viewerCount: reply.viewerCount,
      students: reply.students,
      invited: reply.stage.onStage.some((s) => s.userId === reply.userId),
    });
    const again = this.joinedOnce;
    this.joinedOnce = true;
    await this.rebuild(reply.routerRtpCapabilities, reply.producers);
    this.set({
      status: 'joined',
      error: null,
      ...(again ? { recoveries: this.snap.recoveries + 1 } : {}),
    });
    return reply;
  }

  /** Drops every local transport and builds the media again: first join, room.restarted, reconnect. */
  private async rebuild(caps: LiveJoinReply['routerRtpCapabilities'], producers: ProducerInfo[]) {
    this.teardownMedia();
    if (!this.device) {
      this.device = new Device();
      await this.device.load({ routerRtpCapabilities: caps as types.RtpCapabilities });
    }
    // re-send what was being sent before (a teacher's camera, mic, screen; a student on stage) first:
    // after a restart the whole class waits for it
    for (const [source, track] of this.wanted) {
      if (track.readyState === 'live') await this.produceNow(source, track);
      else this.wanted.delete(source);
    }
    await this.createRecvTransport();
    for (const p of producers) await this.consume(p);
    this.set({});
  }

  private teardownMedia(): void {
    if (this.recvTimer) clearTimeout(this.recvTimer);
    this.recvTimer = null;
    for (const p of this.producers.values()) p.close();
    this.producers.clear();
    for (const c of this.consumers.values()) c.consumer.close();
    this.consumers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = null;
    this.recvTransport = null;
    this.recvConnected = false;
  }

  private hookConnect(transport: Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('transport.connect', {
        transportId: transport.id,
        dtlsParameters,
      }).then(() => callback(), errback);
    });
  }

  private async createRecvTransport(): Promise<void> {
    const device = this.device!;
    const info: TransportInfo = await this.request('transport.create', { direction: 'recv' });
    const transport = device.createRecvTransport(info as unknown as types.TransportOptions);
    this.hookConnect(transport);
    transport.on('connectionstatechange', (state) => {
      if (transport !== this.recvTransport) return;
      if (state === 'connected') {
        this.recvConnected = true;
        if (this.recvTimer) clearTimeout(this.recvTimer);
        this.recvTimer = null;
      }
      if (state === 'failed') this.fail(new LiveError('WEBRTC_FAILED', 'ICE/DTLS failed'));
    });
    this.recvTransport = transport;
  }

  private async consume(p: ProducerInfo): Promise<void> {
    const transport = this.recvTransport;
    if (!transport || !this.device || p.peerId === this.snap.peerId) return;
    if ([...this.consumers.values()].some((c) => c.remote.producerId === p.producerId)) return;
    const info = await this.request('consume', {
      transportId: transport.id,
      producerId: p.producerId,
      rtpCapabilities: this.device.rtpCapabilities,
    });
    if (transport !== this.recvTransport) return; // rebuilt meanwhile
    const consumer = await transport.consume({
      id: info.id,
      producerId: info.producerId,
      kind: info.kind,
      rtpParameters: info.rtpParameters as unknown as types.RtpParameters,
    });
    const remote: RemoteMedia = {
      consumerId: consumer.id,
      producerId: p.producerId,
      kind: info.kind,
      source: info.source,
      peerId: p.peerId,
      userId: p.userId,
      name: p.name,
      role: p.role,
      track: consumer.track,
      ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc,
      paused: info.producerPaused,
    };
    this.consumers.set(consumer.id, { consumer, remote });
    this.set({});
    await this.request('consumer.resume', { consumerId: consumer.id });
    // the media path must come up in time, or this browser watches over HLS instead
    if (!this.recvConnected && !this.recvTimer) {
      this.recvTimer = setTimeout(() => {
        if (!this.recvConnected && transport === this.recvTransport)
          this.fail(new LiveError('WEBRTC_FAILED', 'the media connection timed out'));
      }, this.opts.connectTimeoutMs ?? 12_000);
    }
  }

  private dropProducer(producerId: string): void {
    for (const [id, c] of this.consumers) {
      if (c.remote.producerId === producerId) {
        c.consumer.close();
        this.consumers.delete(id);
      }
    }
    for (const [source, p] of this.producers) if (p.id === producerId) this.closeLocalProducer(source);
    this.set({});
  }

  private dropConsumer(consumerId: string): void {
    this.consumers.get(consumerId)?.consumer.close();
    this.consumers.delete(consumerId);
    this.set({});
  }

  private closeLocalProducer(source: LiveSource): void {
    this.producers.get(source)?.close();
    this.producers.delete(source);
    this.wanted.delete(source);
  }

  private async ensureSendTransport(): Promise<Transport> {
    if (this.sendTransport) return this.sendTransport;
    const info: TransportInfo = await this.request('transport.create', { direction: 'send' });
    const transport = this.device!.createSendTransport(info as unknown as types.TransportOptions);
    this.hookConnect(transport);
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      this.request('produce', {
        transportId: transport.id,
        kind,
        source: appData['source'] as LiveSource,
        rtpParameters,
      }).then(({ producerId }) => callback({ id: producerId }), errback);
    });
    this.sendTransport = transport;
    return transport;
  }

  private async produceNow(source: LiveSource, track: MediaStreamTrack): Promise<void> {
    const transport = await this.ensureSendTransport();
    const producer = await transport.produce({
      track,
      // the track outlives the producer: it is sent again after a restart
      stopTracks: false,
      ...(source === 'camera' && this.snap.role === 'teacher'
        ? { encodings: SIMULCAST_ENCODINGS.map((e) => ({ ...e })) }
        : {}),
      ...(source === 'screen' ? { codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      appData: { source },
    });
    this.producers.set(source, producer);
    this.set({});
  }

  /** Sends a track as `source` (and again after every restart, until stopProducing). */
  produce(source: LiveSource, track: MediaStreamTrack): Promise<void> {
    return this.enqueue(async () => {
      this.wanted.set(source, track);
      const held = this.producers.get(source);
      if (held) {
        await held.replaceTrack({ track });
        return;
      }
      try {
        await this.produceNow(source, track);
      } catch (err) {
        this.wanted.delete(source);
        throw err;
      }
    });
  }

  stopProducing(source: LiveSource): Promise<void> {
    return this.enqueue(async () => {
      const producer = this.producers.get(source);
      this.closeLocalProducer(source);
      this.set({});
      if (producer) await this.request('producer.close', { producerId: producer.id }).catch(() => undefined);
    });
  }

  /** Self-mute / unmute (a student the teacher muted unmutes this way too). */
  async setPaused(source: LiveSource, paused: boolean): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.request(paused ? 'producer.pause' : 'producer.resume', { producerId: producer.id });
    if (!paused) this.set({ mutedByTeacher: this.snap.mutedByTeacher.filter((s) => s !== source) });
  }

  /** Tells the server how big a video is shown, so it forwards the simulcast layer that fits. */
  async preferSize(consumerId: string, width: number, height: number): Promise<void> {
    await this.request('consumer.setPreferredLayers', {
      consumerId,
      viewport: { width: Math.round(width), height: Math.round(height) },
    });
  }

  /** The send transport's stats (RTT, bitrate, loss for the network indicator). */
  async sendStats(): Promise<RTCStatsReport | null> {
    return this.sendTransport ? this.sendTransport.getStats() : null;
  }

  async receiverStats(consumerId: string): Promise<RTCStatsReport | null> {
    const c = this.consumers.get(consumerId);
    return c && !c.consumer.closed ? c.consumer.getStats() : null;
  }

  /**
   * Leaves the room (or, for the teacher with `end`, ends it for everyone). Ending rejects with the
   * server's reason; the snapshot's status tells whether the room ended all the same (the replay could
   * not be queued) or is still live (the request never got through).
   */
  async close(opts: { end: true }): Promise<LiveReplies['room.end']>;
  async close(opts?: { end?: false }): Promise<void>;
  async close(opts: { end?: boolean } = {}): Promise<LiveReplies['room.end'] | void> {
    if (opts.end) {
      this.ending = true;
      try {
        const ended = await this.request('room.end', {});
        this.teardownMedia();
        this.set({ status: 'ended' });
        return ended;
      } finally {
        this.ending = false;
        if (this.snap.status === 'ended') {
          this.closed = true;
          this.socket?.disconnect();
        }
      }
    }
    this.closed = true;
    this.stopRelocating();
    if (this.socket?.connected) await this.request('room.leave', {}).catch(() => undefined);
    this.teardownMedia();
    this.wanted.clear();
    this.socket?.disconnect();
    this.socket = null;
  }
}
