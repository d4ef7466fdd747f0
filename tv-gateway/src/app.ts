import { scheduleChangedChannel, type AccessClaims, type HealthReport } from '@sky/contracts';
import { registerProblemHandlers, registerSecurityHeaders } from '@sky/contracts/http';
import { createTokenIssuer, createViewerIds } from '@sky/contracts/tokens';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { MediaStorage } from '@sky/contracts/storage';
import { apiMediaSource, type MediaSource } from './adapters/api.client.js';
import { apiLiveSource, type LiveSource } from './adapters/live.client.js';
import { curriculumClient, type CurriculumSource } from './adapters/curriculum.client.js';
import { redisDeviceStore } from './adapters/device.store.js';
import { ffmpegRenderer } from './adapters/ffmpeg.js';
import { apiQaClient } from './adapters/qa.client.js';
import type { TvGatewayConfig } from './config.js';
import { beaconRoutes } from './http/beacon.routes.js';
import { channelRoutes } from './http/channel.routes.js';
import { deviceRoutes } from './http/device.routes.js';
import { lineupRoutes } from './http/lineup.routes.js';
import { qaRoutes } from './http/qa.routes.js';
import { uiRoutes } from './http/ui.routes.js';
import { vodRoutes } from './http/vod.routes.js';
import { Artwork, redisClaims } from './services/artwork.js';
import { ChannelService } from './services/channels.service.js';
import { DeviceService } from './services/device.service.js';
import { TvQaService } from './services/tv-qa.service.js';

export interface TvGatewayDeps {
  config: TvGatewayConfig;
  logger: FastifyBaseLogger;
  version: string;
  /** Commands (device codes and tokens). */
  redis: Redis;
  /** A second connection in subscriber mode: schedule changes drop cached playlists. */
  subscriber: Redis;
  /** Checks an api access token (a family member approving a device). */
  verifyUser: (token: string) => AccessClaims;
  /** Overridable sources (tests); default: the curriculum service and the api over HTTP. */
  curriculum?: CurriculumSource;
  media?: MediaSource;
  live?: LiveSource;
  now?: () => number;
  /** The media bucket (S3_BUCKET): the slate is rendered by one gateway and copied from there by the rest. */
  shared?: MediaStorage;
}

async function reachable(url: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch {
    return { ok: false, detail: 'unreachable' };
  }
}

export async function createApp(deps: TvGatewayDeps) {
  const { config } = deps;
  const startedAt = Date.now();
  const publicUrl = config.PUBLIC_URL.replace(/\/$/, '');
  const webUrl = (config.WEB_URL ?? config.API_URL).replace(/\/$/, '');
  const curriculum = deps.curriculum ?? curriculumClient(config.CURRICULUM_URL);
  const live = deps.live ?? apiLiveSource(config.API_URL);
  const artwork = new Artwork(
    ffmpegRenderer(config.FFMPEG_PATH),
    config.CACHE_DIR,
    deps.shared && { store: deps.shared, claim: redisClaims(deps.redis, config.REDIS_PREFIX) },
  );
  const channels = new ChannelService(
    curriculum,
    deps.media ?? apiMediaSource(config.API_URL, config.MEDIA_URL ?? config.API_URL),
    live,
    {
      publicUrl,
      mediaUrl: (config.MEDIA_URL ?? config.API_URL).replace(/\/$/, ''),
      catchupDays: config.CATCHUP_DAYS,
      slates: (rung) => artwork.slateStreams(rung),
      ...(deps.now ? { now: deps.now } : {}),
    },
  );
  const devices = new DeviceService(redisDeviceStore(deps.redis, `${config.REDIS_PREFIX}:tv`), {
    verificationUri: `${webUrl}/pair`,
    ...(deps.now ? { now: deps.now } : {}),
  });

  // tokens of a box's household for its calls to the api: a minute is plenty for one request
  const householdTokens = createTokenIssuer(config.JWT_SECRET, 60);
  const qa = new TvQaService(
    apiQaClient(config.API_URL.replace(/\/$/, ''), (claims) => householdTokens.sign(claims)),
    curriculum,
    live,
    { phonePageUrl: `${webUrl}/qa/tv` },
  );

  const changes = scheduleChangedChannel(config.REDIS_PREFIX);
  await deps.subscriber.subscribe(changes);
  deps.subscriber.on('message', (channel) => {
    if (channel === changes) channels.invalidate();
  });
  // Pub/sub keeps nothing for a subscriber that is away (a Redis restart, a Sentinel failover): a change
  // published meanwhile is lost. So on every (re)connect, once the resubscription has taken effect (a
  // PING queued after it is answered), drop what was cached: what changed before is read again, what
  // changes after arrives as a message.
  deps.subscriber.on('ready', () => {
    setImmediate(() => {
      deps.subscriber.ping().then(
        () => channels.invalidate(),
        (err: unknown) => deps.logger.warn({ err }, 'schedule changes: no answer after reconnecting'),
      );
    });
  });

  const http = Fastify({ loggerInstance: deps.logger, trustProxy: config.TRUST_PROXY });
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(http);
  // The 10-foot UI plays lessons from the media host; players on other origins read the playlists.
  registerSecurityHeaders(http, {
    media: [config.MEDIA_URL ?? config.API_URL],
    resourcePolicy: 'cross-origin',
  });
  // Playlists, slate, guide: players on other origins (the web's TV mode) read them too.
  http.addHook('onSend', async (_req, reply) => {
    reply.header('access-control-allow-origin', '*');
  });
  http.get('/healthz', async (_req, reply) => {
    const [curriculum, api] = await Promise.all([
      reachable(config.CURRICULUM_URL),
      reachable(config.API_URL),
    ]);
    const redis = { ok: deps.redis.status === 'ready', detail: deps.redis.status };
    const report: HealthReport = {
      service: 'tv-gateway',
      ok: curriculum.ok && api.ok && redis.ok,
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies: { curriculum, api, redis },
    };
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  // Like a broadcast, the lineup is public unless the operator asks for device tokens.
  if (config.REQUIRE_DEVICE_TOKEN) {
    http.addHook('onRequest', async (req) => {
      // the route that matched, not the raw path: the router decodes %63hannels.m3u into /channels.m3u
      const route = req.routeOptions.url ?? '';
      if (!/^\/(channels|guide|catchup|api\/channels|api\/guide|api\/lessons)/.test(route)) return;
      const q = new URLSearchParams(req.url.split('?')[1] ?? '');
      const header = req.headers.authorization;
      const token = q.get('token') ?? (header?.startsWith('Bearer ') ? header.slice(7) : undefined);
      await devices.requireToken(token);
    });
  }
  await http.register(channelRoutes, { channels, artwork });
  await http.register(lineupRoutes, {
    channels,
    publicUrl,
    catchupDays: config.CATCHUP_DAYS,
    ...(deps.now ? { now: deps.now } : {}),
  });
  await http.register(deviceRoutes, { devices, verifyUser: deps.verifyUser });
  await http.register(qaRoutes, { devices, qa });
  await http.register(vodRoutes, {
    apiUrl: config.API_URL.replace(/\/$/, ''),
    mediaUrl: (config.MEDIA_URL ?? config.API_URL).replace(/\/$/, ''),
  });
  await http.register(beaconRoutes, {
    apiUrl: config.API_URL.replace(/\/$/, ''),
    devices,
    viewers: createViewerIds(config.JWT_SECRET),
  });
  await http.register(uiRoutes, { dir: config.TV_UI_DIR });
  return {
    http,
    channels,
    artwork,
    devices,
    close: async () => {
      await http.close();
    },
  };
}
