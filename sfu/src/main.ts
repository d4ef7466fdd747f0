import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { createWorkerPool } from './adapters/mediasoup.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'sfu' });
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const workers = await createWorkerPool(
  { count: config.NUM_WORKERS, rtcMinPort: config.RTC_MIN_PORT, rtcMaxPort: config.RTC_MAX_PORT },
  logger,
);
const app = createApp({ logger, workers, version });
await app.http.listen({ host: config.HOST, port: config.PORT });

let closing = false;
for (const s of ['SIGTERM', 'SIGINT'] as const) {
  process.once(s, () => {
    if (closing) return;
    closing = true;
    void app.close().finally(() => process.exit(0));
  });
}
