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

/**
 * Where a service finds Redis: REDIS_URL, or Sentinel (REDIS_SENTINELS=host:port,host:port with
 * REDIS_SENTINEL_MASTER, the master's name) so a master failover is followed without a restart.
 * REDIS_QUEUE_URL / REDIS_ANALYTICS_URL move BullMQ / the beacon ingest to a Redis of their own.
 * Spread into each service's schema; `redisTarget` turns the parsed values into one connection target.
 */
export const RedisEnv = {
  REDIS_URL: z.string().startsWith('redis').optional(),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_MASTER: z.string().min(1).optional(),
  /** The sentinels' own password (`requirepass` in their conf), when they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** The master's password under Sentinel (with REDIS_URL it is in the URL). */
  REDIS_PASSWORD: z.string().optional(),
  REDIS_QUEUE_URL: z.string().startsWith('redis').optional(),
  REDIS_ANALYTICS_URL: z.string().startsWith('redis').optional(),
};
export type RedisEnvValues = { [K in keyof typeof RedisEnv]?: string | undefined };

export type RedisTarget =
  | { url: string }
  | {
      sentinels: { host: string; port: number }[];
      master: string;
      sentinelPassword?: string;
      password?: string;
    };

/** Which Redis a connection is for: `queue` (BullMQ) and `analytics` (beacon ingest) may have their own. */
export type RedisRole = 'main' | 'queue' | 'analytics';

/** The Redis of `role`: its own URL when set, else REDIS_URL or the Sentinel master (never both). */
export function redisTarget(env: RedisEnvValues, role: RedisRole = 'main'): RedisTarget {
  const own =
    role === 'queue' ? env.REDIS_QUEUE_URL : role === 'analytics' ? env.REDIS_ANALYTICS_URL : undefined;
  if (own) return { url: own };
  const list = env.REDIS_SENTINELS?.trim();
  if (list && env.REDIS_URL)
    throw new Error('Invalid configuration: set REDIS_URL or REDIS_SENTINELS, not both');
  if (!list) {
    if (!env.REDIS_URL) throw new Error('Invalid configuration: set REDIS_URL or REDIS_SENTINELS');
    return { url: env.REDIS_URL };
  }
  if (!env.REDIS_SENTINEL_MASTER)
    throw new Error('Invalid configuration: REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the master name)');
  const sentinels = list.split(',').map((entry) => {
    const m = /^\s*([^\s:]+|\[[^\]]+\]):(\d{1,5})\s*$/.exec(entry);
    if (!m) throw new Error(`Invalid configuration: REDIS_SENTINELS entry "${entry}" is not host:port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
  return {
    sentinels,
    master: env.REDIS_SENTINEL_MASTER,
    ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
    ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
  };
}

/**
 * Mongo options the services default to, for what a URI does not set itself: writes wait for a majority
 * (an acknowledged write survives an election) and are retried once on a new primary; each member is
 * asked for its state every 2 s, not the driver's 10 s, so an idle service finds a new primary soon after
 * an election (MongoDB 4.0 members are polled; they cannot stream their state to the driver).
 * (The driver lets passed options win over the URI's, so only the URI's missing ones are returned.)
 */
export function mongoDefaults(uri: string): {
  writeConcern?: { w: 'majority' };
  retryWrites?: true;
  heartbeatFrequencyMS?: number;
} {
  const query = new URLSearchParams(uri.split('?')[1] ?? '');
  const has = (name: string) => [...query.keys()].some((k) => k.toLowerCase() === name.toLowerCase());
  return {
    ...(has('w') ? {} : { writeConcern: { w: 'majority' as const } }),
    ...(has('retryWrites') ? {} : { retryWrites: true as const }),
    ...(has('heartbeatFrequencyMS') ? {} : { heartbeatFrequencyMS: 2000 }),
  };
}
