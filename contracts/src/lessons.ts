import { z } from 'zod';
import type { FieldRule } from './errors.js';
import { GradeId } from './grades.js';

export const LESSON_STATUSES = ['draft', 'processing', 'ready', 'failed'] as const;
export const LessonStatus = z.enum(LESSON_STATUSES);
export type LessonStatus = z.infer<typeof LessonStatus>;

/** Why a lesson's media could not be used; the UI says it in the teacher's language. */
export const MEDIA_FAILURES = [
  'EMPTY_FILE',
  'NOT_MEDIA',
  'NO_STREAMS',
  'NO_DURATION',
  'UNDECODABLE',
  'TRANSCODE_FAILED',
] as const;
export const MediaFailure = z.enum(MEDIA_FAILURES);
export type MediaFailure = z.infer<typeof MediaFailure>;

/** Words to search for: no control characters (a NUL is no word, and no database takes it in a pattern). */
export const SearchText = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

export const ObjectIdString = z.string().regex(/^[a-f0-9]{24}$/, 'must be a 24-character hex id');

export const CreateLessonBody = z.strictObject({
  title: z.string().trim().min(1).max(120),
  description: z.string().trim().max(2000).optional(),
  grade: GradeId,
  subject: z.string().trim().min(1).max(32),
  /** The textbook unit it belongs to (第一单元 …): the library browses grade → subject → unit. */
  unit: z.string().trim().min(1).max(80).optional(),
});
export type CreateLessonBody = z.infer<typeof CreateLessonBody>;

export const LessonParams = z.strictObject({ id: ObjectIdString });

/**
 * PATCH /api/lessons/:id (its teacher or an admin): the fields to change. An empty description or unit
 * removes it. Grade and subject change only while `lessonPlacementFixed` is false.
 */
export const UpdateLessonBody = z
  .strictObject({
    title: CreateLessonBody.shape.title.optional(),
    description: z.string().trim().max(2000).optional(),
    grade: GradeId.optional(),
    subject: CreateLessonBody.shape.subject.optional(),
    unit: z.string().trim().max(80).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'name at least one field to change: title, description, grade, subject or unit',
    // only when nothing else is wrong: an unknown or bad field is named on its own
    when: (payload) => payload.issues.length === 0,
  });
export type UpdateLessonBody = z.infer<typeof UpdateLessonBody>;

/**
 * Why an edit or delete of a lesson is refused (409): the field error's `rule` (what a client translates)
 * and the server's English `message` for it.
 */
export const LESSON_REFUSALS = {
  placement_fixed: 'fixed once the lesson is published or taught live',
  live: 'the lesson is live',
  in_plan: 'the TV timetable airs the lesson',
  transcoding: 'the lesson is being transcoded',
  changed: 'the lesson changed meanwhile',
} as const satisfies Partial<Record<FieldRule, string>>;
export type LessonRefusal = keyof typeof LESSON_REFUSALS;

/**
 * Whether a lesson's grade and subject are settled: once it has been published (processing or ready) or
 * taught live, students of that grade have it in their library and timetable and its viewing figures
 * count under them. A draft, or a failed upload never shown to anyone, may still move.
 */
export function lessonPlacementFixed(lesson: {
  readonly status: LessonStatus;
  readonly live?: unknown;
}): boolean {
  return (lesson.status !== 'draft' && lesson.status !== 'failed') || lesson.live !== undefined;
}

/** Asks for a source file already on the media store (a generated sample, a finished upload). */
export const TranscodeRequestBody = z.strictObject({
  /** Path relative to the media root. */
  source: z
    .string()
    .min(1)
    .max(512)
    .regex(/^(?!\/)(?!.*\.\.)[\w./-]+$/, 'a relative path inside the media store'),
});
export type TranscodeRequestBody = z.infer<typeof TranscodeRequestBody>;

/** A lesson taught live: set when its teacher goes live, kept after the end (the replay follows). */
export const LessonLive = z.object({
  state: z.enum(['live', 'ended']),
  teacherId: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
});
export type LessonLive = z.infer<typeof LessonLive>;

