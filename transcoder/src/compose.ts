import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Settings, type MediaStorage } from '@sky/contracts/storage';
import { createLocalStorage } from '@sky/contracts/storage-local';
import type { TranscoderConfig } from './config.js';

/**
 * The media store a config names and the folder this process's attempts encode in: S3 (with a private work
 * folder in the system temp) when S3_BUCKET is set, else the local media folder (work beside it, so a
 * finished rendition is published by one rename).
 */
export async function composeStorage(
  config: TranscoderConfig,
): Promise<{ storage: MediaStorage; workDir: string }> {
  const s3 = s3Settings(config);
  // the S3 adapter (and the AWS SDK) loads only when a bucket is configured
  const storage = s3
    ? (await import('@sky/contracts/storage-s3')).createS3Storage(s3)
    : createLocalStorage(config.MEDIA_DIR ?? '');
  const workDir =
    config.WORK_DIR ?? (s3 ? join(tmpdir(), 'sky-transcoder') : join(config.MEDIA_DIR ?? '', '.tmp'));
  mkdirSync(workDir, { recursive: true });
  return { storage, workDir };
}
