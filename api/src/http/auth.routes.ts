import { LoginBody, RefreshBody } from '@sky/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuthService } from '../services/auth.service.js';
import type { UserService } from '../services/users.service.js';
import { actorOf } from '@sky/contracts/http';

export function authRoutes(auth: AuthService, users: UserService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/api/auth/login', { config: { access: 'public' }, schema: { body: LoginBody } }, (req) =>
      auth.login(req.body),
    );
    app.post('/api/auth/refresh', { config: { access: 'public' }, schema: { body: RefreshBody } }, (req) =>
      auth.refresh(req.body.refreshToken),
    );
    app.post(
      '/api/auth/logout',
      { config: { access: 'public' }, schema: { body: RefreshBody } },
      async (req, reply) => {
        await auth.logout(req.body.refreshToken);
        return reply.code(204).send();
      },
    );
    app.get('/api/me', { config: { access: 'authenticated' } }, (req) => users.me(actorOf(req).sub));
  };
}
