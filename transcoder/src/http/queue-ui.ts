import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyCookie from '@fastify/cookie';
import { AppError, ERROR_STATUS, problemFromError, type AccessClaims } from '@sky/contracts';
import type { TicketIssuer } from '@sky/contracts/tokens';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

const BASE = '/queues';
const COOKIE = 'sky_queue_admin';
export const SESSION_SEC = 15 * 60;

/**
 * bull-board at /queues, admins only. A browser cannot send a Bearer header on navigation, so the web
 * admin page asks the api for a one-use ticket and opens /queues/login?ticket=<ticket>: never an access
 * token in a URL (history, proxy and access logs keep URLs). The ticket is accepted once, within its
 * seconds; the session is then an HttpOnly, SameSite=Strict cookie scoped to /queues holding a ticket
 * of its own kind ('queues-session', 15 min), which no other service accepts.
 */
export async function registerQueueUi(
  app: FastifyInstance,
  queues: Queue[],
  auth: {
    verify: (token: string) => AccessClaims;
    /** The api's one-use tickets (seconds). */
    tickets: TicketIssuer;
    /** The cookie's (SESSION_SEC). */
    sessions: TicketIssuer;
  },
) {
  const verify = auth.verify;
  /** Tickets already used (until they expire): a ticket opens the UI once. */
  const used = new Map<string, number>();
  await app.register(fastifyCookie);
  /** An admin's access token (a script's Authorization header) or the session cookie. */
  const adminFrom = (bearer: string | undefined, cookie: string | undefined) => {
    const role = bearer
      ? verify(bearer).role
      : cookie
        ? auth.sessions.verify(cookie, 'queues-session').role
        : undefined;
    if (!role) throw new AppError('UNAUTHENTICATED', 'open the queue UI from the admin page');
    if (role !== 'admin') throw new AppError('FORBIDDEN', 'the queue UI is for admins');
  };
  app.get(`${BASE}/login`, async (req, reply) => {
    const ticket = (req.query as { ticket?: string }).ticket;
    if (!ticket) throw new AppError('UNAUTHENTICATED', 'open the queue UI from the admin page');
    const t = auth.tickets.verify(ticket, 'queues');
    const now = Date.now() / 1000;
    for (const [jti, exp] of used) if (exp < now) used.delete(jti);
    if (used.has(t.jti)) throw new AppError('UNAUTHENTICATED', 'this link was used already; open it again');
    used.set(t.jti, t.exp);
    if (t.role !== 'admin') throw new AppError('FORBIDDEN', 'the queue UI is for admins');
    const session = auth.sessions.sign({ sub: t.sub, role: t.role, use: 'queues-session' });
    return reply
      .setCookie(COOKIE, session, { path: BASE, httpOnly: true, sameSite: 'strict', maxAge: SESSION_SEC })
      .redirect(BASE);
  });
  await app.register(async (scoped) => {
    // bull-board installs its own error handler in this scope: answer refusals here, as problem+json.
    scoped.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith(`${BASE}/login`)) return;
      try {
        adminFrom(req.headers.authorization?.replace(/^Bearer /, ''), req.cookies[COOKIE]);
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
