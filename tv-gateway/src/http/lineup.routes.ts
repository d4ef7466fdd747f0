import { createHash } from 'node:crypto';
import {
  AppError,
  BEIJING_OFFSET,
  beijingToday,
  ChannelGuide,
  GuideProgramme,
  IsoDate,
  TvChannel,
} from '@sky/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderM3u } from '../services/m3u.js';
import { renderXmltv, type GuideListing } from '../services/xmltv.js';

/** What the lineup needs from ChannelService. */
export interface LineupSource {
  channels(): Promise<TvChannel[]>;
  guide(fromSec: number, toSec: number, channelId?: string): Promise<GuideListing[]>;
  /** Called after a schedule change, so rendered copies are dropped at once rather than within a minute. */
  onInvalidate?(listener: () => void): void;
}

export interface LineupOptions {
  channels: LineupSource;
  publicUrl: string;
  catchupDays: number;
  /** Epoch seconds; default the wall clock. */
  now?: () => number;
}

const DAY = 86_400;
/** The XMLTV guide looks this far ahead. */
const AHEAD_DAYS = 2;
/** A guide or lineup is rendered at most once a minute per variant; a flood of boxes reads the copy. */
const CACHE_SEC = 60;
/** Variants (device tokens, custom windows) kept per minute; past that, requests render afresh. */
const CACHE_ENTRIES = 2000;
/** The 10-foot UI's guide of a channel reaches to the end of the day after today. */
const UI_AHEAD_DAYS = 1;
/** Longest window one guide request may ask for. */
const MAX_SPAN_DAYS = 40;
const LINEUP_MAX_AGE = 'max-age=300';
/**
 * A request carrying a device token (query or header) is one device's: shared caches must not answer
 * others with it. The rest is public, like a broadcast.
 */
const scope = (req: FastifyRequest<{ Querystring: { token?: string | undefined } }>) =>
  req.query.token !== undefined || req.headers.authorization !== undefined ? 'private' : 'public';

const BEIJING_SEC =
  (Date.parse('1970-01-01T00:00:00Z') - Date.parse(`1970-01-01T00:00:00${BEIJING_OFFSET}`)) / 1000;
/** 00:00 Beijing time of the day containing `sec`. */
const beijingMidnight = (sec: number) => Math.floor((sec + BEIJING_SEC) / DAY) * DAY - BEIJING_SEC;

const Token = z.string().min(1).max(200);
const ChannelId = z.string().regex(/^[\w.-]{1,64}$/, 'a channel id');
const DateTime = z.iso.datetime({ offset: true });
/** A date (Beijing day: `from` at its start, `to` through its end) or a date-time with an offset. */
const instant = (edge: 'start' | 'end') =>
  z
    .string()
    .refine((s) => IsoDate.safeParse(s).success || DateTime.safeParse(s).success, {
      message: 'an ISO date (2026-03-02) or date-time with offset (2026-03-02T08:00:00+08:00)',
    })
    .transform((s) => {
      if (DateTime.safeParse(s).success) return Date.parse(s) / 1000;
      const start = Date.parse(`${s}T00:00:00${BEIJING_OFFSET}`) / 1000;
      return edge === 'start' ? start : start + DAY;
    });
const Window = { from: instant('start').optional(), to: instant('end').optional() };
const GuideXmlQuery = z.object({ ...Window, token: Token.optional() });
const GuideJsonQuery = z.object({ ...Window, channel: ChannelId.optional(), token: Token.optional() });
/** `YYYY-MM-DD` `days` after the Beijing date `date`. */
const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY * 1000).toISOString().slice(0, 10);
const TokenQuery = z.object({ token: Token.optional() });

/** The requested window, defaults filled in; a window that is empty or too long names `to`. */
function windowOf(
  q: { from?: number | undefined; to?: number | undefined },
  def: { from: number; to: number },
) {
  const from = q.from ?? def.from;
  const to = q.to ?? def.to;
  const bad = (message: string) =>
    new AppError('VALIDATION_FAILED', `querystring.to: ${message}`, {
      errors: [{ path: 'querystring.to', message }],
    });
  if (to <= from) throw bad('must be after from');
  if (to - from > MAX_SPAN_DAYS * DAY) throw bad(`at most ${MAX_SPAN_DAYS} days after from`);
  return { from, to };
}

interface Rendered {
  body: Buffer;
  etag: string;
}

/**
 * Rendered bodies of the current minute, by variant. A miss is shared by every request that arrives
 * while it renders; a new minute (or `clear`) drops the lot.
 */
class MinuteCache {
  private minute = -1;
  private entries = new Map<string, Promise<Rendered>>();

