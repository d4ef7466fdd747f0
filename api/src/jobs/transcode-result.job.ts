import type { JobHandler } from '../adapters/queue.js';
import type { LessonService } from '../services/lessons.service.js';

/** The transcoder's outcome for a lesson: ready (with its master playlist) or failed (with the reason). */
export function transcodeResultJob(lessons: LessonService): JobHandler<'transcode.result'> {
  return (result) => lessons.applyTranscodeResult(result);
}
