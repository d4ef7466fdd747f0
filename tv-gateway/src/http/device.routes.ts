import {
  AppError,
  Device,
  DeviceApproveBody,
  DeviceCodeBody,
  DeviceCodeResponse,
  DeviceTokenBody,
  ERROR_STATUS,
  problemFromError,
  type AccessClaims,
  type DeviceTokenError,
} from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DeviceFlowError, type DeviceService } from '../services/device.service.js';

const FORM = 'application/x-www-form-urlencoded';
const DeviceIdParams = z.strictObject({ id: z.string().regex(/^[\w-]{1,64}$/, 'a device id') });
// Not strict: set-top browsers append cache busters.
const DeviceTokenQuery = z.object({ token: z.string().max(200).optional() });

const bearer = (req: FastifyRequest) => {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
};

/**
 * Pairing set-top boxes (RFC 8628): the box asks for a code and polls for its token; a signed-in
 * family member confirms the code and manages the household's devices.
 */
export async function deviceRoutes(
  app: FastifyInstance,
  { devices, verifyUser }: { devices: DeviceService; verifyUser: (token: string) => AccessClaims },
) {
  // RFC 8628 clients post forms; JSON works as well. RFC 6749 §3.2: empty parameters count as absent,
  // repeated ones are refused.
  if (!app.hasContentTypeParser(FORM)) {
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      const params = new Map<string, string>();
      for (const [k, v] of new URLSearchParams(body as string)) {
        if (params.has(k)) {
          done(
            new AppError('VALIDATION_FAILED', `${k} is given more than once`, {
              errors: [{ path: `body.${k}`, message: 'given more than once' }],
            }),
          );
          return;
        }
        if (v !== '') params.set(k, v);
      }
      done(null, Object.fromEntries(params));
    });
  }
  // The api account of the family member (checked before the body, like the role guard does).
  if (!app.hasRequestDecorator('actor')) app.decorateRequest('actor', null);
  const signedIn = async (req: FastifyRequest) => {
    const token = bearer(req);
    if (!token) throw new AppError('UNAUTHENTICATED', 'sign in first (Authorization: Bearer …)');
    req.actor = verifyUser(token);
  };

  const http = app.withTypeProvider<ZodTypeProvider>();
  http.post(
    '/device/code',
    { schema: { body: DeviceCodeBody.nullish(), response: { 200: DeviceCodeResponse } } },
    (req) => devices.requestCode(req.body?.name, req.ip),
  );
  http.post(
    '/device/token',
    {
      // Refused bodies are answered here, so OAuth clients also read `error` (RFC 8628 §3.5). No
      // response schema: 400 carries either an RFC 8628 error or a problem.
      attachValidation: true,
      schema: { body: DeviceTokenBody },
    },
    async (req, reply) => {
      // RFC 6749 §5.1: token responses are never cached.
      void reply.header('cache-control', 'no-store');
      if (req.validationError) {
        const problem = problemFromError(req.validationError, req.url);
        return reply
          .code(ERROR_STATUS[problem.code])
          .type('application/problem+json')
          .send({ ...problem, error: 'invalid_request', error_description: problem.detail });
      }
      try {
        return await devices.poll(req.body.device_code);
      } catch (err) {
        if (!(err instanceof DeviceFlowError)) throw err;
        const body: DeviceTokenError = { error: err.error, error_description: err.message };
        return reply.code(400).send(body);
      }
    },
  );
  http.post(
    '/device/approve',
    { onRequest: signedIn, schema: { body: DeviceApproveBody, response: { 200: Device } } },
    (req) => devices.approve(actorOf(req), req.body.user_code, req.body.name, req.ip),
  );
  http.post(
    '/device/deny',
    { onRequest: signedIn, schema: { body: DeviceApproveBody.pick({ user_code: true }) } },
    async (req, reply) => {
      await devices.deny(actorOf(req), req.body.user_code, req.ip);
      return reply.code(204).send();
    },
  );
  http.get('/devices', { onRequest: signedIn, schema: { response: { 200: z.array(Device) } } }, (req) =>
    devices.list(actorOf(req)),
  );
  http.delete(
    '/devices/:id',
    { onRequest: signedIn, schema: { params: DeviceIdParams } },
    async (req, reply) => {
      await devices.revoke(actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  http.get('/device/me', { schema: { querystring: DeviceTokenQuery, response: { 200: Device } } }, (req) =>
    devices.requireToken(bearer(req) ?? req.query.token),
  );
}
