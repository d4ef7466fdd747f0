import type { HealthReport } from '@sky/contracts';
import { registerProblemHandlers } from '@sky/contracts/http';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { WorkerPool } from './adapters/mediasoup.js';

export interface SfuDeps {
  logger: FastifyBaseLogger;
  workers: WorkerPool;
  version: string;
}

export function createApp(deps: SfuDeps) {
  const startedAt = Date.now();
  const http = Fastify({ loggerInstance: deps.logger });
  registerProblemHandlers(http);
  http.get('/healthz', async (_req, reply) => {
    const states = deps.workers.states();
    const dependencies = Object.fromEntries(
      states.map((w) => [
        `mediasoup-worker-${w.index}`,
        { ok: w.alive, detail: `pid ${w.pid}${w.restarts ? `, restarted ${w.restarts}×` : ''}` },
      ]),
    );
    const report: HealthReport = {
      service: 'sfu',
      ok: states.length > 0 && states.every((w) => w.alive),
      version: deps.version,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      dependencies,
    };
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  return {
    http,
    async close() {
      await http.close();
      deps.workers.close();
    },
  };
}
