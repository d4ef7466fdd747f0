import { CreateUserBody, Role } from '@sky/contracts';
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
    app.post(
      '/api/users',
      { config: { access: ['admin'] }, schema: { body: CreateUserBody } },
      async (req, reply) => reply.code(201).send(await users.create(req.body)),
    );
    app.get('/api/users', { config: { access: ['admin'] }, schema: { querystring: ListQuery } }, (req) =>
      users.list(req.query.role ? { role: req.query.role } : {}, req.query.limit, req.query.offset),
    );
  };
}
