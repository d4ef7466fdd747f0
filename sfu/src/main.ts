import type { AddressInfo } from 'node:net';
import { closeOnSignals, logOptions } from '@sky/contracts/http';
import { pino } from 'pino';
import { composeSfu } from './compose.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino(logOptions('sfu', config.LOG_LEVEL));

const sfu = await composeSfu(config, logger);
await sfu.app.http.listen({ host: config.HOST, port: config.PORT });
const { port } = sfu.app.http.server.address() as AddressInfo;
await sfu.announce(`http://${config.HOST}:${port}`);
closeOnSignals(logger, () => sfu.close());
