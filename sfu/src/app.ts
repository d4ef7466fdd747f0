import { SFU_DIRECTORY, type AccessClaims, type HealthReport, type LiveEndedJob } from '@sky/contracts';
import { registerProblemHandlers, registerSecurityHeaders } from '@sky/contracts/http';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { Server as SocketServer } from 'socket.io';
import type { ApiClient } from './adapters/api-client.js';
import type { CascadePost } from './adapters/cascade-client.js';
import type { RoomDirectory } from './adapters/room-directory.js';
import type { WorkerPool } from './adapters/mediasoup.js';
import { createMediasoupMedia } from './adapters/mediasoup-media.js';
import type { BridgeFactory } from './services/room.js';
import { RoomService } from './services/room.service.js';
import { internalRoutes } from './http/internal.routes.js';
import { Cascade } from './services/cascade.js';
import { registerLiveNamespace } from './socket/index.js';

export interface LiveOptions {
  /** RTC_LISTEN_IP / RTC_ANNOUNCED_IP */
  listenIp: string;
  announcedIp?: string | undefined;
  /** ROUTER_CONSUMER_THRESHOLD */
  consumerThreshold: number;
  /** WEBRTC_AUDIENCE_CAP */
  audienceCap: number;
  /** TEACHER_GRACE_SEC × 1000 (0: a room never ends without its teacher's room.end) */
  teacherGraceMs?: number | undefined;
}

/** Several sfu nodes sharing lessons (cascading); left out, this node runs every room on its own. */
export interface ClusterOptions {
  directory: RoomDirectory;
  /** Calls another node's internal routes (with the secret). */
  post: CascadePost;
  /** CASCADE_SECRET: what other nodes must send to reach /internal/. */
  secret: string;
  /** SFU_PUBLIC_URL / SFU_INTERNAL_URL; each defaults to the address the server listens on. */
  publicUrl?: string | undefined;
  internalUrl?: string | undefined;
  /** SFU_NODE_CAPACITY: peers on this node before the api sends a lesson's next viewers to another. */
  capacity: number;
  /** PIPE_LISTEN_IP / PIPE_ANNOUNCED_IP: the PipeTransports other nodes send media to. */
  pipeListenIp?: string | undefined;
  pipeAnnouncedIp?: string | undefined;
}

export interface SfuDeps {
  logger: FastifyBaseLogger;
  workers: WorkerPool;
  version: string;
  /** Verifies api access tokens (createTokenIssuer with the shared JWT_SECRET). */
  verify: (token: string) => AccessClaims;
  api: ApiClient;
  live: LiveOptions;
  /** Starts the HLS bridge of a room (LiveBridge); left out, rooms run without one. */
  bridges?: BridgeFactory | undefined;
  /** Enqueues the durable `live.ended` job. */
  liveEnded(job: LiveEndedJob): Promise<void>;
  cluster?: ClusterOptions | undefined;
  /** Closed last (the job queues). */
  onClose?: () => Promise<void>;
}

export function createApp(deps: SfuDeps) {
  const startedAt = Date.now();
  const http = Fastify({ loggerInstance: deps.logger });
  registerProblemHandlers(http);
  registerSecurityHeaders(http);
  const media = createMediasoupMedia(deps.workers, {
    listenIp: deps.live.listenIp,
    announcedIp: deps.live.announcedIp,
    pipeListenIp: deps.cluster?.pipeListenIp,
    pipeAnnouncedIp: deps.cluster?.pipeAnnouncedIp,
  });
  const cluster = deps.cluster;
  let internalUrl = cluster?.internalUrl ?? '';
  let pruning: NodeJS.Timeout | undefined;
  const cascade = cluster
    ? new Cascade({
        media,
        post: cluster.post,
        log: deps.logger,
        self: () => ({ nodeId: cluster.directory.nodeId, internalUrl }),
        // not merely a late beat (a busy node): its record expired
        alive: (nodeId) => cluster.directory.exists(nodeId),
        origin: (lessonId) => cluster.directory.origin(lessonId),
        claim: (lessonId) => cluster.directory.claim(lessonId),
        promoted: (room) => rooms.promoted(room),
      })
    : undefined;
  const rooms = new RoomService({
    media,
    log: deps.logger,
    api: deps.api,
    consumerThreshold: deps.live.consumerThreshold,
    audienceCap: deps.live.audienceCap,
    teacherGraceMs: deps.live.teacherGraceMs ?? 0,
    bridges: deps.bridges,
    liveEnded: (job) => deps.liveEnded(job),
    cluster: cluster && cascade ? { directory: cluster.directory, cascade } : undefined,
  });
  // Browsers connect from the web origin; the access token is the authentication, not cookies.
  const io = new SocketServer(http.server, {
    path: '/socket.io',
    cors: { origin: true },
    maxHttpBufferSize: 1e6,
  });
  registerLiveNamespace(io, { verify: deps.verify, rooms, log: deps.logger });

  if (cluster && cascade)
    void http.register(internalRoutes({ secret: cluster.secret, rooms, cascade, verify: deps.verify }), {
      prefix: '/internal',
    });

  http.get('/healthz', async (_req, reply) => {
    const states = deps.workers.states();
    const dependencies = Object.fromEntries(
      states.map((w) => [
        `mediasoup-worker-${w.index}`,
        {
          ok: w.alive,
          detail: `pid ${w.pid}, load ${w.load}${w.restarts ? `, restarted ${w.restarts}×` : ''}`,
        },
      ]),
    );
    const report: HealthReport = {
      service: 'sfu',
      ...(cluster ? { node: cluster.directory.nodeId } : {}),
      ok: states.length > 0 && states.every((w) => w.alive),
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies,
    };
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  return {
    http,
    io,
    rooms,
    /** Once listening: this node joins the directory (a cluster's nodes find it there). */
    async announce(listenUrl: string) {
      if (!cluster) return;
      internalUrl = cluster.internalUrl ?? listenUrl;
      pruning = setInterval(() => void cascade?.prune(), SFU_DIRECTORY.nodeTtlMs);
      pruning.unref();
      await cluster.directory.start({
        nodeId: cluster.directory.nodeId,
        publicUrl: cluster.publicUrl ?? listenUrl,
        internalUrl,
        capacity: cluster.capacity,
        load: () => rooms.load(),
      });
    },
    async close() {
      clearInterval(pruning);
      await io.close();
      await rooms.close();
      await cluster?.directory.close();
      await http.close();
      deps.workers.close();
      await deps.onClose?.();
    },
  };
}
export type SfuApp = ReturnType<typeof createApp>;
