import { DEFAULT_PORTS, LogLevel, parseConfig } from '@sky/contracts';
import { z } from 'zod';

export const TvGatewayConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS['tv-gateway']),
  LOG_LEVEL: LogLevel,
  /** The schedule and channel lineup come from the curriculum service. */
  CURRICULUM_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.curriculum}`),
  /** Lesson media and device pairing live in the api. */
  API_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.api}`),
});
export type TvGatewayConfig = z.infer<typeof TvGatewayConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): TvGatewayConfig {
  return parseConfig(TvGatewayConfigSchema, env);
}
