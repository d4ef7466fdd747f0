import { closeOnSignals, serviceVersion } from '@sky/contracts/http';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'tv-gateway' });

const app = createApp({ config, logger, version: serviceVersion(import.meta.url) });
await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(logger, () => app.close());
