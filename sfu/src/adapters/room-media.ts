// The port between a live room (services/room*.ts) and the media server. Handles are read-only views of
// routers, transports, producers and consumers; every action on them goes through RoomMedia, so the
// services never call the library. adapters/mediasoup-media.ts implements it with mediasoup.
import type {
  DtlsParameters,
  IceCandidate,
  IceParameters,
  MediaKind,
  RtpCapabilities,
  RtpParameters,
  TransportDirection,
} from '@sky/contracts';
import type * as mediasoup from 'mediasoup';

/** A live worker of the pool, by its index there. */
export interface MediaWorker {
  readonly index: number;
}

export interface MediaRouter {
  readonly id: string;
  readonly closed: boolean;
  readonly rtpCapabilities: RtpCapabilities;
}

export interface MediaTransport {
  readonly id: string;
  readonly closed: boolean;
}

export interface WebRtcMediaTransport extends MediaTransport {
  readonly iceParameters: IceParameters;
  readonly iceCandidates: IceCandidate[];
  readonly dtlsParameters: DtlsParameters;
  readonly dtlsState: string;
}

/** Node has no WebRTC: tests and the bench connect these themselves and send or receive RTP with ffmpeg. */
export interface PlainMediaTransport extends MediaTransport {
  readonly tuple: { localPort: number };
  readonly rtcpTuple?: { localPort: number } | undefined;
  connect(remote: { ip: string; port: number; rtcpPort?: number }): Promise<void>;
  close(): void;
}

/** One end of a cascade link between two sfu processes (a mediasoup PipeTransport, plain RTP over UDP). */
export interface PipeMediaTransport extends MediaTransport {
  /** Where the other node sends to (the announced address when the listen one is not reachable). */
  readonly address: { ip: string; port: number };
}

/** The origin's side of one producer piped to another node. */
export interface PipeConsumer {
  readonly id: string;
  readonly producerId: string;
  readonly kind: MediaKind;
  readonly rtpParameters: RtpParameters;
  readonly producerPaused: boolean;
}

/** What the origin hears of a piped producer, to tell the other node. */
export interface PipeConsumerEvents {
  paused(paused: boolean): void;
  /** The producer or the link closed. */
  closed(): void;
}

export interface MediaProducer {
  readonly id: string;
  readonly kind: MediaKind;
  readonly paused: boolean;
  readonly closed: boolean;
  /** Its encodings are its simulcast layers. */
  readonly rtpParameters: { encodings?: readonly unknown[] | undefined };
  readonly appData: Readonly<Record<string, unknown>>;
}

export interface MediaConsumer {
  readonly id: string;
  readonly producerId: string;
  readonly kind: MediaKind;
  /** 'simple', 'simulcast', 'svc' or 'pipe'. */
  readonly type: string;
  readonly rtpParameters: RtpParameters;
  readonly paused: boolean;
  readonly producerPaused: boolean;
  readonly closed: boolean;
  readonly preferredLayers?: ConsumerLayers | undefined;
}

export interface ConsumerLayers {
  spatialLayer: number;
  temporalLayer?: number;
}

export interface SpeakerObserver {
  readonly closed: boolean;
}

/** What the consumer's owner hears; `closed` comes after either of the others, and on any close. */
export interface ConsumerEvents {
  closed(): void;
  producerClosed(): void;
  transportClosed(): void;
}

/** The bridge's relay (adapters/bridge-relay.ts) consumes with mediasoup itself: the room hands over the library's own objects. */
export type BridgeRouter = mediasoup.types.Router;
export type BridgeProducer = mediasoup.types.Producer;

/**
 * Malformed parameters from a client (dtlsParameters, rtpParameters, rtpCapabilities) reject with
 * AppError('VALIDATION_FAILED') naming the field; anything else is the server's failure.
 */
export interface RoomMedia {
  /** The least-loaded live worker, preferring those not in `avoid`; waits for a replacement while none is. */
  pickWorker(avoid?: ReadonlySet<number>): Promise<MediaWorker>;
  createRouter(worker: MediaWorker): Promise<MediaRouter>;
  /** `listener` runs once if the router's worker dies (the router and all on it are closed by then). */
  onWorkerDeath(router: MediaRouter, listener: () => void): void;
  closeRouter(router: MediaRouter): void;
  /** Makes a producer of `from` consumable on `to`, a router on another worker. */
  pipe(from: MediaRouter, producerId: string, to: MediaRouter): Promise<void>;
  /** Follows the audio producers added to it; `listener` hears the dominant speaker's producer id. */
  observeSpeakers(router: MediaRouter, listener: (producerId: string) => void): Promise<SpeakerObserver>;
  addSpeaker(observer: SpeakerObserver, producerId: string): Promise<void>;

  createWebRtcTransport(router: MediaRouter, direction: TransportDirection): Promise<WebRtcMediaTransport>;
  createPlainTransport(
    router: MediaRouter,
    opts: { comedia: boolean; rtcpMux: boolean },
  ): Promise<PlainMediaTransport>;
  connectTransport(transport: WebRtcMediaTransport, dtlsParameters: unknown): Promise<void>;
  restartIce(transport: WebRtcMediaTransport): Promise<IceParameters>;
  /** Closes its producers and consumers with it. */
  closeTransport(transport: MediaTransport): void;

  produce(
    transport: MediaTransport,
    req: { kind: MediaKind; rtpParameters: RtpParameters; appData: Record<string, unknown> },
    onTransportClose: () => void,
  ): Promise<MediaProducer>;
  setProducerPaused(producer: MediaProducer, paused: boolean): Promise<void>;
  closeProducer(producer: MediaProducer): void;

  canConsume(router: MediaRouter, producerId: string, rtpCapabilities: RtpCapabilities): boolean;
  /** The consumer starts paused. */
  consume(
    transport: MediaTransport,
    req: { producerId: string; rtpCapabilities: RtpCapabilities },
    events: ConsumerEvents,
  ): Promise<MediaConsumer>;
  setConsumerPaused(consumer: MediaConsumer, paused: boolean): Promise<void>;
  setPreferredLayers(consumer: MediaConsumer, layers: ConsumerLayers): Promise<void>;

  /** Cascading between sfu processes: both ends create one, learn the other's address, connect. */
  createPipeTransport(router: MediaRouter): Promise<PipeMediaTransport>;
  connectPipe(transport: PipeMediaTransport, remote: { ip: string; port: number }): Promise<void>;
  /** On the origin: a producer's stream into the link (all its simulcast layers, as mediasoup's pipeToRouter). */
  pipeConsume(
    transport: PipeMediaTransport,
    producerId: string,
    events: PipeConsumerEvents,
  ): Promise<PipeConsumer>;
  /** On the other node: the same producer (same id, kind, parameters and paused state) out of the link. */
  pipeProduce(
    transport: PipeMediaTransport,
    req: {
      id: string;
      kind: MediaKind;
      rtpParameters: RtpParameters;
      paused: boolean;
      appData: Record<string, unknown>;
    },
  ): Promise<MediaProducer>;

  bridgeRouter(router: MediaRouter): BridgeRouter;
  bridgeProducer(producer: MediaProducer): BridgeProducer;
}
