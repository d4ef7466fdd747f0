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
  /** Which process answered, where a service runs several (an sfu node's id, a transcoder's worker name). */
  node: z.string().optional(),
});
export type HealthReport = z.infer<typeof HealthReport>;

/**
 * Why a service (or one of its nodes) counts as down without a report: its /healthz timed out, could not be
 * reached, answered something that is not a health report, or (an sfu node listed in SFU_PUBLIC_URLS) it
 * does not beat in the sfu directory.
 */
export const STATUS_ERRORS = ['timed out', 'unreachable', 'unexpected answer', 'no heartbeat'] as const;
export type StatusError = (typeof STATUS_ERRORS)[number];

/**
 * `GET /api/status/detail` (admins): every service's /healthz as the api gathered it, with its URL. A
 * service that runs several processes has one entry per node it knows of (`node`): each sfu node beating
 * in the directory, each transcoder worker on the transcode queue. A worker the api cannot ask by itself
 * (the transcoders share one URL) is up while it is connected to the queue (`detail`).
 */
export const PlatformStatus = z.object({
  checkedAt: z.string(),
  services: z.array(
    z.object({
      service: ServiceName,
      url: z.string(),
      ok: z.boolean(),
      node: z.string().optional(),
      report: HealthReport.optional(),
      error: z.string().optional(),
      detail: z.string().optional(),
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
  /** One per service; `nodes` where it runs several: how many are up (the service is up when all are). */
  services: z.array(
    z.object({
      service: ServiceName,
      ok: z.boolean(),
      nodes: z.object({ up: z.number().int(), total: z.number().int() }).optional(),
    }),
  ),
});
export type PublicStatus = z.infer<typeof PublicStatus>;

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  api: 8080,
  sfu: 8081,
  curriculum: 8082,
  transcoder: 8083,
  'tv-gateway': 8090,
};
