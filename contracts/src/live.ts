import { z } from 'zod';
import type { Ack } from './errors.js';
import { ObjectIdString } from './lessons.js';

/**
 * Live lessons: the sfu's socket.io signalling, namespace `/live` on `LiveInfo.sfuUrl`.
 *
 * Connect with `io(sfuUrl + '/live', { auth: { token: <api access token> } })`. A refused connection's
 * error carries `data.code` (UNAUTHENTICATED, TOKEN_EXPIRED). Every event needs an ack callback, which
 * gets `{ ok: true, data }` or `{ ok: false, error: { code, message } }`. Roles come from the token and
 * the api's lesson (its `live.teacherId`), never from payloads: unknown keys are dropped, so a forged
 * `role` changes nothing.
 *
 * Flow of a viewer (mediasoup-client):
 *  1. `room.join {lessonId}` → LiveJoinReply. `device.load({ routerRtpCapabilities })`.
 *     ROOM_FULL: the WebRTC audience is at its cap → play the HLS stream (`LiveInfo.hls.web`) instead.
 *     NOT_LIVE: the lesson is not live (not started yet, or ended) → LiveInfo says which.
 *  2. `transport.create {direction:'recv'}` → TransportInfo → `device.createRecvTransport(info)`; on its
 *     'connect' event send `transport.connect {transportId, dtlsParameters}`.
 *  3. For each producer in `LiveJoinReply.producers` and each later `producer.new`: `consume {transportId,
 *     producerId, rtpCapabilities: device.rtpCapabilities}` → ConsumerInfo → `transport.consume(info)`,
 *     then `consumer.resume {consumerId}` (consumers start paused so no key frame is lost).
 *  4. Video: `consumer.setPreferredLayers {consumerId, viewport:{width,height}, bandwidthKbps?}` when
 *     the video element's size or the measured bandwidth changes (or explicit `spatialLayer`).
 *  5. `producer.closed` / `consumer.closed`: close the local consumer and remove its track.
 *
 * The teacher (and a student invited to the stage) also creates a 'send' transport and calls `produce`
 * with `{ kind, source, rtpParameters }` from the send transport's 'produce' event. The teacher's camera
 * uses simulcast: `encodings: SIMULCAST_ENCODINGS` (3 layers). Sources: teacher camera/mic/screen; a
 * student on stage mic/camera only.
 *
 * Stage: a student `stage.raiseHand` → everyone gets `stage.updated` (the teacher shows `queue`) → the
 * teacher `stage.invite {userId}` → the student gets `stage.invited` and may then produce mic/camera (until
 * then `produce` answers FORBIDDEN). The teacher can `stage.mute {userId}` (their producers are paused on
 * the server; they see `stage.muted` and `producer.state`; they may unmute themselves with
 * `producer.resume`) and `stage.remove {userId}` (their producers are closed; they get `stage.removed`).
 * A student leaves the queue or the stage with `stage.lowerHand`. Stage places belong to the user, so a
 * reconnecting student keeps theirs.
 *
 * room.restarted (a mediasoup worker carrying this client's media died; the sfu replaced it): the
 * client's transports are gone on the server (its producers and consumers with them), but the peer is
 * still in the room (role, stage place). The client must close its local transports (and their producers
 * and consumers) and run steps 2–4 again: create new transports, re-produce what it was producing (the
 * teacher: camera, mic, screen if shared; a student on stage: mic/camera), and consume the producers in
 * the event (and any later `producer.new`). Two cases, one client procedure:
 *  - the room's origin worker died (it carries every producer): every peer gets the event, `producers`
 *    is empty, and the viewers see `producer.new` as the teacher re-publishes;
 *  - an extra worker the room grew onto died: only its viewers get the event, `producers` lists what to
 *    consume again; producers elsewhere keep running (a new send transport simply replaces the old one).
 * Calling `room.join` again is also fine: on the same socket it resets the peer's media and answers a
 * fresh snapshot. The router's RTP capabilities do not change, so the loaded Device can be kept. Ignore
 * a room.restarted whose `epoch` is not above the last one seen.
 *
 * room.ended: the teacher ended the lesson; close everything; the lesson page switches to the replay
 * once it is transcoded. A socket.io reconnect (new socket) needs `room.join` again.
 *
 * Errors: VALIDATION_FAILED (the message names the field; also for unknown events), UNAUTHENTICATED,
 * FORBIDDEN (not your role: a student producing without an invitation, a student using teacher events,
 * someone else's producer), NOT_FOUND (unknown transport / producer / consumer / user), NOT_JOINED (any
 * media event before `room.join`), NOT_LIVE, ROOM_FULL, CONFLICT (already producing that source, a
 * transport already connected), RATE_LIMITED, PAYLOAD_TOO_LARGE (over LIVE_LIMITS.eventBytes),
 * DEPENDENCY_DOWN (the api cannot be asked), INTERNAL.
 */

