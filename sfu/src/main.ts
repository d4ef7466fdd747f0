import { closeOnSignals, serviceVersion } from '@sky/contracts/http';
import { pino } from 'pino';
import { createWorkerPool } from './adapters/mediasoup.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'sfu' });

const workers = await createWorkerPool(
  { count: config.NUM_WORKERS, rtcMinPort: config.RTC_MIN_PORT, rtcMaxPort: config.RTC_MAX_PORT },
  logger,
);
const app = createApp({ logger, workers, version: serviceVersion(import.meta.url) });
await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(logger, () => app.close());
