import { z } from 'zod';
import { FailureReason } from './failure-reason.js';
import { MediaFailure } from './lessons.js';

/** Queue names on Redis: one queue per consumer, so each service owns what it drains. */
export const QUEUES = {
  /** Consumed by the transcoder. */
  transcode: 'transcode',
  /** Consumed by the api: outcomes of transcode jobs, durable even while the api is down. */
  transcodeResults: 'transcode-results',
  /** Consumed by the api: a live lesson ended and its recording is ready to become a replay. */
  liveEvents: 'live-events',
} as const;

export const TranscodeJob = z.object({
  lessonId: z.string(),
  /** Source path relative to the media root. */
  source: z.string(),
  /** Output folder relative to the media root; written atomically. */
  outputDir: z.string(),
  requestedBy: z.string(),
  /** Replays of live lessons go before uploads: a class is waiting for them. */
  kind: z.enum(['upload', 'replay']).default('upload'),
});
export type TranscodeJob = z.infer<typeof TranscodeJob>;

export const TranscodeResult = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('ready'),
    lessonId: z.string(),
    /** Web (fMP4) master playlist, relative to the media root. */
    master: z.string(),
    /** Set-top box (MPEG-TS, HLS v3) master playlist. */
    tvMaster: z.string(),
    /** Absent for audio-only lessons. */
    poster: z.string().optional(),
    /** WebVTT of storyboard thumbnails for seek previews; absent for audio-only lessons. */
    storyboard: z.string().optional(),
    durationSec: z.number(),
  }),
  z.object({
    outcome: z.literal('failed'),
    lessonId: z.string(),
    code: MediaFailure,
    /** What the teacher reads: a tool's message without the server's paths. */
    reason: FailureReason,
  }),
]);
export type TranscodeResult = z.infer<typeof TranscodeResult>;

/** The sfu finished a live lesson: its recording becomes the on-demand replay. */
export const LiveEndedJob = z.object({
  lessonId: z.string(),
  /** The finalised recording, relative to the media root; null when nothing was recorded. */
  recording: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string(),
});
export type LiveEndedJob = z.infer<typeof LiveEndedJob>;

/** Every job name → its payload. Each consumer declares a complete handler table over its part. */
export interface JobPayloads {
  'transcode.vod': TranscodeJob;
  'transcode.result': TranscodeResult;
  'live.ended': LiveEndedJob;
}
export type JobName = keyof JobPayloads;

/** BullMQ priorities (lower runs first). */
export const TRANSCODE_PRIORITY = { replay: 1, upload: 5 } as const;

/** Which queue carries each job. */
export const JOB_QUEUE: { [K in JobName]: (typeof QUEUES)[keyof typeof QUEUES] } = {
  'transcode.vod': QUEUES.transcode,
  'transcode.result': QUEUES.transcodeResults,
  'live.ended': QUEUES.liveEvents,
};

export const JOB_SCHEMAS: { [K in JobName]: z.ZodType<JobPayloads[K]> } = {
  'transcode.vod': TranscodeJob,
  'transcode.result': TranscodeResult,
  'live.ended': LiveEndedJob,
};

/** Validates a job's payload on arrival: a malformed job fails with the reason instead of crashing a handler. */
export function parseJob<K extends JobName>(name: K, data: unknown): JobPayloads[K] {
  return JOB_SCHEMAS[name].parse(data);
}

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_SCHEMAS, name);
}
