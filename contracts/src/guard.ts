// The role guard every HTTP service uses (exported through @sky/contracts/http).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessClaims } from './auth.js';
import { AppError } from './problem.js';
import type { Role } from './roles.js';

/** Who may call a route: everyone, any signed-in user, or the listed roles. Every route declares it. */
export type Access = 'public' | 'authenticated' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor: AccessClaims | null;
  }
}

/**
 * The role guard. Registration fails at boot for a route under `guardedPrefix` that does not declare
 * its access, so a new route cannot be left open by mistake; each request is checked before its body
 * is validated.
 */
export function registerGuard(
  app: FastifyInstance,
  verify: (token: string) => AccessClaims | Promise<AccessClaims>,
  guardedPrefix = '/',
): void {
  app.decorateRequest('actor', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(guardedPrefix) && route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access rule`);
    }
  });
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer '))
      throw new AppError('UNAUTHENTICATED', 'sign in first (Authorization: Bearer …)');
    const actor = await verify(header.slice(7));
    if (access !== 'authenticated' && !access.includes(actor.role)) {
      throw new AppError('FORBIDDEN', `this needs one of the roles: ${access.join(', ')}`);
    }
    req.actor = actor;
  });
}

export function actorOf(req: FastifyRequest): AccessClaims {
  if (!req.actor) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return req.actor;
}
