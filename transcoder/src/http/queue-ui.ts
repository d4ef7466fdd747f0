import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyCookie from '@fastify/cookie';
import { AppError, ERROR_STATUS, problemFromError, type AccessClaims } from '@sky/contracts';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

const BASE = '/queues';
const COOKIE = 'sky_queue_admin';

/**
 * bull-board at /queues, admins only. A browser cannot send a Bearer header on navigation, so an admin
 * opens /queues/login?token=<access token> once (the web admin page links there); the token is checked
 * and kept in an HttpOnly, SameSite=Strict cookie scoped to /queues.
 */
export async function registerQueueUi(
  app: FastifyInstance,
  queues: Queue[],
  verify: (token: string) => AccessClaims,
) {
  await app.register(fastifyCookie);
  const adminFrom = (token: string | undefined) => {
    if (!token) throw new AppError('UNAUTHENTICATED', 'sign in as an admin first');
    const actor = verify(token);
    if (actor.role !== 'admin') throw new AppError('FORBIDDEN', 'the queue UI is for admins');
    return actor;
  };
  app.get(`${BASE}/login`, async (req, reply) => {
    const token = (req.query as { token?: string }).token;
    adminFrom(token);
    return reply
      .setCookie(COOKIE, token!, { path: BASE, httpOnly: true, sameSite: 'strict', maxAge: 15 * 60 })
      .redirect(BASE);
  });
  await app.register(async (scoped) => {
    // bull-board installs its own error handler in this scope: answer refusals here, as problem+json.
    scoped.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith(`${BASE}/login`)) return;
      try {
        adminFrom(req.headers.authorization?.replace(/^Bearer /, '') ?? req.cookies[COOKIE]);
      } catch (err) {
        const body = problemFromError(err, req.url);
        return reply.code(ERROR_STATUS[body.code]).type('application/problem+json').send(body);
      }
    });
    const adapter = new FastifyAdapter();
    adapter.setBasePath(BASE);
    createBullBoard({
      queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })),
      serverAdapter: adapter,
    });
    await scoped.register(adapter.registerPlugin(), { prefix: BASE });
  });
}
