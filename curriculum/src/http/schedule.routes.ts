import { GradeId, MoveBody, PlanId, ProgrammeQuery, ScheduleQuery, UnavailabilityBody } from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ScheduleService } from '../services/schedule.service.js';

const ADMIN = ['admin'] as const;

/** The published timetable is public, like a printed school timetable; changing it is for admins. */
export async function scheduleRoutes(app: FastifyInstance, { schedule }: { schedule: ScheduleService }) {
  const http = app.withTypeProvider<ZodTypeProvider>();
  http.get(
    '/schedule',
    {
      config: { access: 'public' },
      schema: {
        tags: ['schedule'],
        summary: "A grade's, a teacher's or some api lessons' slots between two dates",
        querystring: ScheduleQuery,
      },
    },
    (req) => schedule.entries(req.query),
  );
  http.get(
    '/schedule/summary',
    {
      config: { access: 'public' },
      schema: { tags: ['schedule'], summary: 'Version, size and soft-goal score of the schedule' },
    },
    async (_req, reply) => (await schedule.summary()) ?? reply.code(204).send(),
  );
  http.post(
    '/schedule/build',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['schedule'],
        summary: 'Schedule the whole plan (422 with a diagnosis when it cannot be done)',
      },
    },
    (req) => schedule.build(actorOf(req).sub),
  );
  http.post(
    '/schedule/moves',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['schedule'],
        summary: 'Move one lesson; returns every lesson that moved',
        body: MoveBody,
      },
    },
    (req) => schedule.move(req.body.lessonId, req.body.date, req.body.slot, actorOf(req).sub),
  );
  http.get(
    '/schedule/changes',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['schedule'],
        summary: 'Recent schedule changes and what they moved',
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
    },
    (req) => schedule.history(req.query.limit),
  );
  http.post(
    '/teachers/:id/unavailability',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['schedule'],
        summary: "Mark a teacher unavailable; only that teacher's lessons (and what they displace) move",
        params: z.strictObject({ id: PlanId }),
        body: UnavailabilityBody,
      },
    },
    (req) => schedule.markUnavailable(req.params.id, req.body.dates, actorOf(req).sub),
  );
  http.get(
    '/teachers',
    {
      config: { access: 'public' },
      schema: {
        tags: ['plan'],
        summary: 'Teachers of the plan',
        querystring: z.strictObject({ grade: GradeId.optional() }),
      },
    },
    async (req) => {
      const { plan } = await schedule.plan();
      return plan.teachers
        .filter((t) => !req.query.grade || t.grades.includes(req.query.grade))
        .map(({ id, name, subjects, grades, unavailable }) => ({ id, name, subjects, grades, unavailable }));
    },
  );
  http.get(
    '/term',
    { config: { access: 'public' }, schema: { tags: ['plan'], summary: 'The term calendar and subjects' } },
    async () => {
      const { plan } = await schedule.plan();
      return { term: plan.term, subjects: plan.subjects };
    },
  );
  http.get(
    '/channels',
    {
      config: { access: 'public' },
      schema: { tags: ['channels'], summary: 'Web and TV channels, by number' },
    },
    () => schedule.channels(),
  );
  http.get(
    '/channels/:id/programme',
    {
      config: { access: 'public' },
      schema: {
        tags: ['channels'],
        summary: "A channel's programme between two dates",
        params: z.strictObject({ id: PlanId }),
        querystring: ProgrammeQuery,
      },
    },
    (req) => schedule.programme(req.params.id, req.query.from, req.query.to),
  );
}
