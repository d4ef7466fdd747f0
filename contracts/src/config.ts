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

/** proxy-addr's names for address ranges (fastify's trustProxy understands them). */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;
const ProxyAddress = z.union([z.enum(PROXY_RANGE_NAMES), z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

/**
 * TRUST_PROXY: the proxies whose X-Forwarded-For a service believes, comma-separated addresses, CIDRs or
 * `loopback` / `linklocal` / `uniquelocal`; `none` believes no one. Only the hops in front of the service
 * belong here: a client reaching it from any other address could otherwise pick its own address (and so
 * its own rate-limit bucket) by sending the header. "Trust everyone" is refused.
 */
export function trustedProxies(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      const entries = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (entries.length === 1 && entries[0] === 'none') return [];
      const out: string[] = [];
      for (const entry of entries) {
        if (ProxyAddress.safeParse(entry).success) out.push(entry);
        else
          ctx.addIssue({
            code: 'custom',
            message: `"${entry}" is not an address, a CIDR, loopback, linklocal or uniquelocal (use none to trust no proxy)`,
          });
      }
      if (out.length === 0 && entries.length === 0)
        ctx.addIssue({ code: 'custom', message: 'name the trusted proxies, or none' });
      return out;
    });
}
