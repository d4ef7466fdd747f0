import { CreateUserBody, Role, UserIdParams } from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UserService } from '../services/users.service.js';

const ListQuery = z.strictObject({
  role: Role.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export function userRoutes(users: UserService): FastifyPluginAsyncZod {
  return async (app) => {
    const admins = { access: ['admin'] } as const;
    app.post('/api/users', { config: admins, schema: { body: CreateUserBody } }, async (req, reply) =>
      reply.code(201).send(await users.create(req.body)),
    );
    app.get('/api/users', { config: admins, schema: { querystring: ListQuery } }, (req) =>
      users.list(req.query.role ? { role: req.query.role } : {}, req.query.limit, req.query.offset),
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
    app.delete('/api/users/:id', { config: admins, schema: { params: UserIdParams } }, async (req, reply) => {
      await users.delete(actorOf(req), req.params.id);
      return reply.code(204).send();
    });
  };
}
