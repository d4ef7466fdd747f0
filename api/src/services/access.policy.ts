import { posix } from 'node:path';
import { AppError, ownsLesson, type AccessClaims } from '@sky/contracts';
import type { LessonRecord } from '../adapters/lessons.repository.js';

/**
 * The api's home of the owner rule (`ownsLesson`, in contracts for the sfu and the web client too):
 * lessons, their uploads and transcodes, their live room, their Q&A moderation and audience all ask here.
 */
export function assertOwnsLesson(actor: AccessClaims, lesson: LessonRecord, doing = 'do this'): void {
  if (!ownsLesson(actor, lesson))
    throw new AppError('FORBIDDEN', `only the lesson’s teacher or an admin may ${doing}`);
}

/** The lesson a file of the media store belongs to (its upload, its outputs, its live recording), if any. */
export function lessonOfMediaFile(rel: string): string | undefined {
  return /^(?:uploads|lessons|live)\/([^/]+)\//.exec(posix.normalize(rel))?.[1];
}

/**
 * A lesson's files serve that lesson only: its owner may transcode them into it, nobody may transcode
 * them into another lesson (whose owner is not theirs to decide for). Shared files (the operator's
 * sample library) belong to no lesson.
 */
export function assertMediaFileFor(lessonId: string, rel: string): void {
  const refuse = (message: string) =>
    new AppError('FORBIDDEN', `this file ${message}`, { errors: [{ path: 'body.source', message }] });
  // dot folders are the servers' own: uploads in progress (anyone's), the transcoder's temp files
  if (
    posix
      .normalize(rel)
      .split('/')
      .some((s) => s.startsWith('.'))
  )
    throw refuse('is not a lesson file');
  const owner = lessonOfMediaFile(rel);
  if (owner !== undefined && owner !== lessonId) throw refuse('belongs to another lesson');
}
