import {
  CreateLessonBody,
  GradeId,
  LessonListQuery,
  LessonParams,
  TranscodeRequestBody,
  UpdateLessonBody,
} from '@sky/contracts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { LessonService } from '../services/lessons.service.js';
import { actorOf } from '@sky/contracts/http';

export function lessonRoutes(lessons: LessonService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/lessons',
      { config: { access: ['teacher', 'admin'] }, schema: { body: CreateLessonBody } },
      async (req, reply) => reply.code(201).send(await lessons.create(actorOf(req), req.body)),
    );
    app.get(
      '/api/lessons',
      { config: { access: 'authenticated' }, schema: { querystring: LessonListQuery } },
      (req) => lessons.list(actorOf(req), req.query),
    );
    app.get(
      '/api/lessons/units',
      {
        config: { access: 'authenticated' },
        schema: {
          querystring: z.strictObject({ grade: GradeId, subject: z.string().trim().min(1).max(32) }),
        },
      },
      (req) => lessons.units(actorOf(req), req.query.grade, req.query.subject),
    );
    app.get(
      '/api/lessons/:id',
      { config: { access: 'authenticated' }, schema: { params: LessonParams } },
      (req) => lessons.get(actorOf(req), req.params.id),
    );
    app.patch(
      '/api/lessons/:id',
      { config: { access: ['teacher', 'admin'] }, schema: { params: LessonParams, body: UpdateLessonBody } },
      (req) => lessons.update(actorOf(req), req.params.id, req.body),
    );
    app.delete(
      '/api/lessons/:id',
      { config: { access: ['teacher', 'admin'] }, schema: { params: LessonParams } },
      async (req, reply) => {
        await lessons.delete(actorOf(req), req.params.id);
        return reply.code(204).send();
      },
    );
    app.get(
      '/api/public/lessons',
      { config: { access: 'public' }, schema: { querystring: LessonListQuery } },
      (req) => lessons.listPublic(req.query),
    );
    app.get(
      '/api/public/lessons/:id',
      { config: { access: 'public' }, schema: { params: LessonParams } },
      (req) => lessons.getPublic(req.params.id),
    );
    app.post(
      '/api/lessons/:id/transcode',
      {
        config: { access: ['teacher', 'admin'] },
        schema: { params: LessonParams, body: TranscodeRequestBody },
      },
      async (req, reply) =>
        reply.code(202).send(await lessons.requestTranscode(actorOf(req), req.params.id, req.body.source)),
    );
  };
}
