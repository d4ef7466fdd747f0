import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { problem } from '@sky/contracts';
import type { FastifyInstance } from 'fastify';

/** Lesson media: playlists must be re-read, segments never change once written; any origin may play them. */
function mediaCacheHeaders(res: { setHeader(k: string, v: string): void }, path: string): void {
  // Public lessons, played from other origins too (the TV gateway's 10-foot UI, embeds).
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (path.endsWith('.m3u8')) {
    // Live playlists change every segment (1 s): a cached copy would only add delay.
    res.setHeader('Cache-Control', /[/\\]live[/\\]/.test(path) ? 'no-cache' : 'public, max-age=2');
    res.setHeader('Content-Type', 'application/vnd.apple.mpegurl');
  } else if (/\.(ts|m4s|mp4|aac|jpg|vtt)$/.test(path)) {
    // A live lesson's init segments (init_<run>.mp4) are named per bridge run, and a bridge that starts
    // over (a new sfu process) numbers its runs from 0 again: revalidated, never cached for a year.
    const liveInit = /[/\\]live[/\\]/.test(path) && path.endsWith('.mp4');
    res.setHeader('Cache-Control', liveInit ? 'no-cache' : 'public, max-age=31536000, immutable');
    if (path.endsWith('.ts')) res.setHeader('Content-Type', 'video/mp2t');
    if (path.endsWith('.m4s')) res.setHeader('Content-Type', 'video/iso.segment');
  }
}

/** Serves /media/* from the media store, and the built web client (with SPA fallback) when present. */
export async function registerStatic(app: FastifyInstance, mediaDir: string, webDist: string | undefined) {
  await app.register(fastifyStatic, {
    root: mediaDir,
    prefix: '/media/',
    decorateReply: false,
    index: false,
    dotfiles: 'deny',
    // our own Cache-Control per file type (the plugin's default would overwrite it with max-age=0)
    cacheControl: false,
    setHeaders: mediaCacheHeaders,
  });
  const spa = webDist && existsSync(join(webDist, 'index.html')) ? webDist : undefined;
  if (spa) {
    await app.register(fastifyStatic, {
      root: spa,
      prefix: '/',
      wildcard: false,
      cacheControl: false,
      setHeaders: (res, path) => {
        res.setHeader(
          'Cache-Control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
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
