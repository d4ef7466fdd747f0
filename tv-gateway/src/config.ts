import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEFAULT_PORTS, LogLevel, parseConfig, RedisEnv, trustedProxies } from '@sky/contracts';
import { StorageEnv } from '@sky/contracts/storage';
import { z } from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const TvGatewayConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS['tv-gateway']),
  LOG_LEVEL: LogLevel,
  /** The schedule and channel lineup come from the curriculum service. */
  CURRICULUM_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.curriculum}`),
  /** Lesson media and metadata live in the api. */
  API_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.api}`),
  /** Where boxes reach this gateway (URLs inside the M3U, guide and playlists), e.g. https://tv.example.cn/tv. */
  PUBLIC_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS['tv-gateway']}`),
  /** Where boxes fetch lesson segments (/media/…): the api or a CDN in front of it. Defaults to API_URL. */
  MEDIA_URL: z.url().optional(),
  /** The web client (a phone confirms a device code on its /pair page, claims a Q&A code on /qa/tv). Defaults to API_URL. */
  WEB_URL: z.url().optional(),
  ...RedisEnv,
  REDIS_PREFIX: z.string().default('sky'),
  /** The api's JWT secret: a family member's access token approves a device code. */
  JWT_SECRET: z.string().min(32, 'use at least 32 random characters'),
  CATCHUP_DAYS: z.coerce.number().int().min(0).max(30).default(7),
  /** Lessons are public like a broadcast; true makes the M3U, guide and playlists need a device token. */
  REQUIRE_DEVICE_TOKEN: bool.default(false),
  /** Slate segments and channel logos are rendered once with ffmpeg and kept here. */
  CACHE_DIR: z.string().default(join(tmpdir(), 'sky-tv-cache')),
  /** With a bucket (S3_BUCKET), the slate is rendered once for every gateway and shared through it. */
  ...StorageEnv,
  /** The built 10-foot UI (web-client's tv entry). */
  TV_UI_DIR: z.string().optional(),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  /**
   * Whose X-Forwarded-For is believed for client addresses (the pairing and code limits): the api, which
   * proxies /api/tv and forwards the client's address, and nginx in front — comma-separated addresses /
   * CIDRs / `loopback`, or `none`. Default `loopback` (`npm start`: the api on the same host); anything
   * connecting from elsewhere (boxes reaching the gateway directly) is taken at its socket address.
   */
  TRUST_PROXY: trustedProxies('loopback'),
});
export type TvGatewayConfig = z.infer<typeof TvGatewayConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): TvGatewayConfig {
  return parseConfig(TvGatewayConfigSchema, env);
}
