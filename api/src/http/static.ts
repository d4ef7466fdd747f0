import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { problem } from '@sky/contracts';
import { LIVE_PLAYLIST_CACHE, type MediaStorage } from '@sky/contracts/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What the media store answers for each type we write: HLS playlists and segments, posters, storyboards. */
const MEDIA_TYPES = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  ts: 'video/mp2t',
  mp4: 'video/mp4',
  jpg: 'image/jpeg',
  vtt: 'text/vtt; charset=utf-8',
} as const;
type MediaExt = keyof typeof MEDIA_TYPES;

/**
 * The public part of the media store: packaged lesson versions and live HLS. Everything else in it (raw
 * uploads, live recordings, the sample library, the bridge's dot files, temp folders) is private.
 */
const PUBLIC_FOLDERS: { folder: RegExp; types: readonly MediaExt[] }[] = [
  { folder: /^lessons\/[\w-]+\/[\w-]+\//, types: ['m3u8', 'm4s', 'ts', 'mp4', 'jpg', 'vtt'] },
  { folder: /^live\/[\w-]+\/(?:web|tv)\//, types: ['m3u8', 'm4s', 'ts', 'mp4'] },
];

/** Every media answer, 404s included: never sniffed into a page, and a sandboxed opaque origin if opened. */
export const MEDIA_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
  // Public lessons, played from other origins too (the TV gateway's 10-foot UI, embeds, set-top boxes).
  'access-control-allow-origin': '*',
  'cross-origin-resource-policy': 'cross-origin',
} as const;

/**
 * How a path of the media store is served, or undefined when it is not public: a path inside a public
 * folder, each segment a plain name (no dot files, no `..`), ending in a type we write.
 */
export function publicMedia(rel: string): { type: string; cacheControl: string } | undefined {
  if (!/^[\w-][\w.-]*(?:\/[\w-][\w.-]*)*$/.test(rel)) return undefined;
  const ext = rel.slice(rel.lastIndexOf('.') + 1);
  const place = PUBLIC_FOLDERS.find((p) => p.folder.test(rel));
  if (!place || !(place.types as readonly string[]).includes(ext)) return undefined;
  const live = rel.startsWith('live/');
  // As deploy/nginx.conf says it: live playlists change every segment (1 s), so browsers ask again on every
  // reload and caching edges keep them 1 s; live init segments likewise. Segments (named by their bridge's
  // making and run, never reused) and packaged lessons never change once written.
  const LIVE_PLAYLIST = LIVE_PLAYLIST_CACHE;
  const cacheControl =
    ext === 'm3u8'
      ? live
        ? LIVE_PLAYLIST
        : 'public, max-age=2'
      : live && ext === 'mp4'
        ? LIVE_PLAYLIST
        : 'public, max-age=31536000, immutable';
  return { type: MEDIA_TYPES[ext as MediaExt], cacheControl };
}

const relativeOf = (path: string, root: string) => relative(root, path).split(sep).join('/');

/**
 * A Range header we answer with 206: one range, `bytes=a-b`, `bytes=a-` or `bytes=-n`; undefined for none or
 * for a form we answer whole (several ranges), 'unsatisfiable' when it starts beyond the end.
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  return end < start ? undefined : { start, end };
}

/**
 * Packaged lesson versions and live HLS from the object store (S3): the same public rules, types and
 * caching as the folder, with byte ranges (players seek and I-frame playlists address ranges).
 */
function lessonObjects(store: MediaStorage) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const notFound = () =>
      reply
        .code(404)
        .type('application/problem+json')
        .send(problem('NOT_FOUND', 'no such media', req.url));
    let rel: string;
    try {
      rel = decodeURIComponent(req.url.split('?')[0]!.slice('/media/'.length));
    } catch {
      return notFound();
    }
    const served = publicMedia(rel);
    if (!served) return notFound();
    reply.header('content-type', served.type).header('cache-control', served.cacheControl);
    reply.header('accept-ranges', 'bytes');
    if (req.method === 'GET' && req.headers.range === undefined) {
      // one read, whose length is the body's: a live playlist replaced between a HEAD and a GET would
      // otherwise be sent with the old one's length
      const whole = await store.get(rel);
      if (!whole) return notFound();
      return reply.header('content-length', whole.size).send(whole.body);
    }
    const head = await store.head(rel);
    if (!head) return notFound();
    const range = byteRange(req.headers.range, head.size);
    if (range === 'unsatisfiable')
      return reply.code(416).header('content-range', `bytes */${head.size}`).send();
    if (req.method === 'HEAD') return reply.header('content-length', head.size).send();
    const got = await store.get(rel, range);
    if (!got) return notFound();
    if (got.range) {
      reply.code(206).header('content-range', `bytes ${got.range.start}-${got.range.end}/${got.range.total}`);
      reply.header('content-length', got.range.end - got.range.start + 1);
    } else reply.header('content-length', got.size);
    return reply.send(got.body);
  };
}

/**
 * Serves /media/* from the media store, and the built web client (with SPA fallback) when present. With
 * `lessonStore` (S3), packaged lessons and live HLS come from it (the sfu stores each live segment before
 * the playlist naming it).
 */
export async function registerStatic(
  app: FastifyInstance,
  mediaDir: string,
  webDist: string | undefined,
  lessonStore?: MediaStorage,
) {
  await app.register(async (media) => {
    media.addHook('onRequest', async (_req, reply) => {
      reply.headers(MEDIA_SECURITY_HEADERS);
    });
    if (lessonStore)
      for (const folder of ['lessons', 'live'])
        media.route({
          method: ['GET', 'HEAD'],
          url: `/media/${folder}/*`,
          handler: lessonObjects(lessonStore),
        });
    await media.register(fastifyStatic, {
      root: mediaDir,
      prefix: '/media/',
      decorateReply: false,
      index: false,
      dotfiles: 'deny',
      // the plugin's path is decoded and normalised: the same rule nginx applies to $uri
      allowedPath: (pathname) => publicMedia(pathname.replace(/^\/+/, '')) !== undefined,
      // our own Cache-Control per file type (the plugin's default would overwrite it with max-age=0)
      cacheControl: false,
      setHeaders: (res, path) => {
        const served = publicMedia(relativeOf(path, mediaDir));
        if (!served) return;
        res.setHeader('Content-Type', served.type);
        res.setHeader('Cache-Control', served.cacheControl);
      },
    });
  });
  const spa = webDist && existsSync(join(webDist, 'index.html')) ? webDist : undefined;
  if (spa) {
    await app.register(fastifyStatic, {
      root: spa,
      prefix: '/',
      wildcard: false,
      cacheControl: false,
      // the build writes .br and .gz beside each text asset (web-client/vite.config.ts): sent as they are
      preCompressed: true,
      setHeaders: (res, path) => {
        res.setHeader(
          'Cache-Control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
        res.setHeader('Vary', 'Accept-Encoding');
      },
    });
  }
  app.setNotFoundHandler((req, reply) => {
    const isPage = req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/media/');
    if (spa && isPage)
      return reply.type('text/html').header('Cache-Control', 'no-cache').sendFile('index.html', spa);
    return reply
      .code(404)
      .type('application/problem+json')
      .send(problem('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, req.url));
  });
}
