// An sfu node composed as src/main.ts composes it, in a process of its own (a test kills it), whose teacher
// publishes as soon as it listens: PUBLISH_TOKEN joins PUBLISH_LESSON here (this node takes the lesson's
// lease: its origin) with plain-RTP camera and microphone producers, and their ports are written to
// PUBLISH_PORTS_FILE for the test's ffmpeg.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { logOptions } from '@sky/contracts/http';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { pino } from 'pino';
import { composeSfu } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { plainProducers } from './cascade-publish.js';

const config = loadConfig(process.env);
const logger = pino(logOptions('sfu', config.LOG_LEVEL));
const sfu = await composeSfu(config, logger, { version: 'test' });
await sfu.app.http.listen({ host: config.HOST, port: config.PORT });
await sfu.announce(`http://${config.HOST}:${(sfu.app.http.server.address() as AddressInfo).port}`);

const token = process.env['PUBLISH_TOKEN'] ?? '';
const actor = createTokenIssuer(config.JWT_SECRET, 900).verify(token);
const { room, peer } = await sfu.app.rooms.join(
  actor,
  token,
  process.env['PUBLISH_LESSON'] ?? '',
  () => undefined,
);
const targets = await plainProducers(room, peer);
writeFileSync(process.env['PUBLISH_PORTS_FILE'] ?? '', JSON.stringify(targets));
logger.info({ targets }, 'the teacher publishes here');
