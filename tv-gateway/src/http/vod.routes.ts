import { AppError, GradeId, LessonList, TvLessonList, type TvLesson } from '@sky/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * On-demand lessons for the 10-foot UI: the api's public list by grade and subject, with media URLs
 * made absolute on the public media origin (boxes play them from there, not from the gateway).
 */
export async function vodRoutes(app: FastifyInstance, o: { apiUrl: string; mediaUrl: string }) {
  const http = app.withTypeProvider<ZodTypeProvider>();
  http.get(
    '/api/lessons',
    {
      schema: {
        querystring: z.strictObject({
          grade: GradeId.optional(),
          subject: z.string().trim().min(1).max(32).optional(),
          limit: z.coerce.number().int().min(1).max(100).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: TvLessonList },
      },
    },
    async (req, reply) => {
      const q = new URLSearchParams(
        Object.entries(req.query).flatMap(([k, v]) =>
          v === undefined ? [] : [[k, String(v)] as [string, string]],
        ),
      );
      const res = await fetch(`${o.apiUrl}/api/public/lessons?${q.toString()}`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) {
        throw new AppError(
          res.status === 400 ? 'VALIDATION_FAILED' : 'DEPENDENCY_DOWN',
          `the lesson library answered ${res.status}`,
        );
      }
      const list = LessonList.parse(await res.json());
      const abs = (u: string) => new URL(u, `${o.mediaUrl}/`).href;
      return reply.header('cache-control', 'public, max-age=30').send({
        total: list.total,
        items: list.items.map((l): TvLesson => ({
          id: l.id,
          title: l.title,
          grade: l.grade,
          subject: l.subject,
          ...(l.unit ? { unit: l.unit } : {}),
          ...(l.teacherName ? { teacherName: l.teacherName } : {}),
          ...(l.durationSec !== undefined ? { durationSec: l.durationSec } : {}),
          ...(l.tvPlaybackUrl ? { tvPlaybackUrl: abs(l.tvPlaybackUrl) } : {}),
          ...(l.posterUrl ? { posterUrl: abs(l.posterUrl) } : {}),
        })),
      });
    },
  );
}
