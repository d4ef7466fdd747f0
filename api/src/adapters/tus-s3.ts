// Uploads in progress in the bucket (@tus/s3-store, S3 multipart uploads), so that any api process can
// take the next PATCH of an upload and none keeps a part on its own disk. Loaded only when media is on S3.
import type { S3Settings } from '@sky/contracts/storage';
import { s3ClientConfig } from '@sky/contracts/storage-s3';
import { S3Store } from '@tus/s3-store';

/** tus parts are S3 parts: 8 MiB (S3's least is 5 MiB; a shorter tail waits in `<key>.part`). */
const PART_BYTES = 8 * 1024 * 1024;

export function createTusS3Store(s: S3Settings): S3Store {
  return new S3Store({
    partSize: PART_BYTES,
    // object tags (for expiring abandoned uploads) are not in every S3 server; a bucket lifecycle rule
    // aborting incomplete multipart uploads does that job (docs/scaling.md)
    useTags: false,
    s3ClientConfig: { bucket: s.bucket, ...s3ClientConfig(s) },
  });
}
