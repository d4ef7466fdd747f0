import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'tv-gateway' });
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const app = createApp({ config, logger, version });
await app.http.listen({ host: config.HOST, port: config.PORT });

for (const s of ['SIGTERM', 'SIGINT'] as const) {
  process.once(s, () => void app.close().finally(() => process.exit(0)));
}