  get(nowSec: number, key: string, render: () => Promise<string>): Promise<Rendered> {
    const minute = Math.floor(nowSec / CACHE_SEC);
    if (minute !== this.minute) {
      this.minute = minute;
      this.entries.clear();
    }
    const hit = this.entries.get(key);
    if (hit) return hit;
    const p = render().then((text) => {
      const body = Buffer.from(text, 'utf8');
      return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    });
    if (this.entries.size < CACHE_ENTRIES) {
      this.entries.set(key, p);
      p.catch(() => {
        if (this.entries.get(key) === p) this.entries.delete(key);
      });
    }
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Whether If-None-Match names this ETag (weak or strong, or `*`). */
function notModified(req: FastifyRequest, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

function sendCached(
  req: FastifyRequest,
  reply: FastifyReply,
  r: Rendered,
  type: string,
  cacheControl: string,
) {
  reply.header('etag', r.etag).header('cache-control', cacheControl);
  if (notModified(req, r.etag)) return reply.code(304).send();
  return reply.type(type).send(r.body);
}

/**
 * The lineup for set-top boxes and IPTV players — the M3U and the XMLTV guide — and the same as JSON
 * for the 10-foot UI. A token in the query passes through into the URLs the M3U lists.
 */
export async function lineupRoutes(app: FastifyInstance, o: LineupOptions) {
  const http = app.withTypeProvider<ZodTypeProvider>();
  const now = o.now ?? (() => Date.now() / 1000);
  const publicUrl = o.publicUrl.replace(/\/$/, '');
  const cache = new MinuteCache();
  const withToken = (path: string, token: string | undefined) =>
    token === undefined ? `${publicUrl}${path}` : `${publicUrl}${path}?token=${encodeURIComponent(token)}`;
  o.channels.onInvalidate?.(() => cache.clear());

  http.get('/channels.m3u', { schema: { querystring: TokenQuery } }, async (req, reply) => {
    const { token } = req.query;
    const r = await cache.get(now(), `m3u|${token ?? ''}`, async () =>
      renderM3u(await o.channels.channels(), {
        guideUrl: withToken('/guide.xml', token),
        catchupDays: o.catchupDays,
        ...(token === undefined ? {} : { token }),
      }),
    );
    return sendCached(req, reply, r, 'audio/x-mpegurl; charset=utf-8', `${scope(req)}, ${LINEUP_MAX_AGE}`);
  });

  http.get('/guide.xml', { schema: { querystring: GuideXmlQuery } }, async (req, reply) => {
    // Whole minutes, so every request of a minute asks for (and caches) the same window.
    const sec = now();
    const t = Math.floor(sec / CACHE_SEC) * CACHE_SEC;
    const w = windowOf(req.query, { from: t - o.catchupDays * DAY, to: t + AHEAD_DAYS * DAY });
    // The guide holds no URL with a token: one body serves every device.
    const r = await cache.get(sec, `xml|${w.from}|${w.to}`, async () => {
      const [channels, programmes] = await Promise.all([
        o.channels.channels(),
        o.channels.guide(w.from, w.to),
      ]);
      return renderXmltv(channels, programmes);
    });
    return sendCached(req, reply, r, 'application/xml; charset=utf-8', `${scope(req)}, ${LINEUP_MAX_AGE}`);
  });

  http.get(
    '/api/channels',
    { schema: { querystring: TokenQuery, response: { 200: z.array(TvChannel) } } },
    async (req, reply) => {
      reply.header('cache-control', `${scope(req)}, ${LINEUP_MAX_AGE}`);
      return o.channels.channels();
    },
  );

  http.get(
    '/api/guide',
    { schema: { querystring: GuideJsonQuery, response: { 200: z.array(GuideProgramme) } } },
    async (req, reply) => {
      const today = beijingMidnight(now());
      const w = windowOf(req.query, { from: today, to: today + 2 * DAY });
      const { channel } = req.query;
      if (channel !== undefined && !(await o.channels.channels()).some((c) => c.id === channel)) {
        throw new AppError('NOT_FOUND', `no TV channel ${channel}`);
      }
      // Live flags and catch-up links move with the clock: short-lived.
      reply.header('cache-control', `${scope(req)}, max-age=30`);
      return o.channels.guide(w.from, w.to, channel);
    },
  );

  http.get(
    '/api/channels/:id/guide',
    {
      schema: {
        params: z.strictObject({ id: ChannelId }),
        querystring: TokenQuery,
        response: { 200: ChannelGuide },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await o.channels.channels()).some((c) => c.id === id)) {
        throw new AppError('NOT_FOUND', `no TV channel ${id}`);
      }
      // Every day catch-up reaches, from its first midnight, to the end of tomorrow (Beijing days)
      const today = beijingToday(now() * 1000);
      const days = Array.from({ length: o.catchupDays + 1 + UI_AHEAD_DAYS }, (_, i) =>
        addDays(today, i - o.catchupDays),
      );
      const from = Date.parse(`${days[0]!}T00:00:00${BEIJING_OFFSET}`) / 1000;
      const to = Date.parse(`${days.at(-1)!}T00:00:00${BEIJING_OFFSET}`) / 1000 + DAY;
      reply.header('cache-control', `${scope(req)}, max-age=30`);
      return {
        channelId: id,
        today,
        catchupDays: o.catchupDays,
        days,
        programmes: await o.channels.guide(from, to, id),
      };
    },
  );
}