export const LIVE_NAMESPACE = '/live';

export const LIVE_LIMITS = {
  /** Bytes of one event's JSON payload (a browser's rtpCapabilities are a few KB). */
  eventBytes: 64 * 1024,
  /** Events one connection may send per second, whatever they are. */
  eventsPerSecond: 50,
  /** Students waiting with a raised hand. */
  queueMax: 200,
  /** Students on stage at once. */
  stageMax: 6,
  /** WebRTC transports one peer holds (or is being given) at once: one per direction. */
  transportsPerPeer: 2,
} as const;

/** What a producer carries: the teacher's camera, microphone and screen share; a student on stage: mic/camera. */
export const LiveSource = z.enum(['camera', 'mic', 'screen']);
export type LiveSource = z.infer<typeof LiveSource>;
export const MediaKind = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof MediaKind>;
/** The kind each source must have. */
export const SOURCE_KIND: Record<LiveSource, MediaKind> = { camera: 'video', mic: 'audio', screen: 'video' };

export const LiveRole = z.enum(['teacher', 'student']);
export type LiveRole = z.infer<typeof LiveRole>;

/**
 * The teacher camera's simulcast layers (low → high), for mediasoup-client's `produce({ encodings })`.
 * Layer 0 suits thumbnails, 1 a normal player, 2 full screen.
 */
export const SIMULCAST_ENCODINGS = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
] as const;

// WebRTC parameter shapes (mediasoup-client's RtpCapabilities, RtpParameters, DtlsParameters…). Only
// what the server needs to check is spelled out; other fields pass through to mediasoup, which checks the
// rest. Clients may cast these to mediasoup-client's types.
const Params = z.record(z.string(), z.unknown());
const RtcpFeedback = z.looseObject({ type: z.string(), parameter: z.string().optional() });

export const RtpCodecCapability = z.looseObject({
  kind: MediaKind,
  mimeType: z.string().max(64),
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().optional(),
  parameters: Params.optional(),
  rtcpFeedback: z.array(RtcpFeedback).max(32).optional(),
});
export const RtpHeaderExtension = z.looseObject({
  kind: MediaKind.optional(),
  uri: z.string().max(256),
  preferredId: z.number().int(),
  preferredEncrypt: z.boolean().optional(),
  direction: z.string().optional(),
});
export const RtpCapabilities = z.looseObject({
  codecs: z.array(RtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(RtpHeaderExtension).max(64).optional(),
});
export type RtpCapabilities = z.infer<typeof RtpCapabilities>;

export const RtpEncoding = z.looseObject({
  ssrc: z.number().int().optional(),
  rid: z.string().max(32).optional(),
  codecPayloadType: z.number().int().optional(),
  rtx: z.looseObject({ ssrc: z.number().int() }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: z.string().max(16).optional(),
  scaleResolutionDownBy: z.number().optional(),
  maxBitrate: z.number().optional(),
});
export const RtpParameters = z.looseObject({
  mid: z.string().max(32).optional(),
  codecs: z
    .array(
      z.looseObject({
        mimeType: z.string().max(64),
        payloadType: z.number().int().min(0).max(127),
        clockRate: z.number().int().positive(),
        channels: z.number().int().positive().optional(),
        parameters: Params.optional(),
        rtcpFeedback: z.array(RtcpFeedback).max(32).optional(),
      }),
    )
    .min(1)
    .max(16),
  headerExtensions: z
    .array(
      z.looseObject({
        uri: z.string().max(256),
        id: z.number().int(),
        encrypt: z.boolean().optional(),
        parameters: Params.optional(),
      }),
    )
    .max(32)
    .optional(),
  encodings: z.array(RtpEncoding).max(8).optional(),
  rtcp: z.looseObject({ cname: z.string().optional(), reducedSize: z.boolean().optional() }).optional(),
});
export type RtpParameters = z.infer<typeof RtpParameters>;

export const DtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.looseObject({ algorithm: z.string().max(16), value: z.string().max(256) }))
    .min(1)
    .max(8),
});
export type DtlsParameters = z.infer<typeof DtlsParameters>;