export const Lesson = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().optional(),
  grade: GradeId,
  subject: z.string(),
  unit: z.string().optional(),
  teacherId: z.string(),
  teacherName: z.string().optional(),
  status: LessonStatus,
  /** Master playlist URL (same origin as the api), once ready. */
  playbackUrl: z.string().optional(),
  /** MPEG-TS HLS v3 master for set-top boxes. */
  tvPlaybackUrl: z.string().optional(),
  posterUrl: z.string().optional(),
  storyboardUrl: z.string().optional(),
  durationSec: z.number().optional(),
  failureReason: z.string().optional(),
  failureCode: MediaFailure.optional(),
  /** Present once the lesson has been taught live. */
  live: LessonLive.optional(),
  createdAt: z.string(),
});
export type Lesson = z.infer<typeof Lesson>;

/** GET/POST /api/lessons/:id/live: where to watch a live lesson ('idle' until its teacher goes live). */
export const LiveInfo = z.object({
  lessonId: z.string(),
  state: z.enum(['idle', 'live', 'ended']),
  teacherId: z.string(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** socket.io origin of the sfu (namespace /live); auth is the api access token. */
  sfuUrl: z.string(),
  /** Live HLS masters (absolute paths on the api origin): fMP4 for the web, MPEG-TS for set-top boxes. */
  hls: z.object({ web: z.string(), tv: z.string() }),
});
export type LiveInfo = z.infer<typeof LiveInfo>;

/** GET /api/public/lessons/:id/live: whether a lesson is live, for anyone (the TV gateway's channels). */
export const LiveState = LiveInfo.pick({
  lessonId: true,
  state: true,
  startedAt: true,
  endedAt: true,
  hls: true,
});
export type LiveState = z.infer<typeof LiveState>;

export const LessonList = z.object({ items: z.array(Lesson), total: z.number().int() });
export type LessonList = z.infer<typeof LessonList>;

/** GET /api/lessons/units: a grade's subject's units, in textbook order. */
export const LessonUnits = z.array(z.string());
export type LessonUnits = z.infer<typeof LessonUnits>;

/** tus Upload-Metadata a teacher's browser sends with a lesson video. */
export const UploadMetadata = z.object({
  lessonId: ObjectIdString,
  filename: z.string().min(1).max(255),
});
export type UploadMetadata = z.infer<typeof UploadMetadata>;

/** Transcoding progress of a lesson, pushed to its teacher's page. */
export const TranscodeProgress = z.object({
  lessonId: z.string(),
  percent: z.number().min(0).max(100),
  fps: z.number().optional(),
  /** Encoding speed as a multiple of real time. */
  speed: z.number().optional(),
});
export type TranscodeProgress = z.infer<typeof TranscodeProgress>;

/** socket.io namespace /lessons: a teacher's page follows its lessons while they process. */
export interface LessonServerEvents {
  'lesson:progress': (p: TranscodeProgress) => void;
}
export interface LessonClientEvents {
  'lesson:watch': (
    req: { lessonId: string },
    ack: (res: import('./errors.js').Ack<{ lessonId: string }>) => void,
  ) => void;
}

/** GET /api/lessons: browse by grade and subject, search titles, a teacher's own. */
export const LessonListQuery = z.strictObject({
  grade: GradeId.optional(),
  subject: z.string().trim().min(1).max(32).optional(),
  unit: z.string().trim().min(1).max(80).optional(),
  status: LessonStatus.optional(),
  /**
   * Lessons taught live, by where they stand: `live` on the air now (a student's home lists their grade's),
   * `ended` after their end. Viewers then see them whatever their status, as they may open them.
   */
  live: z.enum(['live', 'ended']).optional(),
  /** Words in the title. */
  q: SearchText.optional(),
  /** Only the caller's own lessons (teachers). */
  mine: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(24),
  offset: z.coerce.number().int().min(0).default(0),
});
export type LessonListQuery = z.infer<typeof LessonListQuery>;
