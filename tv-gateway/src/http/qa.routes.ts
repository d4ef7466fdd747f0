import {
  PairingCodeParams,
  PairingPlaybackBody,
  PairingPlaybackReply,
  TvQaPairing,
  TvQaPairingBody,
} from '@sky/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DeviceService } from '../services/device.service.js';
import type { TvQaService } from '../services/tv-qa.service.js';

const bearer = (req: FastifyRequest) => {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
};

/**
 * Q&A beside a lesson on TV, for paired boxes only (the device token: the household they belong to
 * makes the code): a code for the lesson on screen, then where that lesson is while it plays (and whether
 * a phone holds the code, so the box shows another for the next phone).
 */
export async function qaRoutes(app: FastifyInstance, o: { devices: DeviceService; qa: TvQaService }) {
  const http = app.withTypeProvider<ZodTypeProvider>();
  http.post(
    '/device/qa/pairing',
    { schema: { body: TvQaPairingBody, response: { 201: TvQaPairing } } },
    async (req, reply) => {
      const device = await o.devices.requireToken(bearer(req));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send(await o.qa.pairing(device, req.body));
    },
  );
  http.put(
    '/device/qa/pairing/:code/playback',
    {
      schema: {
        params: PairingCodeParams,
        body: PairingPlaybackBody,
        response: { 200: PairingPlaybackReply },
      },
    },
    async (req) => {
      const device = await o.devices.requireToken(bearer(req));
      return o.qa.reportPlayback(device, req.params.code, req.body);
    },
  );
}
