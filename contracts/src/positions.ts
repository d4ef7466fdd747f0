import { z } from 'zod';

/** Where a signed-in viewer stopped in an on-demand lesson, kept per user so every browser of theirs resumes. */
export const PlaybackPosition = z.object({
  lessonId: z.string(),
  /** Seconds from the start; 0 when the viewer has no position (never watched, or watched to the end). */
  positionSec: z.number().min(0),
});
export type PlaybackPosition = z.infer<typeof PlaybackPosition>;

/** `PUT /api/me/positions/:id`. A day is longer than any lesson. */
export const PlaybackPositionBody = z.strictObject({ positionSec: z.number().min(0).max(86_400) });
export type PlaybackPositionBody = z.infer<typeof PlaybackPositionBody>;
