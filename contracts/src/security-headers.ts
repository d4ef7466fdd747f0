// Security headers for every HTTP service (helmet), one policy for the platform.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

type Directives = Record<string, string[]>;

/**
 * The platform's pages (the web app, the 10-foot UI) load only their own bundles: no inline script, no
 * eval, no plugins, never in a frame. hls.js plays through blob: media and may start a blob: worker;
 * style attributes are allowed (chart tooltips write them; no script runs from one), <style> is not.
 */
const BASE: Directives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'style-src-attr': ["'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'", 'data:'],
  'media-src': ["'self'", 'blob:'],
  'worker-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export interface SecurityHeaderOptions {
  /** Other origins the pages read from: the sfu (socket.io), a media host. Their ws(s) twins are added. */
  connect?: readonly string[];
  /** Other origins the pages play video or show images from (a media host). */
  media?: readonly string[];
  /**
   * Cross-Origin-Resource-Policy: `same-origin` unless other sites' players read this service's answers
   * (the TV gateway's playlists; the api's /media for the gateway's UI).
   */
  resourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin';
  /**
   * Route prefixes served by a third-party UI (swagger UI, bull-board) that needs a directive relaxed:
   * the directives given replace the platform's for routes under that prefix only.
   */
  relaxed?: Record<string, Directives>;
  /** Route prefixes whose answers other origins may embed or read (media): CORP cross-origin. */
  crossOrigin?: readonly string[];
}

const originOf = (url: string) => new URL(url).origin;
/** A route's own policy (relaxed or cross-origin), in its config. */
const POLICY = Symbol('securityHeaders');
type SetHeaders = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
const noop = () => undefined;
const wsTwin = (origin: string) => origin.replace(/^http/, 'ws');

/**
 * CSP, frame-ancestors 'none', nosniff, Referrer-Policy no-referrer and the rest of helmet's set on every
 * answer of `app` (pages, JSON, media, errors and 404s alike). HSTS only on answers that went out over
 * https (directly or, with trustProxy, as X-Forwarded-Proto says): a plain-http deployment must not be
 * told to insist on https it does not have.
 */
export function registerSecurityHeaders(app: FastifyInstance, opts: SecurityHeaderOptions = {}): void {
  const connect = [...new Set((opts.connect ?? []).map(originOf))];
  const media = [...new Set((opts.media ?? []).map(originOf))];
  const directives: Directives = {
    ...BASE,
    'connect-src': [...BASE['connect-src']!, ...connect, ...connect.map(wsTwin), ...media],
    'media-src': [...BASE['media-src']!, ...media],
    'img-src': [...BASE['img-src']!, ...media],
  };
  const options = (extra: Directives = {}, policy = opts.resourcePolicy ?? 'same-origin'): HelmetOptions => ({
    contentSecurityPolicy: { useDefaults: false, directives: { ...directives, ...extra } },
    crossOriginResourcePolicy: { policy },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: false,
  });
  // Each policy's helmet is built once, here: @fastify/helmet built one per request (≈ 20 µs of parsing
  // the directives again for every answer, a seventh of a beacon's cost). The headers are the same.
  const platform = helmet(options());
  // per-prefix policies go into each route's config (onRoute runs as each route is added)
  const relaxed = Object.entries(opts.relaxed ?? {});
  const crossOrigin = opts.crossOrigin ?? [];
  app.addHook('onRoute', (route) => {
    const relax = relaxed.find(([prefix]) => route.url.startsWith(prefix))?.[1];
    const shared = crossOrigin.some((prefix) => route.url.startsWith(prefix));
    if (!relax && !shared) return;
    const policy = helmet(options(relax, shared ? 'cross-origin' : opts.resourcePolicy));
    route.config = { ...route.config, [POLICY]: policy } as NonNullable<typeof route.config>;
  });
  // every answer (pages, JSON, media, errors, 404s, and the guard's refusals, whose hook comes after)
  app.addHook('onRequest', (req, reply, done) => {
    const own = (req.routeOptions.config as { [POLICY]?: SetHeaders } | undefined)?.[POLICY];
    (own ?? platform)(req.raw, reply.raw, noop);
    done();
  });
  app.addHook('onSend', async (req, reply) => {
    if (req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
  });
}
