import {
  HealthReport,
  type PlatformStatus,
  type PublicStatus,
  type ServiceName,
  type StatusError,
} from '@sky/contracts';

type Entry = PlatformStatus['services'][number];

/** Where the status page finds the processes of the services that run several. */
export interface StatusNodes {
  /** The sfu nodes beating in the directory (none: one sfu, asked at its URL). */
  sfu?: () => Promise<{ nodeId: string; internalUrl: string; publicUrl: string }[]>;
  /** The sfu URLs browsers may be sent to (SFU_PUBLIC_URLS): one whose node does not beat is down. */
  sfuListed?: readonly string[];
  /** The names of the workers on the transcode queue now. */
  transcoders?: () => Promise<string[]>;
}

/**
 * Gathers every service's /healthz for the status page: each sfu node that beats in the directory (and
 * each listed one that does not), and the transcoders' workers on their queue beside the one that answers
 * at TRANSCODER_URL (the transcoders share a URL behind a load balancer, so only the queue knows them all).
 */
export class StatusService {
  constructor(
    private readonly urls: Record<Exclude<ServiceName, 'api'>, string>,
    private readonly self: () => Promise<HealthReport>,
    private readonly nodes: StatusNodes = {},
    private readonly timeoutMs = 2000,
  ) {}

  /** What anyone may know: up or not per service, and how many of its nodes are up where it runs several. */
  async summary(): Promise<PublicStatus> {
    const { checkedAt, services } = await this.check();
    const names = [...new Set(services.map((s) => s.service))];
    return {
      checkedAt,
      overall: services.every((s) => s.ok) ? 'up' : 'degraded',
      services: names.map((service) => {
        const of = services.filter((s) => s.service === service);
        const up = of.filter((s) => s.ok).length;
        return {
          service,
          ok: up === of.length,
          ...(of.length > 1 ? { nodes: { up, total: of.length } } : {}),
        };
      }),
    };
  }

  /** Every service's report with its URL, node by node: for admins. */
  async check(): Promise<PlatformStatus> {
    const [self, ...others] = await Promise.all([
      this.self(),
      ...(Object.entries(this.urls) as [Exclude<ServiceName, 'api'>, string][]).map(([service, url]) =>
        service === 'sfu'
          ? this.sfuNodes(url)
          : service === 'transcoder'
            ? this.transcoders(url)
            : this.probe(service, url).then((e) => [e]),
      ),
    ]);
    return {
      checkedAt: new Date().toISOString(),
      services: [{ service: 'api', url: 'self', ok: self.ok, report: self }, ...others.flat()],
    };
  }

  private async sfuNodes(url: string): Promise<Entry[]> {
    const beating = (await this.nodes.sfu?.().catch(() => undefined)) ?? [];
    if (beating.length === 0) return [await this.probe('sfu', url)];
    const probed = await Promise.all(beating.map((n) => this.probe('sfu', n.internalUrl, n.nodeId)));
    const silent: Entry[] = (this.nodes.sfuListed ?? [])
      .filter((listed) => !beating.some((n) => sameOrigin(n.publicUrl, listed)))
      .map((listed) => ({
        service: 'sfu',
        url: listed,
        // a silent node is known by the address it is listed under
        node: listed,
        ok: false,
        error: 'no heartbeat' satisfies StatusError,
      }));
    // the beating nodes by name, then the listed ones that are silent
    return [...probed.sort((a, b) => (a.node ?? '').localeCompare(b.node ?? '')), ...silent];
  }

  private async transcoders(url: string): Promise<Entry[]> {
    const [answered, workers] = await Promise.all([
      this.probe('transcoder', url),
      this.nodes.transcoders?.().catch(() => undefined),
    ]);
    const node = answered.report?.node;
    const entries: Entry[] = [{ ...answered, ...(node ? { node } : {}) }];
    for (const name of workers ?? []) {
      if (name === node) continue;
      entries.push({
        service: 'transcoder',
        url,
        node: name,
        ok: true,
        detail: 'on the transcode queue',
      });
    }
    return entries;
  }

  private async probe(service: ServiceName, url: string, node?: string): Promise<Entry> {
    const base = { service, url, ...(node ? { node } : {}) };
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(this.timeoutMs) });
      const parsed = HealthReport.safeParse(await res.json());
      if (!parsed.success) return { ...base, ok: false, error: 'unexpected answer' satisfies StatusError };
      return { ...base, ok: res.ok && parsed.data.ok, report: parsed.data };
    } catch (err) {
      const error: StatusError = (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable';
      return { ...base, ok: false, error };
    }
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return a === b;
  }
}
