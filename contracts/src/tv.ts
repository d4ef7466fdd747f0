import { z } from 'zod';
import { IsoDate } from './curriculum.js';
import { GradeId } from './grades.js';
import { Lesson, LessonList, ObjectIdString } from './lessons.js';
import { Pairing } from './qa.js';

/**
 * Set-top boxes: device pairing in the style of OAuth 2.0 device authorization (RFC 8628), the
 * channel lineup and the programme guide.
 */

/** POST /device/code → what the box shows: a short code and where to confirm it (also as a QR). */
export const DeviceCodeResponse = z.object({
  device_code: z.string(),
  /** 8 letters from an unambiguous alphabet, shown as XXXX-XXXX. */
  user_code: z.string(),
  verification_uri: z.string(),
  verification_uri_complete: z.string(),
  expires_in: z.number().int(),
  interval: z.number().int(),
});
export type DeviceCodeResponse = z.infer<typeof DeviceCodeResponse>;

export const DeviceCodeBody = z.strictObject({
  /** What the family will see in its device list, e.g. 客厅电视. */
  name: z.string().trim().min(1).max(40).optional(),
  /** RFC 8628 clients send these; one public client, so they are accepted and not checked. */
  client_id: z.string().max(100).optional(),
  scope: z.string().max(200).optional(),
});

export const DeviceTokenBody = z.strictObject({
  grant_type: z.literal('urn:ietf:params:oauth:grant-type:device_code'),
  device_code: z.string().min(1).max(128),
  client_id: z.string().max(100).optional(),
});

/** RFC 8628 §3.5 error codes while polling. */
export const DEVICE_TOKEN_ERRORS = [
  'authorization_pending',
  'slow_down',
  'access_denied',
  'expired_token',
] as const;
export const DeviceTokenError = z.object({
  error: z.enum([...DEVICE_TOKEN_ERRORS, 'invalid_grant', 'invalid_request']),
  error_description: z.string(),
});
export type DeviceTokenError = z.infer<typeof DeviceTokenError>;

/** A family member confirms the code shown on the TV (signed in on a phone or browser). */
export const DeviceApproveBody = z.strictObject({
  user_code: z
    .string()
    .trim()
    .transform((s) => s.toUpperCase().replace(/[^A-Z]/g, ''))
    .pipe(z.string().length(8, 'the code has 8 letters')),
  name: z.string().trim().min(1).max(40).optional(),
});
export type DeviceApproveBody = z.infer<typeof DeviceApproveBody>;

/** A paired box, bound to one household (the family account) and its students' grades. */
export const Device = z.object({
  id: z.string(),
  name: z.string(),
  householdId: z.string(),
  /** The household's account kind (who approved the box); unset on boxes paired before it was kept. */
  householdRole: z.enum(['family', 'student']).optional(),
  grades: z.array(GradeId),
  pairedAt: z.string(),
  lastSeenAt: z.string().optional(),
});
export type Device = z.infer<typeof Device>;

/** GET /devices (a signed-in family member or student): the household's paired boxes, oldest first. */
export const DeviceList = z.array(Device);

export const DeviceTokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  device: Device,
});
export type DeviceTokenResponse = z.infer<typeof DeviceTokenResponse>;

/** A programme in the guide, as the gateway exposes it to the 10-foot UI (JSON beside XMLTV). */
export const GuideProgramme = z.object({
  channelId: z.string(),
  lessonId: z.string(),
  title: z.string(),
  subject: z.string(),
  grade: GradeId,
  /** Display names and the episode, for guides (XMLTV desc, episode-num). */
  gradeName: z.string().optional(),
  /** The subject's name in Chinese, and in English (the curriculum's names; `subject` is its code). */
  subjectName: z.string().optional(),
  subjectNameEn: z.string().optional(),
  unit: z.string().optional(),
  /** Position within the grade's subject: episode number. */
  order: z.number().int().optional(),
  teacher: z.string().optional(),
  /** ISO 8601 instants (UTC). */
  start: z.string(),
  stop: z.string(),
  /** Catch-up playlist, once it has aired and while within catch-up days. */
  catchupUrl: z.string().optional(),
  /** On the air now. */
  live: z.boolean(),
  /** Taught live in its slot (the channel carries the teacher live), not a recording. */
  taughtLive: z.boolean().optional(),
  /** The api lesson holding its video (live room, replay): viewing beacons and Q&A go under this id. */
  vodLessonId: z.string().optional(),
});
export type GuideProgramme = z.infer<typeof GuideProgramme>;

/**
 * GET /api/channels/:id/guide: one channel's programmes as the 10-foot UI's guide shows them, from the
 * first day of catch-up to the end of tomorrow, in Beijing days of the gateway's clock (a box's may be wrong).
 */
export const ChannelGuide = z.object({
  channelId: z.string(),
  /** The gateway's today (Beijing). */
  today: IsoDate,
  /** Days back from today that catch-up reaches; the guide starts at 00:00 of the first. */
  catchupDays: z.number().int().min(0),
  /** The Beijing days the guide covers, oldest first. */
  days: z.array(IsoDate),
  programmes: z.array(GuideProgramme),
});
export type ChannelGuide = z.infer<typeof ChannelGuide>;

export const TvChannel = z.object({
  id: z.string(),
  number: z.number().int(),
  name: z.string(),
  group: z.string(),
  grades: z.array(GradeId),
  logoUrl: z.string(),
  /** Master playlist of the linear channel (HLS v3, MPEG-TS). */
  url: z.string(),
});
export type TvChannel = z.infer<typeof TvChannel>;

/** A lesson as the gateway's on-demand list gives it: the public fields, media URLs made absolute. */
export const TvLesson = Lesson.pick({
  id: true,
  title: true,
  grade: true,
  subject: true,
  unit: true,
  teacherName: true,
  durationSec: true,
  tvPlaybackUrl: true,
  posterUrl: true,
});
export type TvLesson = z.infer<typeof TvLesson>;
export const TvLessonList = LessonList.extend({ items: z.array(TvLesson) });
export type TvLessonList = z.infer<typeof TvLessonList>;

/**
 * POST /device/qa/pairing (a paired box, with its device token): a Q&A code for the lesson on screen,
 * which the gateway asks of the api as the box's household. An on-demand lesson is named by its api id;
 * a channel's programme by the channel, the programme's lesson and its start (as in the guide), and
 * the gateway finds the recording it airs. Then PUT /device/qa/pairing/:code/playback
 * (PairingPlaybackBody) reports where the lesson is on screen.
 */
export const TvQaPairingBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('vod'), lessonId: ObjectIdString }),
  z.strictObject({
    kind: z.literal('programme'),
    channelId: z.string().min(1).max(64),
    lessonId: z.string().min(1).max(64),
    start: z.iso.datetime({ offset: true }),
  }),
]);
export type TvQaPairingBody = z.infer<typeof TvQaPairingBody>;
/**
 * The api's code and the web page a phone opens for it (the QR's text). For a channel's programme,
 * `lessonStartAt`: the instant on the channel's clock (its EXT-X-PROGRAM-DATE-TIME) at which second 0 of
 * the lesson airs — the programme's start for a recording, the teacher's go-live plus the channel's delay
 * for a lesson taught live — so the moment on screen minus it is the question's live offset.
 */
export const TvQaPairing = Pairing.extend({ url: z.string(), lessonStartAt: z.string().optional() });
export type TvQaPairing = z.infer<typeof TvQaPairing>;
