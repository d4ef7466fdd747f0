import { closeOnSignals, serviceVersion } from '@sky/contracts/http';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'curriculum' });

const mongo = await mongoose
  .createConnection(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000 })
  .asPromise();
const app = await createApp({ logger, mongo, version: serviceVersion(import.meta.url) });
await app.http.listen({ host: config.HOST, port: config.PORT });
closeOnSignals(
  logger,
  () => app.close(),
  () => mongo.close(),
);
