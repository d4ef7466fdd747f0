import { mkdir, mkdtemp, rename, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, posix } from 'node:path';
import { AppError, UploadMetadata, type AccessClaims } from '@sky/contracts';
import type { MediaStorage } from '@sky/contracts/storage';
import type { FastifyBaseLogger } from 'fastify';
import type { MediaProbe } from '../adapters/media-probe.js';
import type { LessonService } from './lessons.service.js';

/** Where a lesson's upload is kept: `uploads/<lesson>/<upload id><the file's extension>`. */
export function uploadKey(meta: UploadMetadata, uploadId: string): string {
  const ext = extname(meta.filename)
    .toLowerCase()
    .replace(/[^.a-z0-9]/g, '')
    .slice(0, 8);
  return posix.join('uploads', meta.lessonId, `${uploadId}${ext}`);
}

/**
 * Resumable lesson uploads (tus). A finished upload is checked with ffprobe before anything is queued:
 * an unusable file ends as a failed lesson with a reason the teacher can read, never a stuck "processing".
 */
export class UploadService {
  constructor(
    private readonly lessons: LessonService,
    private readonly probe: MediaProbe,
    private readonly mediaDir: string,
    private readonly log: FastifyBaseLogger,
    /** When set (S3), a checked upload is stored there for the transcoders, not kept in `mediaDir`. */
    private readonly objects?: MediaStorage,
  ) {}

  /** An upload's metadata, or VALIDATION_FAILED naming the fields that are wrong. */
  parseMetadata(metadata: Record<string, string | null | undefined>): UploadMetadata {
    const parsed = UploadMetadata.safeParse(metadata);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `metadata.${i.path.join('.')}`).join(', ');
      throw new AppError('VALIDATION_FAILED', `bad upload metadata: ${fields}`);
    }
    return parsed.data;
  }

  /** Before an upload starts: its metadata is valid and the actor may attach media to that lesson. */
  async authorize(
    actor: AccessClaims,
    metadata: Record<string, string | null | undefined>,
  ): Promise<UploadMetadata> {
    const meta = this.parseMetadata(metadata);
    await this.lessons.assertCanUpload(actor, meta.lessonId);
    return meta;
  }

  /**
   * After the last byte: move the file into the media store, check it, and make it the lesson's source
   * (queued, or failed with its reason). Refused with CONFLICT while the lesson processes another upload:
   * that one stays, and this file is removed.
   */
  async finish(
    actor: AccessClaims,
    uploadPath: string,
    uploadId: string,
    meta: UploadMetadata,
  ): Promise<void> {
    const rel = uploadKey(meta, uploadId);
    await mkdir(join(this.mediaDir, 'uploads', meta.lessonId), { recursive: true });
    await rename(uploadPath, join(this.mediaDir, rel));
    try {
      const check = await this.probe.check(join(this.mediaDir, rel));
      if (this.objects) {
        await this.objects.putFile(rel, join(this.mediaDir, rel));
        await rm(join(this.mediaDir, rel), { force: true });
        await rmdir(join(this.mediaDir, 'uploads', meta.lessonId)).catch(() => undefined);
      }
      await this.lessons.acceptUpload(actor, meta.lessonId, rel, check);
      if (!check.ok) this.log.info({ lesson: meta.lessonId, code: check.code }, 'upload refused');
    } catch (err) {
      await rm(join(this.mediaDir, rel), { force: true });
      await this.objects?.deletePrefix(rel);
      // the lesson's folder, if this was its only file (a lesson deleted while the upload finished)
      await rmdir(join(this.mediaDir, 'uploads', meta.lessonId)).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The same for an upload made in the bucket (tus on S3): it is already at its key. It is checked from a
   * copy in a temporary folder, which is then removed; refused or failing, its objects are deleted.
   */
  async finishInBucket(actor: AccessClaims, key: string, meta: UploadMetadata): Promise<void> {
    const objects = this.objects;
    if (!objects) throw new Error('an upload in the bucket needs the object store');
    const work = await mkdtemp(join(tmpdir(), 'sky-upload-check-'));
    try {
      const check = await this.probe.check(await objects.localCopy(key, work));
      await this.lessons.acceptUpload(actor, meta.lessonId, key, check);
      if (!check.ok) this.log.info({ lesson: meta.lessonId, code: check.code }, 'upload refused');
      // tus's record of the upload: done with, and a client asking for it again starts a new upload
      await objects.deletePrefix(`${key}.info`);
    } catch (err) {
      await objects.deletePrefix(key); // the upload, its record and any unfinished part
      throw err;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
