import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import type { DataStore, Locker } from '@tus/utils';
import { problemFromError, type AccessClaims, type UploadMetadata } from '@sky/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { uploadKey, type UploadService } from '../services/upload.service.js';

const PATH = '/api/uploads';
/** A bucket upload's id is its object key (`uploads/<lesson>/<uuid><ext>`); its URL carries it base64url. */
const BUCKET_KEY = /^uploads\/[a-f0-9]{24}\/[a-f0-9-]{36}(\.[a-z0-9]{1,7})?$/;

/**
 * tus 1.0 resumable uploads at /api/uploads: a teacher on a weak line resumes where the connection
 * dropped. The role guard runs first (teacher or admin); tus gets the raw request.
 */
export function uploadRoutes(
  uploads: UploadService,
  opts: {
    dir: string;
    maxBytes: number;
    verify: (token: string) => AccessClaims;
    /** Locks shared by every api process (Redis): any of them may take an upload's next PATCH. */
    locker: Locker;
    /**
     * Where uploads in progress are kept when media is on S3: the bucket itself, each upload at the key
     * it keeps as the lesson's source. Absent: `dir`, a folder of this machine.
     */
    bucket?: DataStore;
  },
): FastifyPluginAsync {
  return async (app) => {
    const actorOf = (req: { headers: Headers }) =>
      opts.verify((req.headers.get('authorization') ?? '').replace(/^Bearer /, ''));
    const { bucket } = opts;
    const naming = bucket
      ? {
          // named by what it is for, checked before anything is stored (onUploadCreate checks the actor)
          namingFunction: (_req: Request, metadata?: Record<string, string | null>) =>
            uploadKey(uploads.parseMetadata(metadata ?? {}), randomUUID()),
          generateUrl: (_req: Request, url: { path: string; id: string }) =>
            `${url.path}/${Buffer.from(url.id).toString('base64url')}`,
          getFileIdFromRequest: (_req: Request, last?: string) => {
            const id = last === undefined ? '' : Buffer.from(last, 'base64url').toString();
            return BUCKET_KEY.test(id) ? id : undefined;
          },
        }
      : {};
    const tus = new TusServer({
      path: PATH,
      datastore: bucket ?? new FileStore({ directory: opts.dir }),
      locker: opts.locker,
      maxSize: opts.maxBytes,
      relativeLocation: true,
      respectForwardedHeaders: true,
      ...naming,
      async onUploadCreate(req, upload) {
        await uploads.authorize(actorOf(req), upload.metadata ?? {});
        return {};
      },
      async onUploadFinish(req, upload) {
        const meta = upload.metadata as unknown as UploadMetadata;
        if (bucket) await uploads.finishInBucket(actorOf(req), upload.id, meta);
        else await uploads.finish(actorOf(req), join(opts.dir, upload.id), upload.id, meta);
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