export const IceParameters = z.looseObject({
  usernameFragment: z.string(),
  password: z.string(),
  iceLite: z.boolean().optional(),
});
export type IceParameters = z.infer<typeof IceParameters>;
export const IceCandidate = z.looseObject({
  foundation: z.string(),
  priority: z.number(),
  address: z.string(),
  /** Deprecated alias of `address` (mediasoup still sends it). */
  ip: z.string().optional(),
  protocol: z.enum(['udp', 'tcp']),
  port: z.number().int(),
  type: z.string(),
  tcpType: z.string().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidate>;

// Shapes the server sends.

/** One signed-in person in the room (one socket; a user may have several). */
export const PeerInfo = z.object({
  peerId: z.string(),
  userId: z.string(),
  name: z.string(),
  role: LiveRole,
});
export type PeerInfo = z.infer<typeof PeerInfo>;

/** A producer a client may consume. */
export const ProducerInfo = z.object({
  producerId: z.string(),
  peerId: z.string(),
  userId: z.string(),
  name: z.string(),
  role: LiveRole,
  kind: MediaKind,
  source: LiveSource,
  /** Paused by its owner or muted by the teacher: no media flows. */
  paused: z.boolean(),
});
export type ProducerInfo = z.infer<typeof ProducerInfo>;

/** A student in the hand queue or on stage. */
export const StageEntry = z.object({
  userId: z.string(),
  name: z.string(),
  /** ISO time the hand went up (queue) or the invitation was made (on stage). */
  since: z.string(),
  /** On stage: muted by the teacher. */
  muted: z.boolean().optional(),
});
export type StageEntry = z.infer<typeof StageEntry>;
/** The whole stage; sent to everyone in the room on every change. */
export const StageState = z.object({
  lessonId: z.string(),
  /** Raised hands, oldest first. */
  queue: z.array(StageEntry),
  /** Invited students, who may produce mic/camera. */
  onStage: z.array(StageEntry),
});
export type StageState = z.infer<typeof StageState>;

export const TransportDirection = z.enum(['send', 'recv']);
export type TransportDirection = z.infer<typeof TransportDirection>;
/** For `device.createSendTransport(info)` / `createRecvTransport(info)`. */
export const TransportInfo = z.object({
  id: z.string(),
  direction: TransportDirection,
  iceParameters: IceParameters,
  iceCandidates: z.array(IceCandidate),
  dtlsParameters: DtlsParameters,
});
export type TransportInfo = z.infer<typeof TransportInfo>;

/** For `recvTransport.consume(info)`; the consumer starts paused: send `consumer.resume` next. */
export const ConsumerInfo = z.object({
  id: z.string(),
  producerId: z.string(),
  kind: MediaKind,
  rtpParameters: RtpParameters,
  /** 'simulcast' for the teacher's camera: `consumer.setPreferredLayers` applies. */
  type: z.string(),
  producerPaused: z.boolean(),
  source: LiveSource,
  peerId: z.string(),
  userId: z.string(),
});
export type ConsumerInfo = z.infer<typeof ConsumerInfo>;

export const LiveJoinReply = z.object({
  lessonId: z.string(),
  /** This connection in the room (producers and stage entries name peers and users). */
  peerId: z.string(),
  userId: z.string(),
  role: LiveRole,
  /** For `device.load({ routerRtpCapabilities })`. */
  routerRtpCapabilities: RtpCapabilities,
  /** Everything there is to consume now (this peer's own producers left out). */
  producers: z.array(ProducerInfo),
  stage: StageState,
  viewerCount: z.number().int(),
  /** The class: students connected over WebRTC (the teacher, an admin watching, left out). */
  students: z.number().int(),
  /** Bumped at every room.restarted: a client may ignore events of an older epoch. */
  epoch: z.number().int(),
  startedAt: z.string(),
});
export type LiveJoinReply = z.infer<typeof LiveJoinReply>;

// Client → server payloads (unknown keys are dropped).
const Id = z.string().min(1).max(64);

export const LiveJoinRequest = z.object({ lessonId: ObjectIdString });
export const LiveEmptyRequest = z.object({});
export const TransportCreateRequest = z.object({ direction: TransportDirection });
export const TransportConnectRequest = z.object({ transportId: Id, dtlsParameters: DtlsParameters });
export const TransportRestartIceRequest = z.object({ transportId: Id });
export const ProduceRequest = z
  .object({
    transportId: Id,
    kind: MediaKind,
    source: LiveSource,
    rtpParameters: RtpParameters,
  })
  .refine((r) => SOURCE_KIND[r.source] === r.kind, {
    path: ['kind'],
    message: 'camera and screen are video, mic is audio',
  });
export const ProducerRequest = z.object({ producerId: Id });
export const ConsumeRequest = z.object({
  transportId: Id,
  producerId: Id,
  rtpCapabilities: RtpCapabilities,
});
export const ConsumerRequest = z.object({ consumerId: Id });
/**
 * Either explicit layers, or hints the server turns into layers: the size the video is shown at (CSS
 * pixels × devicePixelRatio) and the bandwidth the client measured.
 */
export const PreferredLayersRequest = z
  .object({
    consumerId: Id,
    spatialLayer: z.number().int().min(0).max(2).optional(),
    temporalLayer: z.number().int().min(0).max(2).optional(),
    viewport: z
      .object({ width: z.number().int().min(0).max(16_384), height: z.number().int().min(0).max(16_384) })
      .optional(),
    bandwidthKbps: z.number().min(0).max(1_000_000).optional(),
  })
  .refine((r) => r.spatialLayer !== undefined || r.viewport !== undefined || r.bandwidthKbps !== undefined, {
    path: ['spatialLayer'],
    message: 'give spatialLayer, or viewport and/or bandwidthKbps',
  });
export const StageUserRequest = z.object({ userId: Id });
export const StageMuteRequest = z.object({
  userId: Id,
  /** Which of their producers; both mic and camera when left out. */
  source: z.enum(['mic', 'camera']).optional(),
});

/** Every client → server event and its payload schema (the server validates with these). */
export const LIVE_REQUESTS = {
  'room.join': LiveJoinRequest,
  'room.leave': LiveEmptyRequest,
  /** Teacher: ends the lesson for everyone (the recording becomes the replay). */
  'room.end': LiveEmptyRequest,
  'transport.create': TransportCreateRequest,
  'transport.connect': TransportConnectRequest,
  'transport.restartIce': TransportRestartIceRequest,
  produce: ProduceRequest,
  /** Own producers only (self-mute / unmute). */
  'producer.pause': ProducerRequest,
  'producer.resume': ProducerRequest,
  'producer.close': ProducerRequest,
  consume: ConsumeRequest,
  'consumer.resume': ConsumerRequest,
  /** e.g. while the tab is hidden. */
  'consumer.pause': ConsumerRequest,
  'consumer.setPreferredLayers': PreferredLayersRequest,
  /** Students. */
  'stage.raiseHand': LiveEmptyRequest,
  /** Students: leaves the queue, or the stage (their producers close). */
  'stage.lowerHand': LiveEmptyRequest,
  /** Teacher. */
  'stage.invite': StageUserRequest,
  'stage.remove': StageUserRequest,
  'stage.mute': StageMuteRequest,
} as const;
export type LiveEventName = keyof typeof LIVE_REQUESTS;
export type LiveRequest<K extends LiveEventName> = z.output<(typeof LIVE_REQUESTS)[K]>;

export const PreferredLayers = z.object({
  consumerId: z.string(),
  spatialLayer: z.number().int(),
  temporalLayer: z.number().int().optional(),
});
export type PreferredLayers = z.infer<typeof PreferredLayers>;
export const RoomEnded = z.object({
  lessonId: z.string(),
  endedAt: z.string(),
  /** The recording (relative to the media store) the replay is made from; null when nothing was recorded. */
  recording: z.string().nullable(),
});
export type RoomEnded = z.infer<typeof RoomEnded>;

/** What each event's ack carries on success. */
export interface LiveReplies {
  'room.join': LiveJoinReply;
  'room.leave': { lessonId: string };
  'room.end': RoomEnded;
  'transport.create': TransportInfo;
  'transport.connect': { transportId: string };
  'transport.restartIce': { transportId: string; iceParameters: IceParameters };
  produce: { producerId: string };
  'producer.pause': { producerId: string; paused: boolean };
  'producer.resume': { producerId: string; paused: boolean };
  'producer.close': { producerId: string };
  consume: ConsumerInfo;
  'consumer.resume': { consumerId: string };
  'consumer.pause': { consumerId: string };
  'consumer.setPreferredLayers': PreferredLayers;
  'stage.raiseHand': StageState;
  'stage.lowerHand': StageState;
  'stage.invite': StageState;
  'stage.remove': StageState;
  'stage.mute': StageState;
}

export type LiveClientEvents = {
  [K in LiveEventName]: (
    req: z.input<(typeof LIVE_REQUESTS)[K]>,
    ack: (res: Ack<LiveReplies[K]>) => void,
  ) => void;
};

// Server → client events.
export const ProducerClosedEvent = z.object({
  producerId: z.string(),
  /** 'closed' by its owner, 'removed' from stage, 'left' the room. */
  reason: z.enum(['closed', 'removed', 'left']),
});
export type ProducerClosedEvent = z.infer<typeof ProducerClosedEvent>;
export const ProducerStateEvent = z.object({
  producerId: z.string(),
  paused: z.boolean(),
  /** Who paused it: its owner, or the teacher muting a student. */
  by: z.enum(['owner', 'teacher']),
});
export type ProducerStateEvent = z.infer<typeof ProducerStateEvent>;
export const ConsumerClosedEvent = z.object({ consumerId: z.string(), producerId: z.string() });
export type ConsumerClosedEvent = z.infer<typeof ConsumerClosedEvent>;
/** The loudest peer now (null: silence). */
export const ActiveSpeakerEvent = z.object({ peerId: z.string().nullable(), userId: z.string().nullable() });
export type ActiveSpeakerEvent = z.infer<typeof ActiveSpeakerEvent>;
export const ViewerCountEvent = z.object({
  lessonId: z.string(),
  /** People connected over WebRTC (the teacher and on-stage students included). */
  webrtc: z.number().int(),
  /** The class: students connected over WebRTC (the teacher, an admin watching, left out). */
  students: z.number().int(),
});
export type ViewerCountEvent = z.infer<typeof ViewerCountEvent>;
export const RoomRestartedEvent = z.object({
  lessonId: z.string(),
  epoch: z.number().int(),
  /** Producers to consume right away (usually empty: the teacher re-produces; watch `producer.new`). */
  producers: z.array(ProducerInfo),
  routerRtpCapabilities: RtpCapabilities,
});
export type RoomRestartedEvent = z.infer<typeof RoomRestartedEvent>;
export const StageNoticeEvent = z.object({ lessonId: z.string() });
export const StageMutedEvent = z.object({ lessonId: z.string(), sources: z.array(LiveSource) });

export interface LiveServerEvents {
  'producer.new': (e: ProducerInfo) => void;
  'producer.closed': (e: ProducerClosedEvent) => void;
  'producer.state': (e: ProducerStateEvent) => void;
  'consumer.closed': (e: ConsumerClosedEvent) => void;
  'stage.updated': (e: StageState) => void;
  /** To the invited student: they may produce mic/camera now. */
  'stage.invited': (e: z.infer<typeof StageNoticeEvent>) => void;
  /** To the removed student: their producers are closed. */
  'stage.removed': (e: z.infer<typeof StageNoticeEvent>) => void;
  /** To the muted student: these producers of theirs were paused by the teacher. */
  'stage.muted': (e: z.infer<typeof StageMutedEvent>) => void;
  activeSpeaker: (e: ActiveSpeakerEvent) => void;
  viewerCount: (e: ViewerCountEvent) => void;
  'room.restarted': (e: RoomRestartedEvent) => void;
  'room.ended': (e: RoomEnded) => void;
}

/**
 * The sfu directory in Redis, shared by the sfu nodes (writers) and the api (reader): each node beats its
 * record every SFU_BEAT_MS (a key expiring after SFU_NODE_TTL_MS), and the node that opened a lesson's room
 * (its origin, where the teacher publishes) holds the lesson's lease, renewed with the beat, so a dead
 * node's record and leases vanish by themselves.
 */
export const SFU_DIRECTORY = {
  beatMs: 500,
  /**
   * A node whose last beat is older than this gets no new clients from the api (a killed node's viewers
   * move on after this long); a late beat only sends a few joins elsewhere for a moment.
   */
  staleMs: 1000,
  nodeTtlMs: 3000,
  leaseTtlMs: 3000,
  /**
   * Every key carries one hash tag, the directory's: a Redis Cluster keeps them in one slot, as a node's
   * beat (its record, the node set and its leases in one MULTI) and the api's MGET of all records need.
   */
  node: (prefix: string, nodeId: string) => `{${prefix}:sfu}:node:${nodeId}`,
  nodes: (prefix: string) => `{${prefix}:sfu}:nodes`,
  lesson: (prefix: string, lessonId: string) => `{${prefix}:sfu}:lesson:${lessonId}`,
} as const;

export const SfuNodeRecord = z.object({
  nodeId: z.string().min(1),
  /** What browsers connect to (socket.io /live). */
  publicUrl: z.string(),
  /** What other sfu nodes call for cascading (internal routes, shared secret). */
  internalUrl: z.string(),
  /** Peers in this node's rooms now, and how many it takes before the api sends viewers elsewhere. */
  load: z.number().int().min(0),
  capacity: z.number().int().min(1),
  beatAt: z.number(),
});
export type SfuNodeRecord = z.infer<typeof SfuNodeRecord>;

/** Whether a node counts as alive: its last beat is at most SFU_DIRECTORY.staleMs old. */
export const isBeating = (node: Pick<SfuNodeRecord, 'beatAt'>, now: number): boolean =>
  now - node.beatAt <= SFU_DIRECTORY.staleMs;

/**
 * GET /api/lessons/:id/live query: `unreachable` is the sfu url the client could not reach (its signalling
 * connection failed): the api names another live node while one beats.
 */
export const LiveInfoQuery = z.strictObject({ unreachable: z.url().max(2048).optional() });
export type LiveInfoQuery = z.infer<typeof LiveInfoQuery>;

/** Who asks the api for a lesson's node (chooseSfuNode). */
export interface SfuNodeAsk {
  /** A node the client could not reach (its public url): passed over while another one beats. */
  unreachable?: string | undefined;
  /** The lesson's teacher (or an admin): sent to the origin however loaded, where the class is taught. */
  teaches?: boolean;
}

/**
 * Which node a lesson's client should connect to: the lesson's origin while it has room (teacher and
 * students of a class together), else the least-loaded other live node with room (an edge that pipes
 * from the origin), else the origin anyway (its own audience cap sends the rest to HLS). The teacher
 * always goes to the origin: on an edge, what they publish would reach that node's viewers only. No
 * origin yet: the least-loaded live node, which will become it.
 */
export function chooseSfuNode(
  nodes: readonly SfuNodeRecord[],
  originId: string | undefined,
  now: number,
  ask: SfuNodeAsk = {},
): SfuNodeRecord | undefined {
  const beating = nodes.filter((n) => isBeating(n, now));
  const reachable = beating.filter((n) => n.publicUrl !== ask.unreachable);
  const live = (reachable.length > 0 ? reachable : beating).sort(
    (a, b) => a.load / a.capacity - b.load / b.capacity || a.nodeId.localeCompare(b.nodeId),
  );
  const origin = live.find((n) => n.nodeId === originId);
  if (!origin) return live[0];
  if (origin.load < origin.capacity || ask.teaches) return origin;
  return live.find((n) => n !== origin && n.load < n.capacity) ?? origin;
}
