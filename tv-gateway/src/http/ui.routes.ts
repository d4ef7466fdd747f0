import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The 10-foot UI (web-client's TV build, relative asset paths) at the gateway's root, so it works both
 * on the gateway's own host and behind a path prefix such as /tv/.
 */
export async function uiRoutes(app: FastifyInstance, { dir }: { dir: string | undefined }) {
  if (!dir || !existsSync(dir)) {
    app.get('/', (_req, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('电视界面尚未构建 (TV UI not built: set TV_UI_DIR)'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    // index.html changes with each build; hashed assets never do.
    setHeaders: (res, path) => {
      res.setHeader(
        'cache-control',
        path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
}
