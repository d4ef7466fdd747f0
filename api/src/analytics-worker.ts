// The analytics aggregation worker as its own process (run with ANALYTICS_WORKER=off on the api):
// node api/dist/src/analytics-worker.js — the api's env (MONGODB_URI, REDIS_* as the api, QUEUE_PREFIX, ANALYTICS_*).
// It aggregates the stream shards ANALYTICS_WORKER_SHARDS names (all by default), one aggregator each;
// a shard's lease lets one process at a time apply it, so several workers may run with the same names
// (the others stand by) or split the shards between them.
import { closeOnSignals } from '@sky/contracts/http';
import { parseConfig } from '@sky/contracts';
import { pino } from 'pino';
import { connectMongo } from '@sky/contracts/mongo';
import { ApiConfigSchema } from './config.js';
import { createAggregator } from './services/analytics.module.js';

const WorkerConfig = ApiConfigSchema.pick({
  LOG_LEVEL: true,
  MONGODB_URI: true,
  REDIS_URL: true,
  REDIS_SENTINELS: true,
  REDIS_SENTINEL_MASTER: true,
  REDIS_SENTINEL_PASSWORD: true,
  REDIS_PASSWORD: true,
  REDIS_ANALYTICS_URL: true,
  ANALYTICS_REPLICA_ACKS: true,
  ANALYTICS_REPLICA_ACK_TIMEOUT_MS: true,
  QUEUE_PREFIX: true,
  ANALYTICS_WORKER: true,
  ANALYTICS_CONSUMER: true,
  ANALYTICS_HEARTBEAT_SEC: true,
  ANALYTICS_MAX_BATCH_EVENTS: true,
  ANALYTICS_MAX_BATCH_BYTES: true,
  ANALYTICS_RATE_MAX: true,
  ANALYTICS_RATE_WINDOW_SEC: true,
  ANALYTICS_DEDUPE_TTL_SEC: true,
  ANALYTICS_SHARDS: true,
  ANALYTICS_WORKER_SHARDS: true,
  ANALYTICS_BACKLOG_MAX_EVENTS: true,
  ANALYTICS_OVERLOADED_RETRY_SEC: true,
  ANALYTICS_SESSION_CACHE_MAX: true,
  ANALYTICS_CRASH_MID_FLUSH: true,
  ANALYTICS_FLUSH_EVENTS: true,
  ANALYTICS_FLUSH_MS: true,
  ANALYTICS_HLL_TTL_DAYS: true,
  ANALYTICS_CRASH_AFTER_COMMITS: true,
  ANALYTICS_LEASE_SEC: true,
  ANALYTICS_BACKLOG_HIGH: true,
});

const config = parseConfig(WorkerConfig, process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'analytics-worker' });
const mongo = await connectMongo(config.MONGODB_URI);
const worker = await createAggregator(config, mongo, logger);
worker.start();
logger.info(
  { consumers: worker.aggregators.map((a) => a.consumer), shards: config.ANALYTICS_SHARDS },
  'analytics aggregator running',
);
closeOnSignals(
  logger,
  async () => {
    await worker.close();
    for (const a of worker.aggregators)
      logger.info(
        { consumer: a.consumer, applied: a.applied, flushes: a.flushes },
        'analytics aggregator stopped',
      );
  },
  () => mongo.close(),
);
