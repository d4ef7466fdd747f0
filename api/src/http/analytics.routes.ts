import rateLimit from '@fastify/rate-limit';
import {
  AnalyticsRangeQuery,
  AnalyticsViewer,
  analyticsCsvName,
  AppError,
  BreakdownQuery,
  LessonParams,
  RetentionParams,
  RetentionQuery,
  TopLessonsQuery,
  type AccessClaims,
  type AnalyticsLang,
  type AnalyticsTable,
  type BreakdownDim,
} from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { ViewerIds } from '@sky/contracts/tokens';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { LessonAudienceService } from '../services/analytics.audience.js';
import { RetryLater, type AnalyticsIngestService } from '../services/analytics.ingest.js';
import { csvLang, toCsv, type CsvRow } from '../services/analytics.csv.js';
import { csvRows, dayRange, type AnalyticsQueryService } from '../services/analytics.query.js';

export interface AnalyticsRouteOptions {
  maxBatchBytes: number;
  /** The limiter's store (for viewer ids; the beacon ingest counts its requests in its own step). */
  rate: { redis: Redis; prefix: string };
  /** Anonymous viewer ids per client address per window. */
  issue: { max: number; windowSec: number };
  verify: (token: string) => AccessClaims;
  viewers: ViewerIds;
}

const ANALYSTS = ['analyst', 'admin'] as const;
/** Beacon bodies as received, by request. */
const rawBodies = new WeakMap<FastifyRequest, string>();

/**
 * The signed-in sender of a request, if it sent a valid token: the Authorization header, or (sendBeacon
 * sets no headers) the batch's `accessToken`. Never a URL's query: proxies and access logs keep URLs.
 */
function sender(req: FastifyRequest, verify: (t: string) => AccessClaims): AccessClaims | null {
  // the rate limiter's key and the handler may both ask: one signature check per request
  const known = senders.get(req);
  if (known !== undefined) return known;
  const found = verifiedSender(req, verify);
  senders.set(req, found);
  return found;
}
const senders = new WeakMap<FastifyRequest, AccessClaims | null>();

function verifiedSender(req: FastifyRequest, verify: (t: string) => AccessClaims): AccessClaims | null {
  const header = req.headers.authorization;
  const inBody = (req.body as { accessToken?: unknown } | null | undefined)?.accessToken;
  const token = header?.startsWith('Bearer ')
    ? header.slice(7)
    : typeof inBody === 'string'
      ? inBody
      : undefined;
  if (!token) return null;
  try {
    return verify(token);
  } catch {
    return null; // an expired token must not lose a student's events
  }
}

/**
 * Viewing analytics: the public beacon ingest, the bureau dashboard's read API (analysts and admins),
 * each table also as CSV (`.csv` or `?format=csv`), and a live lesson's audience for its studio.
 */
