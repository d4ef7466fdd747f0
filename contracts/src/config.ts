import { z } from 'zod';

/**
 * Parses a service's environment once with its zod schema; reports every problem at once
 * (names and reasons, never the values, which may be secrets).
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
}

/** The env variable names a schema reads, for the docker-compose consistency test. */
export function configKeys(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape);
}

export const LogLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');
