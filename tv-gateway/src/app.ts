import type { HealthReport } from '@sky/contracts';
import { registerProblemHandlers } from '@sky/contracts/http';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { TvGatewayConfig } from './config.js';

export interface TvGatewayDeps {
  config: TvGatewayConfig;
  logger: FastifyBaseLogger;
  version: string;
}

async function reachable(url: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch {
    return { ok: false, detail: 'unreachable' };
  }
}

export function createApp(deps: TvGatewayDeps) {
  const startedAt = Date.now();
  const http = Fastify({ loggerInstance: deps.logger });
  registerProblemHandlers(http);
  http.get('/healthz', async (_req, reply) => {
    const [curriculum, api] = await Promise.all([
      reachable(deps.config.CURRICULUM_URL),
      reachable(deps.config.API_URL),
    ]);
    const report: HealthReport = {
      service: 'tv-gateway',
      ok: curriculum.ok && api.ok,
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies: { curriculum, api },
    };
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  return { http, close: () => http.close() };
}
