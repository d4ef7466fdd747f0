import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { DEFAULT_PORTS, LogLevel, parseConfig, RedisEnv } from '@sky/contracts';
import { StorageEnv } from '@sky/contracts/storage';
import { z } from 'zod';

export const SfuConfigSchema = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.sfu),
    LOG_LEVEL: LogLevel,
    /** The mediasoup worker binary we build offline (scripts/mediasoup/build-worker.sh). */
    MEDIASOUP_WORKER_BIN: z.string().refine(existsSync, 'no file there: run npm run setup'),
    NUM_WORKERS: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
    RTC_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(40000),
    RTC_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(40999),
    /** The address media binds to; 0.0.0.0 in a deployment. */
    RTC_LISTEN_IP: z.string().default('127.0.0.1'),
    /** The public address announced in ICE candidates when RTC_LISTEN_IP is not reachable by clients. */
    RTC_ANNOUNCED_IP: z.string().optional(),
    /** Shared with the api: access tokens are verified here. */
    JWT_SECRET: z.string().min(32, 'use at least 32 random characters'),
    /** The api, asked whether a lesson is live and who teaches it (with the user's own token). */
    API_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.api}`),
    /**
     * Live HLS and recordings go to `${MEDIA_DIR}/live/<lessonId>/`; with S3_BUCKET set this folder is
     * ffmpeg's spool, and the playlists, segments and recording are stored in the bucket as they are made.
     */
    MEDIA_DIR: z.string().min(1),
    ...StorageEnv,
    /** The `live.ended` job goes to the api through this Redis (BullMQ). */
    ...RedisEnv,
    QUEUE_PREFIX: z.string().default('sky'),
    FFMPEG_PATH: z.string().default('ffmpeg'),
    /** Consumers on one router of a room before new viewers go to another worker's router (pipeToRouter). */
    ROUTER_CONSUMER_THRESHOLD: z.coerce.number().int().min(1).default(400),
    /** Students over WebRTC in one room; past it `room.join` answers ROOM_FULL and clients play HLS. */
    WEBRTC_AUDIENCE_CAP: z.coerce.number().int().min(0).default(2000),
    /** A live lesson whose teacher has left ends by itself after this long (0: never). */
    TEACHER_GRACE_SEC: z.coerce.number().int().min(0).default(600),
    LIVE_HLS_SEGMENT_SEC: z.coerce.number().min(0.5).max(6).default(1),
    /**
     * Cascading (several sfu nodes): set, this node joins the directory in REDIS_URL and other nodes reach
     * its /internal/ routes with it; unset, it runs every room it is asked for on its own.
     */
    CASCADE_SECRET: z.string().min(32, 'use at least 32 random characters').optional(),
    /** This node's name in the directory (unique per process). */
    SFU_NODE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
    /** What browsers connect to, and what other sfu nodes call; both default to the listen address. */
    SFU_PUBLIC_URL: z.url().optional(),
    SFU_INTERNAL_URL: z.url().optional(),
    /** Peers on this node before the api sends a lesson's further viewers to another node (≈ 4,000 WebRTC students a host). */
    SFU_NODE_CAPACITY: z.coerce.number().int().min(1).default(4000),
    /** Where the PipeTransports from other nodes land, and the address announced to them. */
    PIPE_LISTEN_IP: z.string().optional(),
    PIPE_ANNOUNCED_IP: z.string().optional(),
  })
  .refine((c) => c.RTC_MAX_PORT - c.RTC_MIN_PORT + 1 >= c.NUM_WORKERS, {
    path: ['RTC_MAX_PORT'],
    message: 'the RTC port range must hold at least one port per worker',
  });
export type SfuConfig = z.infer<typeof SfuConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): SfuConfig {
  return parseConfig(SfuConfigSchema, env);
}
