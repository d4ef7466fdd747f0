// Wiring of viewing analytics (adapters → services → routes), used by createApp and the worker process.
import { once } from 'node:events';
import { redisTarget, type AccessClaims } from '@sky/contracts';
import { createViewerIds, type ViewerIds } from '@sky/contracts/tokens';
import type { FastifyBaseLogger } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Connection } from 'mongoose';
import type { ApiConfig } from '../config.js';
import { createAggregatorRedis, createAnalyticsRedis } from '../adapters/analytics.redis.js';
import { AnalyticsRepository } from '../adapters/analytics.repository.js';
import {
  AnalyticsCatalogRepository,
  curriculumPlanLessons,
  type PlanLessonSource,
} from '../adapters/analytics.catalog.js';
import { analyticsRoutes } from '../http/analytics.routes.js';
import { AnalyticsCatalog } from './analytics.catalog.js';
import { LessonAudienceService } from './analytics.audience.js';
import { AnalyticsIngestService } from './analytics.ingest.js';
import { AnalyticsQueryService } from './analytics.query.js';
import { AnalyticsAggregator, shardConsumer } from './analytics.worker.js';
import type { LessonService } from './lessons.service.js';

export type AnalyticsConfig = Pick<
  ApiConfig,
  | 'REDIS_URL'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_MASTER'
  | 'REDIS_SENTINEL_PASSWORD'
  | 'REDIS_PASSWORD'
  | 'REDIS_ANALYTICS_URL'
  | 'ANALYTICS_REPLICA_ACKS'
  | 'ANALYTICS_REPLICA_ACK_TIMEOUT_MS'
  | 'QUEUE_PREFIX'
  | 'ANALYTICS_WORKER'
  | 'ANALYTICS_CONSUMER'
  | 'ANALYTICS_HEARTBEAT_SEC'
  | 'ANALYTICS_MAX_BATCH_EVENTS'
  | 'ANALYTICS_MAX_BATCH_BYTES'
  | 'ANALYTICS_RATE_MAX'
  | 'ANALYTICS_VIEWER_ISSUE_MAX'
  | 'ANALYTICS_VIEWER_ISSUE_WINDOW_SEC'
  | 'ANALYTICS_VIEWER_SESSIONS_MAX'
  | 'ANALYTICS_VIEWER_SESSIONS_WINDOW_SEC'
  | 'CURRICULUM_URL'
  | 'JWT_SECRET'
  | 'ANALYTICS_RATE_WINDOW_SEC'
  | 'ANALYTICS_DEDUPE_TTL_SEC'
  | 'ANALYTICS_SHARDS'
  | 'ANALYTICS_WORKER_SHARDS'
  | 'ANALYTICS_BACKLOG_MAX_EVENTS'
  | 'ANALYTICS_OVERLOADED_RETRY_SEC'
  | 'ANALYTICS_SESSION_CACHE_MAX'
  | 'ANALYTICS_CRASH_MID_FLUSH'
  | 'ANALYTICS_FLUSH_EVENTS'
  | 'ANALYTICS_FLUSH_MS'
  | 'ANALYTICS_HLL_TTL_DAYS'
  | 'ANALYTICS_CRASH_AFTER_COMMITS'
  | 'ANALYTICS_LEASE_SEC'
  | 'ANALYTICS_BACKLOG_HIGH'
>;

/** What only the ingest reads (the aggregator process is not given it). */
type IngestOnly =
  | 'ANALYTICS_VIEWER_ISSUE_MAX'
  | 'ANALYTICS_VIEWER_ISSUE_WINDOW_SEC'
  | 'ANALYTICS_VIEWER_SESSIONS_MAX'
  | 'ANALYTICS_VIEWER_SESSIONS_WINDOW_SEC'
  | 'CURRICULUM_URL'
  | 'JWT_SECRET';

type Log = Pick<FastifyBaseLogger, 'warn' | 'info'>;

