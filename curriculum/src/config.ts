import { DEFAULT_PORTS, LogLevel, parseConfig, RedisEnv } from '@sky/contracts';
import { z } from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const CurriculumConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.curriculum),
  LOG_LEVEL: LogLevel,
  MONGODB_URI: z.string().startsWith('mongodb'),
  /** Schedule changes are published here for tv-gateway and api. */
  ...RedisEnv,
  REDIS_PREFIX: z.string().default('sky'),
  /** The api's JWT secret: admins' access tokens change the plan. */
  JWT_SECRET: z.string().min(32, 'use at least 32 random characters'),
  /** On an empty database, generate the demo plan (3,100 lessons from this week's Monday) and schedule it. */
  SEED_DEMO: bool.default(false),
});
export type CurriculumConfig = z.infer<typeof CurriculumConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): CurriculumConfig {
  return parseConfig(CurriculumConfigSchema, env);
}
