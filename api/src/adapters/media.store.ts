import { access, readdir, readFile, rm } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { MediaStorage } from '@sky/contracts/storage';
import type { MediaStore } from '../services/lessons.service.js';

/** The folders of the media store that hold one lesson's files, by the lesson's id. */
const LESSON_FOLDERS = ['uploads', 'lessons', 'live'] as const;

/**
 * The media store on the local disk (a shared volume in production): lesson uploads, the transcoder's
 * outputs, live recordings and segments, and tus's uploads in progress (`uploadDir`: each upload a file
 * named by its id beside `<id>.json`, whose metadata names the lesson).
 */
export function fileMediaStore(root: string, uploadDir: string): MediaStore {
  return {
    exists: (rel) =>
      access(join(root, normalize(rel)))
        .then(() => true)
        .catch(() => false),

    async removeLessonFiles(lessonId) {
      if (!/^[a-f0-9]{24}$/.test(lessonId)) throw new Error(`not a lesson id: ${lessonId}`);
      await Promise.all(
        LESSON_FOLDERS.map((folder) => rm(join(root, folder, lessonId), { recursive: true, force: true })),
      );
      const names = await readdir(uploadDir).catch(() => []);
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const info = await readFile(join(uploadDir, name), 'utf8').catch(() => '');
        let forLesson = false;
        try {
          forLesson =
            (JSON.parse(info) as { metadata?: { lessonId?: unknown } }).metadata?.lessonId === lessonId;
        } catch {
          // an info file being written, or not tus's: not this lesson's to remove
        }
        if (!forLesson) continue;
        const id = name.slice(0, -'.json'.length);
        await rm(join(uploadDir, id), { force: true });
        await rm(join(uploadDir, name), { force: true });
      }
    },
  };
}

/**
 * Uploads, packaged lessons and live HLS and recordings in an object store (S3), tus's uploads in progress
 * still on the local disk: a lesson's files are looked for and removed in both.
 */
export function objectMediaStore(local: MediaStore, objects: MediaStorage): MediaStore {
  return {
    exists: async (rel) => (await objects.head(rel)) !== undefined || (await local.exists(rel)),
    async removeLessonFiles(lessonId) {
      await local.removeLessonFiles(lessonId);
      await Promise.all(LESSON_FOLDERS.map((f) => objects.deletePrefix(`${f}/${lessonId}`)));
    },
  };
}
