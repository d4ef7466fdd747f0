import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import { problemFromError, type AccessClaims, type UploadMetadata } from '@sky/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { join } from 'node:path';
import type { UploadService } from '../services/upload.service.js';

const PATH = '/api/uploads';

/**
 * tus 1.0 resumable uploads at /api/uploads: a teacher on a weak line resumes where the connection
 * dropped. The role guard runs first (teacher or admin); tus gets the raw request.
 */
export function uploadRoutes(
  uploads: UploadService,
  opts: { dir: string; maxBytes: number; verify: (token: string) => AccessClaims },
): FastifyPluginAsync {
  return async (app) => {
    const actorOf = (req: { headers: Headers }) =>
      opts.verify((req.headers.get('authorization') ?? '').replace(/^Bearer /, ''));
    const tus = new TusServer({
      path: PATH,
      datastore: new FileStore({ directory: opts.dir }),
      maxSize: opts.maxBytes,
      relativeLocation: true,
      respectForwardedHeaders: true,
      async onUploadCreate(req, upload) {
        await uploads.authorize(actorOf(req), upload.metadata ?? {});
        return {};
      },
      async onUploadFinish(req, upload) {
        const meta = upload.metadata as unknown as UploadMetadata;
        await uploads.finish(actorOf(req), join(opts.dir, upload.id), upload.id, meta);
        return {};
      },
      // The edge of every tus answer: tus's own protocol errors as they are; whatever our hooks threw
      // as problem+json with the code's status (AppError), never a 500 carrying an internal message.
      onResponseError(_req, err) {
        if (!(err instanceof Error) || 'status_code' in err) return undefined;
        const body = problemFromError(err, PATH);
        if (body.status >= 500) app.log.error({ err }, 'upload failed');
        return { status_code: body.status, body: JSON.stringify(body) };
      },
    });
    // tus reads the body itself: leave application/offset+octet-stream unparsed.
    app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));
    const handler = async (
      req: { raw: import('node:http').IncomingMessage },
      reply: { hijack(): void; raw: import('node:http').ServerResponse },
    ) => {
      reply.hijack();
      await tus.handle(req.raw, reply.raw);
    };
    const access = ['teacher', 'admin'] as const;
    for (const url of [PATH, `${PATH}/*`]) {
      app.route({ method: ['POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS'], url, config: { access }, handler });
    }
  };
}
