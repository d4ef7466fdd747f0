import { mkdirSync, readFileSync } from 'node:fs';
import { createJobQueues } from '@sky/contracts/queue';
import { pino } from 'pino';
import { createFfmpeg } from './adapters/ffmpeg.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, name: 'transcoder' });
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
mkdirSync(config.MEDIA_DIR, { recursive: true });

const queues = createJobQueues(config.REDIS_URL, config.QUEUE_PREFIX);
const ffmpeg = createFfmpeg({ ffmpeg: config.FFMPEG_PATH, ffprobe: config.FFPROBE_PATH });
const app = await createApp({ config, logger, queues, ffmpeg, version });
await app.http.listen({ host: config.HOST, port: config.PORT });

let closing = false;
for (const s of ['SIGTERM', 'SIGINT'] as const) {
  process.once(s, () => {
    if (closing) return;
    closing = true;
    logger.info({ signal: s }, 'shutting down');
    void app
      .close()
      .then(() => queues.close())
      .finally(() => process.exit(0));
  });
}