/** The shards ANALYTICS_WORKER_SHARDS names (`all`, or a list), each checked against ANALYTICS_SHARDS. */
export function workerShards(config: Pick<AnalyticsConfig, 'ANALYTICS_SHARDS' | 'ANALYTICS_WORKER_SHARDS'>) {
  const all = Array.from({ length: config.ANALYTICS_SHARDS }, (_, n) => n);
  if (config.ANALYTICS_WORKER_SHARDS === 'all') return all;
  const named = [...new Set(config.ANALYTICS_WORKER_SHARDS.split(',').map(Number))].sort((a, b) => a - b);
  const unknown = named.filter((n) => n >= config.ANALYTICS_SHARDS);
  if (unknown.length > 0) {
    throw new Error(
      `ANALYTICS_WORKER_SHARDS names shard ${unknown.join(', ')}, but ANALYTICS_SHARDS is ${config.ANALYTICS_SHARDS} (shards 0–${config.ANALYTICS_SHARDS - 1})`,
    );
  }
  return named;
}

/**
 * The aggregation workers of the shards this process runs (ANALYTICS_WORKER_SHARDS), one per shard with
 * its own Redis connections (the caller starts and stops them).
 */
export async function createAggregator(
  config: Omit<AnalyticsConfig, IngestOnly>,
  mongo: Connection,
  log: Log,
) {
  const repo = new AnalyticsRepository(mongo);
  await repo.init();
  let lastWarn = 0;
  const crashAfter = config.ANALYTICS_CRASH_AFTER_COMMITS;
  const crashMid = config.ANALYTICS_CRASH_MID_FLUSH;
  const kill = () => process.kill(process.pid, 'SIGKILL');
  const shards = workerShards(config).map((shard) => {
    const consumer = shardConsumer(config.ANALYTICS_CONSUMER, shard);
    const redis = createAggregatorRedis(redisTarget(config, 'analytics'), {
      prefix: config.QUEUE_PREFIX,
      shards: config.ANALYTICS_SHARDS,
      shard,
      hllTtlSec: config.ANALYTICS_HLL_TTL_DAYS * 86_400,
    });
    redis.onError((err) => {
      if (Date.now() - lastWarn > 5000) log.warn({ err, shard }, 'redis (analytics aggregator)');
      lastWarn = Date.now();
    });
    const aggregator = new AnalyticsAggregator(redis, repo, {
      consumer,
      sessionCacheMax: config.ANALYTICS_SESSION_CACHE_MAX,
      flushEvents: config.ANALYTICS_FLUSH_EVENTS,
      flushMs: config.ANALYTICS_FLUSH_MS,
      heartbeatSec: config.ANALYTICS_HEARTBEAT_SEC,
      leaseMs: config.ANALYTICS_LEASE_SEC * 1000,
      log,
      ...(crashAfter === undefined
        ? {}
        : {
            afterCommit: (n: number) => {
              if (n >= crashAfter) kill();
            },
          }),
      ...(crashMid === undefined
        ? {}
        : {
            midFlush: (n: number) => {
              if (n >= crashMid) kill();
            },
          }),
    });
    return { aggregator, redis };
  });
  return {
    aggregators: shards.map((s) => s.aggregator),
    start() {
      for (const s of shards) s.aggregator.start();
    },
    async close() {
      await Promise.all(shards.map((s) => s.aggregator.stop()));
      await Promise.all(shards.map((s) => s.redis.close()));
    },
  };
}

/** Viewer ids the ingest remembers as verified (≈ 120 bytes each). */
const VERIFIED_VIEWERS_MAX = 100_000;

/**
 * Viewer ids verified once per process: the same viewers send all day, and an HMAC per event (200 per
 * bulk batch, twice for a batch's first viewer with the rate limiter's key) was the ingest's largest cost.
 * Only ids that passed are kept, so nothing unsigned ever gets in.
 */
export function rememberVerified(viewers: ViewerIds, max: number): ViewerIds {
  const ok = new LRUCache<string, true>({ max });
  return {
    of: (subject) => viewers.of(subject),
    anonymous: () => viewers.anonymous(),
    verify(id) {
      if (ok.get(id)) return true;
      const valid = viewers.verify(id);
      if (valid) ok.set(id, true);
      return valid;
    },
  };
}

