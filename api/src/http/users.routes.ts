import { CreateUserBody, UserIdParams, UserListQuery } from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { UserService } from '../services/users.service.js';

export function userRoutes(users: UserService): FastifyPluginAsyncZod {
  return async (app) => {
    const admins = { access: ['admin'] } as const;
    app.post('/api/users', { config: admins, schema: { body: CreateUserBody } }, async (req, reply) =>
      reply.code(201).send(await users.create(req.body)),
    );
    app.get('/api/users', { config: admins, schema: { querystring: UserListQuery } }, (req) =>
      users.list(req.query),
    );
    app.post('/api/users/:id/disable', { config: admins, schema: { params: UserIdParams } }, (req) =>
      users.disable(actorOf(req), req.params.id),
    );
    app.post('/api/users/:id/enable', { config: admins, schema: { params: UserIdParams } }, (req) =>
      users.enable(req.params.id),
    );
    app.post(
      '/api/users/:id/sign-out',
      { config: admins, schema: { params: UserIdParams } },
      async (req, reply) => {
        await users.signOutEverywhere(req.params.id);
        return reply.code(204).send();
      },
    );
    // The answer carries a password: no cache may keep it.
    app.post(
      '/api/users/:id/password-reset',
      { config: admins, schema: { params: UserIdParams } },
      async (req, reply) => {
        const reset = await users.resetPassword(actorOf(req), req.params.id);
        return reply.header('cache-control', 'no-store').send(reset);
      },
    );
    app.delete('/api/users/:id', { config: admins, schema: { params: UserIdParams } }, async (req, reply) => {
      await users.delete(actorOf(req), req.params.id);
      return reply.code(204).send();
    });
  };
}
