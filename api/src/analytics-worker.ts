// The analytics aggregation worker as its own process (run with ANALYTICS_WORKER=off on the api):
// node api/dist/src/analytics-worker.js — the api's env (MONGODB_URI, REDIS_URL, QUEUE_PREFIX, ANALYTICS_*).
// Several workers may run at once, each with its own stable ANALYTICS_CONSUMER name.
import { closeOnSignals } from '@sky/contracts/http';
import { parseConfig } from '@sky/contracts';
import { pino } from 'pino';
import { connectMongo } from './adapters/db.js';
import { ApiConfigSchema } from './config.js';
import { createAggregator } from './services/analytics.module.js';

const WorkerConfig = ApiConfigSchema.pick({
  LOG_LEVEL: true,
  MONGODB_URI: true,
  REDIS_URL: true,
  QUEUE_PREFIX: true,
  ANALYTICS_WORKER: true,
  ANALYTICS_CONSUMER: true,
  ANALYTICS_HEARTBEAT_SEC: true,
  ANALYTICS_MAX_BATCH_EVENTS: true,
  ANALYTICS_MAX_BATCH_BYTES: true,
  ANALYTICS_RATE_MAX: true,
  ANALYTICS_RATE_WINDOW_SEC: true,
  ANALYTICS_DEDUPE_TTL_SEC: true,
  ANALYTICS_STREAM_MAXLEN: true,
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
worker.aggregator.start();
logger.info({ consumer: config.ANALYTICS_CONSUMER }, 'analytics aggregator running');
closeOnSignals(
  logger,
  () => worker.close(),
  () => mongo.close(),
);
