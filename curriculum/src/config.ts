import { DEFAULT_PORTS, LogLevel, parseConfig } from '@sky/contracts';
import { z } from 'zod';

export const CurriculumConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.curriculum),
  LOG_LEVEL: LogLevel,
  MONGODB_URI: z.string().startsWith('mongodb'),
});
export type CurriculumConfig = z.infer<typeof CurriculumConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): CurriculumConfig {
  return parseConfig(CurriculumConfigSchema, env);
}