export function analyticsRoutes(
  ingest: AnalyticsIngestService,
  query: AnalyticsQueryService,
  audience: LessonAudienceService,
  opts: AnalyticsRouteOptions,
): FastifyPluginAsyncZod {
  return async (app) => {
    // JSON bodies, kept as received too (the ingest stores a valid batch as it came); and
    // navigator.sendBeacon's text/plain holding the same JSON. This plugin's scope only.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (req, body, done) => {
      try {
        const text = String(body);
        const parsed = JSON.parse(text) as unknown;
        if (req.url.startsWith('/api/analytics/beacons')) rawBodies.set(req, text);
        done(null, parsed);
      } catch {
        const err = new Error('malformed JSON') as Error & { statusCode: number };
        err.name = 'SyntaxError';
        err.statusCode = 400;
        done(err, undefined);
      }
    });
    // For the routes that name a rateLimit (viewer ids); the beacon ingest counts its own.
    await app.register(rateLimit, {
      global: false,
      redis: opts.rate.redis,
      nameSpace: `${opts.rate.prefix}:an:rl:`,
      // Redis down: let the request through (the route's own Redis call answers 503 if it needs one).
      skipOnError: true,
      errorResponseBuilder: (_req, ctx) =>
        new AppError('RATE_LIMITED', `too many requests; retry in ${ctx.after}`),
    });

    // The per-client rate (the signed-in user, else the batch's signed viewer: ids cannot be made up, so
    // a new one per batch gains nothing) is counted by the ingest in the same Redis step that stores
    // the batch: one round trip per request, the city's most frequent one.
    app.post(
      '/api/analytics/beacons',
      { bodyLimit: opts.maxBatchBytes, config: { access: 'public' } },
      async (req, reply) => {
        try {
          const claims = sender(req, opts.verify);
          const res = await ingest.ingest(
            req.body,
            rawBodies.get(req),
            claims ? { user: claims.sub, role: claims.role } : null,
          );
          return await reply.code(202).send(res);
        } catch (err) {
          if (err instanceof RetryLater) void reply.header('retry-after', String(err.retryAfterSec));
          throw err;
        }
      },
    );

    // The viewer id a player signs its beacons with: a signed-in user's own, else a new anonymous one,
    // so many per client address per window (the budget that bounds what anonymous clients can count).
    app.post(
      '/api/analytics/viewer',
      {
        config: {
          access: 'public',
          rateLimit: {
            max: opts.issue.max,
            timeWindow: opts.issue.windowSec * 1000,
            keyGenerator: (req) => {
              const user = sender(req, opts.verify);
              return user ? `vu:${user.sub}` : `va:${req.ip}`;
            },
            errorResponseBuilder: (_req, ctx) =>
              new AppError(
                'RATE_LIMITED',
                `too many new viewer ids from here; keep the one you have (retry in ${ctx.after})`,
              ),
          },
        },
        schema: { response: { 200: AnalyticsViewer } },
      },
      async (req, reply): Promise<AnalyticsViewer> => {
        void reply.header('cache-control', 'no-store');
        const user = sender(req, opts.verify);
        return { viewerId: user ? opts.viewers.of(`user:${user.sub}`) : opts.viewers.anonymous() };
      },
    );

    const send = async (
      req: FastifyRequest,
      reply: FastifyReply,
      table: AnalyticsTable,
      csv: boolean,
      lang: AnalyticsLang | undefined,
      data: unknown,
      rows: (l: AnalyticsLang) => CsvRow[],
      dim?: BreakdownDim,
    ) => {
      if (!csv) return data;
      const l = csvLang(lang, req.headers['accept-language']);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${analyticsCsvName(table, dim)}.csv"`)
        .send(toCsv(table, rows(l), l, dim));
    };
    // Each table answers at /name and /name.csv.
    const both = (name: string) => [`/api/analytics/${name}`, `/api/analytics/${name}.csv`];
    const wantsCsv = (req: FastifyRequest, format: string | undefined) =>
      format === 'csv' || req.url.split('?')[0]!.endsWith('.csv');

    for (const url of both('summary')) {
      app.get(
        url,
        { config: { access: ANALYSTS }, schema: { querystring: AnalyticsRangeQuery } },
        async (req, reply) => {
          const s = await query.summary(dayRange(req.query.from, req.query.to));
          return send(req, reply, 'summary', wantsCsv(req, req.query.format), req.query.lang, s, (l) =>
            csvRows.summary(s, l),
          );
        },
      );
    }
    for (const url of both('timeseries')) {
      app.get(
        url,
        { config: { access: ANALYSTS }, schema: { querystring: AnalyticsRangeQuery } },
        async (req, reply) => {
          const t = await query.timeseries(dayRange(req.query.from, req.query.to));
          return send(req, reply, 'timeseries', wantsCsv(req, req.query.format), req.query.lang, t, () =>
            csvRows.timeseries(t),
          );
        },
      );
    }
    for (const url of both('top-lessons')) {
      app.get(
        url,
        { config: { access: ANALYSTS }, schema: { querystring: TopLessonsQuery } },
        async (req, reply) => {
          const t = await query.topLessons(dayRange(req.query.from, req.query.to), req.query.limit);
          return send(req, reply, 'top-lessons', wantsCsv(req, req.query.format), req.query.lang, t, (l) =>
            csvRows.topLessons(t, l),
          );
        },
      );
    }
    for (const url of both('breakdown')) {
      app.get(
        url,
        { config: { access: ANALYSTS }, schema: { querystring: BreakdownQuery } },
        async (req, reply) => {
          const b = await query.breakdown(
            dayRange(req.query.from, req.query.to),
            req.query.dim,
            req.query.district,
          );
          return send(
            req,
            reply,
            'breakdown',
            wantsCsv(req, req.query.format),
            req.query.lang,
            b,
            (l) => csvRows.breakdown(b, l),
            req.query.dim,
          );
        },
      );
    }
    for (const url of both('quality')) {
      app.get(
        url,
        { config: { access: ANALYSTS }, schema: { querystring: AnalyticsRangeQuery } },
        async (req, reply) => {
          const q = await query.quality(dayRange(req.query.from, req.query.to));
          return send(req, reply, 'quality', wantsCsv(req, req.query.format), req.query.lang, q, () =>
            csvRows.quality(q),
          );
        },
      );
    }
    // The service narrows teachers and admins to the lesson's own teacher or an admin.
    app.get(
      '/api/lessons/:id/live/audience',
      { config: { access: ['teacher', 'admin', 'analyst'] }, schema: { params: LessonParams } },
      (req) => audience.audience(actorOf(req), req.params.id),
    );
    app.get(
      '/api/analytics/retention/:lessonId',
      { config: { access: ANALYSTS }, schema: { params: RetentionParams, querystring: RetentionQuery } },
      async (req, reply) => {
        const id = req.params.lessonId.replace(/\.csv$/, '');
        const r = await query.retention(id);
        const csv = req.query.format === 'csv' || req.params.lessonId.endsWith('.csv');
        return send(req, reply, 'retention', csv, req.query.lang, r, () => csvRows.retention(r));
      },
    );
  };
}
