import { z } from 'zod';

export const SERVICES = ['api', 'sfu', 'curriculum', 'transcoder', 'tv-gateway'] as const;
export const ServiceName = z.enum(SERVICES);
export type ServiceName = z.infer<typeof ServiceName>;

export const DependencyState = z.object({ ok: z.boolean(), detail: z.string().optional() });
export type DependencyState = z.infer<typeof DependencyState>;

/** `GET /healthz` of every service: 200 only when every dependency is up, else 503 with the same body. */
export const HealthReport = z.object({
  service: ServiceName,
  ok: z.boolean(),
  version: z.string(),
  uptimeSec: z.number(),
  dependencies: z.record(z.string(), DependencyState),
});
export type HealthReport = z.infer<typeof HealthReport>;

/** `GET /api/status/detail` (admins): every service's /healthz as the api gathered it, with its URL. */
export const PlatformStatus = z.object({
  checkedAt: z.string(),
  services: z.array(
    z.object({
      service: ServiceName,
      url: z.string(),
      ok: z.boolean(),
      report: HealthReport.optional(),
      error: z.string().optional(),
    }),
  ),
});
export type PlatformStatus = z.infer<typeof PlatformStatus>;

/**
 * `POST /api/status/queue-ticket` (admins): a one-use ticket that opens the transcoder's queue UI
 * (`<transcoder>/queues/login?ticket=…`) for TICKET_TTL_SEC, instead of an access token in the URL.
 */
export const QueueTicket = z.object({ ticket: z.string() });
export type QueueTicket = z.infer<typeof QueueTicket>;

/**
 * `GET /api/status` (anyone): whether each part of the platform is up, and nothing of its insides
 * (no URLs, versions, pids or dependency details: those are for admins, in PlatformStatus).
 */
export const PublicStatus = z.object({
  checkedAt: z.string(),
  overall: z.enum(['up', 'degraded']),
  services: z.array(z.object({ service: ServiceName, ok: z.boolean() })),
});
export type PublicStatus = z.infer<typeof PublicStatus>;

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  api: 8080,
  sfu: 8081,
  curriculum: 8082,
  transcoder: 8083,
  'tv-gateway': 8090,
};
