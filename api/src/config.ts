import { DEFAULT_PORTS, LogLevel, parseConfig } from '@sky/contracts';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const ApiConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.api),
  LOG_LEVEL: LogLevel,
  MONGODB_URI: z.string().startsWith('mongodb'),
  REDIS_URL: z.string().startsWith('redis'),
  /** Queue names are prefixed, so tests and several deployments can share one Redis. */
  QUEUE_PREFIX: z.string().default('sky'),
  /**
   * Channel prefix of the socket.io Redis adapter (default `<QUEUE_PREFIX>:sio`): api processes with
   * the same one share rooms; tests and deployments with different ones never hear each other.
   */
  SOCKET_IO_KEY: z.string().min(1).optional(),
  /** How long a Q&A pairing code for a TV second screen stays valid. */
  QA_PAIRING_TTL_SEC: z.coerce.number().int().min(1).max(3600).default(600),
  JWT_SECRET: z.string().min(32, 'use at least 32 random characters'),
  ACCESS_TOKEN_TTL_SEC: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_SEC: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 24 * 3600),
  MEDIA_DIR: z.string().min(1),
  /** The built web client (web-client/dist); served at / when set. */
  WEB_DIST_DIR: z.string().optional(),
  /** Largest lesson video a teacher may upload (tus). */
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  FFPROBE_PATH: z.string().default('ffprobe'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
  SFU_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.sfu}`),
  CURRICULUM_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.curriculum}`),
  TRANSCODER_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.transcoder}`),
  TV_GATEWAY_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS['tv-gateway']}`),
  /** First run on an empty database: create demo users and a sample lesson. */
  SEED_DEMO: bool.default(false),
  /** A video inside MEDIA_DIR that the demo lesson is transcoded from. */
  SEED_SAMPLE: z.string().default('samples/demo-lesson.mp4'),
  /** Where the seed writes the demo logins it generated (printed once on the console too). */
  SEED_LOGINS_FILE: z.string().optional(),
});
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): ApiConfig {
  return parseConfig(ApiConfigSchema, env);
}
