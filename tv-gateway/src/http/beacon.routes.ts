import { problem } from '@sky/contracts';
import type { ViewerIds } from '@sky/contracts/tokens';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceService } from '../services/device.service.js';

/** A little above the api's batch limit, so the api (not the gateway) answers 413 with its reason. */
const BODY_LIMIT = 128 * 1024;

/**
 * Viewing beacons of the 10-foot UI: boxes post to the gateway that serves them, which passes each
 * batch to the api's ingest as it is (JSON or sendBeacon's text/plain), with the box's address for the
 * api's per-client rate limit. The api's answer (202, 400 with the field, 413, 429 with Retry-After)
 * goes back unchanged; an api that does not answer is a 503 with Retry-After, so the box keeps the
 * batch and retries.
 */
export async function beaconRoutes(
  app: FastifyInstance,
  o: { apiUrl: string; devices: Pick<DeviceService, 'verifyToken'>; viewers: Pick<ViewerIds, 'of'> },
) {
  // Encapsulated: the raw body is forwarded byte for byte, never parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  // The viewer id a box signs its beacons with: a paired box's is its device's (the device token says
  // which); an unpaired box gets an anonymous one from the api, which budgets them per box address.
  app.post('/api/analytics/viewer', async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const device = token ? await o.devices.verifyToken(token) : undefined;
    if (device) return reply.send({ viewerId: o.viewers.of(`device:${device.id}`) });
    return forward(req, reply, '/api/analytics/viewer', {
      'content-type': 'text/plain',
      'x-forwarded-for': req.ip,
    });
  });
  app.post('/api/analytics/beacons', async (req, reply) => {
    const headers: Record<string, string> = {
      'content-type': req.headers['content-type'] ?? 'text/plain',
      'x-forwarded-for': req.ip,
    };
    if (req.headers.authorization) headers['authorization'] = req.headers.authorization;
    return forward(req, reply, '/api/analytics/beacons', headers);
  });

  async function forward(
    req: FastifyRequest,
    reply: FastifyReply,
    path: string,
    headers: Record<string, string>,
  ) {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    let res: Response;
    try {
      res = await fetch(`${o.apiUrl}${path}${query}`, {
        method: 'POST',
        headers,
        body: Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array(0),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      req.log.warn({ err }, 'analytics ingest unreachable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .type('application/problem+json')
        .send(problem('DEPENDENCY_DOWN', 'the viewing statistics service is not answering; retry shortly'));
    }
    for (const h of ['content-type', 'retry-after']) {
      const v = res.headers.get(h);
      if (v) reply.header(h, v);
    }
    return reply.code(res.status).send(Buffer.from(await res.arrayBuffer()));
  }
}
