import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { connectMongo } from './adapters/db.js';
import { passwords } from './adapters/password.js';
import { createJobQueues } from './adapters/queue.js';
import { seedDemo } from './seed.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'api' });
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const mongo = await connectMongo(config.MONGODB_URI);
const queues = createJobQueues(config.REDIS_URL, config.QUEUE_PREFIX);
const app = await createApp({ config, logger, mongo, queues, passwords, version });

if (config.SEED_DEMO && (await mongo.db!.collection('users').estimatedDocumentCount()) === 0) {
  const { logins } = await seedDemo(app, {
    sample: config.SEED_SAMPLE,
    logger,
    ...(config.SEED_LOGINS_FILE ? { loginsFile: config.SEED_LOGINS_FILE } : {}),
  });
  logger.info({ logins }, 'demo logins (shown once)');
}

await app.http.listen({ host: config.HOST, port: config.PORT });

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'shutting down');
  await app.close();
  await queues.close();
  await mongo.close();
  process.exit(0);
}
for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => void shutdown(s));