/** Ingest + dashboard routes (and a live lesson's audience), and the aggregator when ANALYTICS_WORKER=inline. */
export async function createAnalytics(deps: {
  config: AnalyticsConfig;
  mongo: Connection;
  logger: Log;
  verify: (token: string) => AccessClaims;
  /** Who may read a lesson's audience: its teacher or an admin (and that it exists). */
  lessons: Pick<LessonService, 'assertOwner' | 'get'>;
  /** The curriculum plan's lesson ids (default: GET <CURRICULUM_URL>/plan). */
  planLessons?: PlanLessonSource | undefined;
}) {
  const { config } = deps;
  const repo = new AnalyticsRepository(deps.mongo);
  await repo.init();
  let lastWarn = 0;
  const shards = config.ANALYTICS_SHARDS;
  // Each shard holds its share of the backlog, and always room for one whole batch.
  const perShard = (total: number) => Math.max(Math.ceil(total / shards), config.ANALYTICS_MAX_BATCH_EVENTS);
  const redis = createAnalyticsRedis(redisTarget(config, 'analytics'), {
    prefix: config.QUEUE_PREFIX,
    shards,
    dedupeTtlSec: config.ANALYTICS_DEDUPE_TTL_SEC,
    shardMaxEvents: perShard(config.ANALYTICS_BACKLOG_MAX_EVENTS),
    viewerSessions: {
      max: config.ANALYTICS_VIEWER_SESSIONS_MAX,
      windowSec: config.ANALYTICS_VIEWER_SESSIONS_WINDOW_SEC,
    },
    requests: { max: config.ANALYTICS_RATE_MAX, windowSec: config.ANALYTICS_RATE_WINDOW_SEC },
    replicaAcks: {
      replicas: config.ANALYTICS_REPLICA_ACKS,
      timeoutMs: config.ANALYTICS_REPLICA_ACK_TIMEOUT_MS,
    },
    onError: (err) => {
      if (Date.now() - lastWarn > 5000) deps.logger.warn({ err }, 'redis (analytics ingest)');
      lastWarn = Date.now();
    },
  });
  // Commands fail fast while disconnected (no offline queue): start answering once connected.
  if (redis.client.status !== 'ready') await once(redis.client, 'ready');
  const heartbeatSec = () => config.ANALYTICS_HEARTBEAT_SEC;
  const viewers = rememberVerified(createViewerIds(config.JWT_SECRET), VERIFIED_VIEWERS_MAX);
  const catalog = new AnalyticsCatalog(
    new AnalyticsCatalogRepository(deps.mongo),
    deps.planLessons ?? curriculumPlanLessons(config.CURRICULUM_URL),
  );
  const ingest = new AnalyticsIngestService(
    redis,
    { viewers, catalog },
    {
      maxEvents: config.ANALYTICS_MAX_BATCH_EVENTS,
      heartbeatSec,
      backlogHigh: Math.ceil(config.ANALYTICS_BACKLOG_HIGH / shards),
      overloadedRetrySec: config.ANALYTICS_OVERLOADED_RETRY_SEC,
    },
  );
  const consumers = Array.from({ length: shards }, (_, n) => shardConsumer(config.ANALYTICS_CONSUMER, n));
  const query = new AnalyticsQueryService(repo, redis, { heartbeatSec, consumers });
  const audience = new LessonAudienceService(redis, deps.lessons, { heartbeatSec });
  const routes = analyticsRoutes(ingest, query, audience, {
    maxBatchBytes: config.ANALYTICS_MAX_BATCH_BYTES,
    rate: { redis: redis.client, prefix: config.QUEUE_PREFIX },
    issue: { max: config.ANALYTICS_VIEWER_ISSUE_MAX, windowSec: config.ANALYTICS_VIEWER_ISSUE_WINDOW_SEC },
    verify: deps.verify,
    viewers,
  });
  const worker =
    config.ANALYTICS_WORKER === 'inline' ? await createAggregator(config, deps.mongo, deps.logger) : null;
  worker?.start();
  return {
    routes,
    ingest,
    query,
    audience,
    /** The inline aggregators, one per shard this process runs (none when ANALYTICS_WORKER=off). */
    aggregators: worker?.aggregators ?? [],
    async close() {
      await worker?.close();
      await redis.close();
    },
  };
}
