// The media store in an S3 bucket (AWS, or any S3 API: Swift's s3api, Ceph RGW, MinIO). The only file that
// knows the AWS SDK. S3 has no rename: a rendition is published by uploading its masters after everything
// else, so a reader that finds a master finds every file it lists.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
  type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  checkKey,
  filesUnder,
  mediaPutOptions,
  MediaNotFound,
  type MediaStorage,
  type ObjectInfo,
  type PutOptions,
  type S3Settings,
} from './storage.js';

/** Files above this go up in parts (lib-storage); segments and playlists are one PUT. */
const PART_BYTES = 8 * 1024 * 1024;
/** Uploads of one tree at once: enough to hide latency, few enough not to starve the encoder's uplink. */
const PARALLEL = 8;

/** The storage port on a bucket, with its S3 client (bucket-level work: create, list, tests' checks). */
export type S3Storage = MediaStorage & { client: S3Client };

/** The S3 client's options for these settings (the storage port's, and tus's store for uploads). */
export function s3ClientConfig(s: S3Settings): S3ClientConfig {
  return {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.accessKeyId && s.secretAccessKey
      ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } }
      : {}),
    // CRC trailers in aws-chunked bodies are an AWS novelty most S3 servers refuse: checksum only when required
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export function createS3Storage(s: S3Settings): S3Storage {
  const client = new S3Client(s3ClientConfig(s));
  const Bucket = s.bucket;

  const missing = (err: unknown) =>
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound');

  const put = async (key: string, body: Readable | Uint8Array | string, opts: PutOptions) => {
    const upload = new Upload({
      client,
      partSize: PART_BYTES,
      queueSize: 2,
      params: {
        Bucket,
        Key: checkKey(key),
        Body: body,
        ...(opts.contentType ? { ContentType: opts.contentType } : {}),
        ...(opts.cacheControl ? { CacheControl: opts.cacheControl } : {}),
      },
    });
    await upload.done();
  };
  const putFile = (key: string, file: string, opts: PutOptions = mediaPutOptions(key)) =>
    put(key, createReadStream(file), opts);

  /** Runs `work` over `items`, `PARALLEL` at a time; the first failure stops the rest. */
  const eachParallel = async <T>(items: T[], work: (item: T) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
        while (next < items.length) await work(items[next++]!);
      }),
    );
  };

  const list = async (prefix: string): Promise<ObjectInfo[]> => {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket,
          Prefix: checkKey(prefix),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === prefix || o.Key?.startsWith(`${prefix}/`)) out.push(toInfo(o));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };

  const storage: MediaStorage & { client: S3Client } = {
    kind: 's3',
    client,
    putFile,
    putBytes: (key, body, opts = mediaPutOptions(key)) => put(key, body, opts),
    async putTree(prefix, dir) {
      const files = await filesUnder(dir);
      await eachParallel(files, (f) => putFile(`${prefix}/${f}`, join(dir, f)));
      return files.length;
    },
    async get(key, range) {
      try {
        const r = await client.send(
          new GetObjectCommand({
            Bucket,
            Key: checkKey(key),
            ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
          }),
        );
        const size = r.ContentLength ?? 0;
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.ContentRange ?? '');
        return {
          key,
          size,
          body: r.Body as Readable,
          ...(r.ContentType ? { contentType: r.ContentType } : {}),
          ...(r.CacheControl ? { cacheControl: r.CacheControl } : {}),
          ...(m ? { range: { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) } } : {}),
        };
      } catch (err) {
        if (missing(err)) return undefined;
        throw err;
      }
    },
    async head(key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket, Key: checkKey(key) }));
        return {
          key,
          size: r.ContentLength ?? 0,
          ...(r.ContentType ? { contentType: r.ContentType } : {}),
          ...(r.CacheControl ? { cacheControl: r.CacheControl } : {}),
        };
      } catch (err) {
        if (missing(err)) return undefined;
        throw err;
      }
    },
    list,
    async deletePrefix(prefix) {
      const keys = (await list(prefix)).map((o) => o.key);
      for (let i = 0; i < keys.length; i += 1000) {
        const cmd = new DeleteObjectsCommand({
          Bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        });
        cmd.middlewareStack.add(
          (next) => (args) => {
            withContentMd5(args.request as Parameters<typeof withContentMd5>[0]);
            return next(args);
          },
          { step: 'build', priority: 'low', name: 'skyContentMd5' },
        );
        const r = await client.send(cmd);
        const failed = r.Errors ?? [];
        if (failed.length > 0)
          throw new Error(`could not delete ${failed.length} objects under ${prefix}: ${failed[0]?.Message}`);
      }
      return keys.length;
    },
    async localCopy(key, workDir) {
      const file = join(workDir, 'source', key.split('/').pop()!);
      const r = await client
        .send(new GetObjectCommand({ Bucket, Key: checkKey(key) }))
        .catch((err: unknown) => {
          throw missing(err) ? new MediaNotFound(key) : err;
        });
      await mkdir(dirname(file), { recursive: true });
      await pipeline(r.Body as Readable, createWriteStream(file));
      return file;
    },
    async publish(prefix, dir, { last }) {
      const files = await filesUnder(dir);
      const first = files.filter((f) => !last.includes(f));
      await eachParallel(first, (f) => putFile(`${prefix}/${f}`, join(dir, f)));
      for (const f of last) if (files.includes(f)) await putFile(`${prefix}/${f}`, join(dir, f));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return storage;
}

/**
 * Multi-object delete must carry Content-MD5 on most S3 servers (Swift's s3api, older Ceph and MinIO); the
 * SDK now sends a CRC32 instead, which AWS takes either way.
 */
function withContentMd5(req: { body?: unknown; headers?: Record<string, string> }): void {
  if (!(typeof req.body === 'string' || req.body instanceof Uint8Array) || !req.headers) return;
  for (const h of Object.keys(req.headers)) {
    const name = h.toLowerCase();
    if (name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm') delete req.headers[h];
  }
  req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
}

function toInfo(o: _Object): ObjectInfo {
  return { key: o.Key!, size: o.Size ?? 0 };
}
