import { availableParallelism, hostname } from 'node:os';
import { DEFAULT_PORTS, LogLevel, parseConfig, RedisEnv } from '@sky/contracts';
import { s3Settings, StorageEnv } from '@sky/contracts/storage';
import { z } from 'zod';

export const TranscoderConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.transcoder),
  LOG_LEVEL: LogLevel,
  ...RedisEnv,
  QUEUE_PREFIX: z.string().default('sky'),
  /** This process's worker name on the transcode queue (the status page lists each); unique, no spaces. */
  TRANSCODER_NODE_ID: z.string().regex(/^\S+$/, 'no spaces').default(`${hostname()}-${process.pid}`),
  /** The local media folder; unused when S3_BUCKET names a bucket (then nothing is shared but the store). */
  MEDIA_DIR: z.string().min(1).optional(),
  ...StorageEnv,
  /**
   * Where job attempts encode, one private folder each. Default: MEDIA_DIR/.tmp with the local store (so
   * publishing is a rename), the system temp folder with S3.
   */
  WORK_DIR: z.string().min(1).optional(),
  /** Parallel jobs; each ffmpeg uses every core, so one job per two cores by default. */
  CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(Math.max(1, Math.floor(availableParallelism() / 2))),
  X264_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
    .default('veryfast'),
  /** A crashed transcoder's job is picked up again once its lock lapses. */
  LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /** The api's JWT secret: admins' access tokens open the queue UI. */
  JWT_SECRET: z.string().min(32, 'use at least 32 random characters'),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  FFPROBE_PATH: z.string().default('ffprobe'),
  /**
   * How far below the transcoder's own scheduling priority its encodes run (`nice -n`, -20…19): below
   * ordinary work, so on a shared host a live lesson's encoder and the services answering users come
   * first and a VOD job takes what is left.
   */
  TRANSCODE_NICE: z.coerce.number().int().min(-20).max(19).default(10),
});
export type TranscoderConfig = z.infer<typeof TranscoderConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): TranscoderConfig {
  const config = parseConfig(
    TranscoderConfigSchema.refine((c) => c.MEDIA_DIR !== undefined || c.S3_BUCKET !== undefined, {
      message: 'set MEDIA_DIR (a local media folder) or S3_BUCKET (object storage)',
      path: ['MEDIA_DIR'],
    }),
    env,
  );
  s3Settings(config); // both S3 keys or neither
  return config;
}
