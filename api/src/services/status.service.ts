import { HealthReport, type PlatformStatus, type PublicStatus, type ServiceName } from '@sky/contracts';

/** Gathers every service's /healthz for the status page. */
export class StatusService {
  constructor(
    private readonly urls: Record<Exclude<ServiceName, 'api'>, string>,
    private readonly self: () => Promise<HealthReport>,
    private readonly timeoutMs = 2000,
  ) {}

  /** What anyone may know: up or not, per service. */
  async summary(): Promise<PublicStatus> {
    const { checkedAt, services } = await this.check();
    return {
      checkedAt,
      overall: services.every((s) => s.ok) ? 'up' : 'degraded',
      services: services.map(({ service, ok }) => ({ service, ok })),
    };
  }

  /** Every service's report with its URL: for admins. */
  async check(): Promise<PlatformStatus> {
    const self = await this.self();
    const others = await Promise.all(
      (Object.entries(this.urls) as [Exclude<ServiceName, 'api'>, string][]).map(([service, url]) =>
        this.probe(service, url),
      ),
    );
    return {
      checkedAt: new Date().toISOString(),
      services: [{ service: 'api', url: 'self', ok: self.ok, report: self }, ...others],
    };
  }

  private async probe(service: ServiceName, url: string): Promise<PlatformStatus['services'][number]> {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(this.timeoutMs) });
      const parsed = HealthReport.safeParse(await res.json());
      if (!parsed.success) return { service, url, ok: false, error: 'unexpected /healthz answer' };
      return { service, url, ok: res.ok && parsed.data.ok, report: parsed.data };
    } catch (err) {
      return {
        service,
        url,
        ok: false,
        error: (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable',
      };
    }
  }
}
