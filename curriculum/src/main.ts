import { readFileSync } from 'node:fs';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'curriculum' });
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const mongo = await mongoose
  .createConnection(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000 })
  .asPromise();
const app = await createApp({ logger, mongo, version });
await app.http.listen({ host: config.HOST, port: config.PORT });

let closing = false;
for (const s of ['SIGTERM', 'SIGINT'] as const) {
  process.once(s, () => {
    if (closing) return;
    closing = true;
    void app
      .close()
      .then(() => mongo.close())
      .finally(() => process.exit(0));
  });
}
