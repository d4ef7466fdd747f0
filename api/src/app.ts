import { mkdir } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { problem, QUEUES, redisTarget, type HealthReport } from '@sky/contracts';
import { Server as SocketServer } from 'socket.io';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Connection } from 'mongoose';
import type { ApiConfig } from './config.js';
import { mongoState } from '@sky/contracts/mongo';
import { LessonRepository } from './adapters/lessons.repository.js';
import { transcodeJobs } from './adapters/lesson-jobs.js';
import { fileMediaStore, objectMediaStore } from './adapters/media.store.js';
import { createQaRedis } from './adapters/qa.redis.js';
import { QaRepository } from './adapters/qa.repository.js';
import type { Passwords } from './adapters/password.js';
import { createAuthRedis } from './adapters/auth.redis.js';
import { createTusRedisLocker } from './adapters/tus-locker.js';
import { createSfuDirectory } from './adapters/sfu-directory.js';
import type { MediaProbe } from './adapters/media-probe.js';
import type { JobQueues } from './adapters/queue.js';
import { SessionRepository } from './adapters/sessions.repository.js';
import { createTicketIssuer, createTokenIssuer } from './adapters/tokens.js';
import { UserRepository } from './adapters/users.repository.js';
import { registerProblemHandlers } from './errors.js';
import { authRoutes } from './http/auth.routes.js';
import { registerGuard, registerSecurityHeaders } from '@sky/contracts/http';
import proxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import { healthRoutes } from './http/health.routes.js';
import { lessonRoutes } from './http/lessons.routes.js';
import { liveRoutes } from './http/live.routes.js';
import { LiveRepository } from './adapters/live.repository.js';
import { liveEndedJob } from './jobs/live-ended.job.js';
import { LiveService } from './services/live.service.js';
import { positionRoutes } from './http/positions.routes.js';
import { qaRoutes } from './http/qa.routes.js';
import type { MediaStorage } from '@sky/contracts/storage';
import type { DataStore } from '@tus/utils';
import { registerStatic } from './http/static.js';
import { uploadRoutes } from './http/uploads.routes.js';
import { userRoutes } from './http/users.routes.js';
import { transcodeResultJob } from './jobs/transcode-result.job.js';
import { AuthService } from './services/auth.service.js';
import { LessonService } from './services/lessons.service.js';
import { PositionService } from './services/positions.service.js';
import { PositionRepository } from './adapters/positions.repository.js';
import { QaService } from './services/qa.service.js';
import { StatusService } from './services/status.service.js';
import { listedNodesOnly, sfuPublicOrigins } from './services/sfu-nodes.js';
import { UploadService } from './services/upload.service.js';
import { registerLessonsNamespace } from './socket/lessons.handler.js';
import { registerQaNamespace } from './socket/qa/index.js';
import { UserService } from './services/users.service.js';
import { followSessions } from './socket/sessions.js';
import { createAnalytics } from './services/analytics.module.js';
import {
  curriculumPlanLinks,
  type PlanLessonSource,
  type PlanLinkSource,
} from './adapters/analytics.catalog.js';

export interface ApiDeps {
  config: ApiConfig;
  logger: FastifyBaseLogger;
  mongo: Connection;
  queues: JobQueues;
  passwords: Passwords;
  probe: MediaProbe;
  version: string;
  /** The curriculum plan's lesson ids, for the beacon ingest (default: asked of CURRICULUM_URL). */
  planLessons?: PlanLessonSource;
  /** The plan lessons airing an api lesson, asked before it is deleted (default: asked of CURRICULUM_URL). */
  planLinks?: PlanLinkSource;
  /**
   * An object store (S3) for finished uploads and packaged lessons, shared with the transcoders; live files
   * stay in MEDIA_DIR.
   */
  lessonStore?: MediaStorage;
  /** tus's store for uploads in progress in that bucket (@tus/s3-store); absent: MEDIA_DIR/.uploads. */
  uploadBucket?: DataStore;
}

export interface ApiApp {
  http: FastifyInstance;
  io: SocketServer;
  services: { auth: AuthService; users: UserService; lessons: LessonService; qa: QaService };
  /** Viewing analytics: ingest, dashboard queries, and the inline aggregator (null when ANALYTICS_WORKER=off). */
  analytics: Awaited<ReturnType<typeof createAnalytics>>;
  close(): Promise<void>;
}

export async function createApp(deps: ApiDeps): Promise<ApiApp> {
  const { config, mongo, queues } = deps;
  const startedAt = Date.now();
  const usersRepo = new UserRepository(mongo);
  const sessionsRepo = new SessionRepository(mongo);
  const lessonsRepo = new LessonRepository(mongo);
  const qaRepo = new QaRepository(mongo);
  const positionsRepo = new PositionRepository(mongo);
  await Promise.all([
    usersRepo.init(),
    sessionsRepo.init(),
    lessonsRepo.init(),
    qaRepo.init(),
    positionsRepo.init(),
  ]);
  // Q&A state and the socket.io Redis adapter, so that rooms span every api process.
  const qaRedis = await createQaRedis(redisTarget(config), {
    prefix: config.QUEUE_PREFIX,
    adapterKey: config.SOCKET_IO_KEY ?? `${config.QUEUE_PREFIX}:sio`,
    namespace: '/qa',
    onError: (err) => deps.logger.warn({ err }, 'redis (q&a, socket.io adapter)'),
  });

  const tokens = createTokenIssuer(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SEC);
  // Ended sign-ins and login throttling, in Redis so that every replica agrees.
  const authRedis = await createAuthRedis(redisTarget(config), {
    prefix: config.QUEUE_PREFIX,
    accessTtlSec: config.ACCESS_TOKEN_TTL_SEC,
    limits: {
      maxPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSec: config.LOGIN_FAILURE_WINDOW_SEC,
      blockSec: config.LOGIN_BLOCK_SEC,
    },
    onError: (err) => deps.logger.warn({ err }, 'redis (sessions, login throttle)'),
  });
  // tus's upload locks, shared by every api process so that any of them may take an upload's next PATCH
  const tusLocker = await createTusRedisLocker(redisTarget(config), {
    prefix: config.QUEUE_PREFIX,
    onError: (err) => deps.logger.warn({ err }, 'redis (upload locks)'),
  });
  const auth = new AuthService(
    usersRepo,
    sessionsRepo,
    authRedis.ended,
    authRedis.throttle,
    tokens,
    deps.passwords,
    config.REFRESH_TOKEN_TTL_SEC,
  );
  const users = new UserService(usersRepo, deps.passwords, auth, config.TEMPORARY_PASSWORD_TTL_SEC);
  const mediaRoot = normalize(config.MEDIA_DIR);
  const uploadDir = join(mediaRoot, '.uploads');
  const lessons = new LessonService(
    lessonsRepo,
    queues,
    deps.lessonStore
      ? objectMediaStore(fileMediaStore(mediaRoot, uploadDir), deps.lessonStore)
      : fileMediaStore(mediaRoot, uploadDir),
    '/media',
    async (id) => (await usersRepo.findById(id))?.displayName,
    transcodeJobs(queues),
    deps.planLinks ?? curriculumPlanLinks(config.CURRICULUM_URL),
  );
  // Several sfu nodes: each lesson's node comes from their directory in Redis (none beating: SFU_URL).
  const sfuDirectory = createSfuDirectory(redisTarget(config), config.QUEUE_PREFIX, (err) =>
    deps.logger.warn({ err }, 'redis (sfu directory)'),
  );
  // the nodes browsers may be sent to: the CSP below allows exactly these
  const sfuOrigins = sfuPublicOrigins(config.SFU_PUBLIC_URL ?? config.SFU_URL, config.SFU_PUBLIC_URLS);
  const live = new LiveService(lessonsRepo, new LiveRepository(mongo), queues, {
    sfuUrl: config.SFU_PUBLIC_URL ?? config.SFU_URL,
    mediaBaseUrl: '/media',
    ...(deps.lessonStore ? { recordings: { mediaDir: mediaRoot, store: deps.lessonStore } } : {}),
    // with the list given, only its nodes; without it, as before the list existed (the directory's node)
    sfuFor: config.SFU_PUBLIC_URLS
      ? listedNodesOnly(
          (id, ask) => sfuDirectory.urlFor(id, ask),
          sfuOrigins,
          (url) =>
            deps.logger.warn(
              { url },
              'the sfu directory names a node outside SFU_PUBLIC_URL / SFU_PUBLIC_URLS: browsers get the default node',
            ),
        )
      : (id, ask) => sfuDirectory.urlFor(id, ask),
  });
  const qa = new QaService(qaRepo, qaRedis.store, lessonsRepo, usersRepo, {
    pairingTtlSec: config.QA_PAIRING_TTL_SEC,
  });
  const uploads = new UploadService(lessons, deps.probe, mediaRoot, deps.logger, deps.lessonStore);
  await mkdir(uploadDir, { recursive: true });

  const health = async (): Promise<HealthReport> => {
    const [mongoDep, redisOk] = await Promise.all([mongoState(mongo), queues.ping()]);
    const dependencies = {
      mongodb: mongoDep,
      redis: { ok: redisOk, detail: redisOk ? 'PONG' : 'unreachable' },
    };
    return {
      service: 'api',
      ok: mongoDep.ok && redisOk,
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies,
    };
  };
  const status = new StatusService(
    {
      sfu: config.SFU_URL,
      curriculum: config.CURRICULUM_URL,
      transcoder: config.TRANSCODER_URL,
      'tv-gateway': config.TV_GATEWAY_URL,
    },
    health,
    {
      sfu: () => sfuDirectory.beating(),
      ...(config.SFU_PUBLIC_URLS ? { sfuListed: config.SFU_PUBLIC_URLS } : {}),
      transcoders: () => queues.workers(QUEUES.transcode),
    },
  );

  const http = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
  });
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(http);
  // Security headers on every answer; the web app talks to the sfu and plays the TV gateway's channels,
  // and other origins' players read /media.
  registerSecurityHeaders(http, {
    connect: [...sfuOrigins, config.TV_PUBLIC_URL ?? config.TV_GATEWAY_URL],
    resourcePolicy: 'same-site',
    crossOrigin: ['/media/'],
  });
  registerGuard(http, (t) => auth.authenticate(t), '/api/');
  const io = new SocketServer(http.server, {
    path: '/socket.io',
    serveClient: false,
    adapter: qaRedis.socketAdapter,
    // No event of ours comes near this; /qa also refuses any event over 4 KB with an error ack.
    maxHttpBufferSize: 64 * 1024,
  });
  const qaNsp = registerQaNamespace(io, { verify: (t) => auth.verifyAccess(t), qa, log: deps.logger });
  await http.register(healthRoutes(health, status, createTicketIssuer(config.JWT_SECRET)));
  await http.register(authRoutes(auth, users, { demo: config.DEMO_MODE }));
  await http.register(userRoutes(users));
  await http.register(lessonRoutes(lessons));
  await http.register(liveRoutes(live));
  await http.register(positionRoutes(new PositionService(positionsRepo, lessons)));
  await http.register(qaRoutes(qa, (lessonId) => qaNsp.online(lessonId)));
  const analytics = await createAnalytics({
    config,
    mongo,
    logger: deps.logger,
    verify: (t) => auth.verifyAccess(t),
    lessons,
    planLessons: deps.planLessons,
  });
  await http.register(analytics.routes);
  await http.register(
    uploadRoutes(uploads, {
      dir: uploadDir,
      maxBytes: config.UPLOAD_MAX_BYTES,
      verify: (t) => auth.verifyAccess(t),
      locker: tusLocker,
      ...(deps.uploadBucket ? { bucket: deps.uploadBucket } : {}),
    }),
  );
  // A service behind the api that does not answer: 503 problem+json, as a dependency being down.
  type OnError = NonNullable<NonNullable<FastifyHttpProxyOptions['replyOptions']>['onError']>;
  const dependencyDown: OnError = (reply, { error }) => {
    http.log.warn({ err: error }, 'proxied service unavailable');
    void reply
      .code(503)
      .type('application/problem+json')
      .send(problem('DEPENDENCY_DOWN', 'the service is not answering; try again shortly'));
  };
  // A body the api would refuse is refused before it is streamed on: a service behind answers it 413 and
  // closes mid-stream, which the proxy would report as that service being down
  const bodyWithinLimit: NonNullable<FastifyHttpProxyOptions['preHandler']> = (req, reply, done) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > config.BODY_LIMIT_BYTES)
      return void reply
        .code(413)
        .type('application/problem+json')
        .send(problem('PAYLOAD_TOO_LARGE', `the body is over ${config.BODY_LIMIT_BYTES} bytes`));
    done();
  };
  // The curriculum service behind the same origin as the web client; it checks tokens itself.
  await http.register(proxy, {
    upstream: config.CURRICULUM_URL,
    prefix: '/api/curriculum',
    rewritePrefix: '',
    config: { access: 'public' },
    preHandler: bodyWithinLimit,
    replyOptions: { onError: dependencyDown },
  });
  // Device pairing and the lineup, for the web client's /pair page and TV mode. The gateway trusts this
  // hop's X-Forwarded-For: it carries the client's address as this api determined it (a client's own
  // header is replaced), so the gateway's per-address limits hold per client, not for everyone at once.
  await http.register(proxy, {
    upstream: config.TV_GATEWAY_URL,
    prefix: '/api/tv',
    rewritePrefix: '',
    config: { access: 'public' },
    preHandler: bodyWithinLimit,
    replyOptions: {
      onError: dependencyDown,
      rewriteRequestHeaders: (req, headers) => ({ ...headers, 'x-forwarded-for': req.ip }),
    },
  });
  await registerStatic(http, mediaRoot, config.WEB_DIST_DIR, deps.lessonStore);

  const lessonsNsp = registerLessonsNamespace(io, {
    verify: (t) => auth.verifyAccess(t),
    lessons,
    log: deps.logger,
  });
  queues.onProgress(QUEUES.transcode, (data) => lessonsNsp.progress(data));
  const sockets = followSessions(io, ['/qa', '/lessons'], (claims) => auth.assertLive(claims));
  auth.onSessionsEnded((ended) => sockets.disconnect(ended));

  const worker = queues.consume({ 'transcode.result': transcodeResultJob(lessons) });
  worker.on('failed', (job, err) => deps.logger.error({ job: job?.id, err }, 'transcode result not applied'));
  const liveWorker = queues.consume({ 'live.ended': liveEndedJob(live) });
  liveWorker.on('failed', (job, err) => deps.logger.error({ job: job?.id, err }, 'live end not applied'));

  return {
    http,
    services: { auth, users, lessons, qa },
    analytics,
    io,
    async close() {
      await io.close();
      await http.close();
      await worker.close();
      await liveWorker.close();
      await analytics.close();
      await qaRedis.close();
      await authRedis.close();
      await tusLocker.close();
      await sfuDirectory.close();
    },
  };
}
