import { posix } from 'node:path';
import {
  AppError,
  type AccessClaims,
  type CreateLessonBody,
  type GradeId,
  type Lesson,
  type LessonListQuery,
  type MediaFailure,
  type TranscodeResult,
  type LessonRefusal,
  type UpdateLessonBody,
  LESSON_REFUSALS,
  lessonPlacementFixed,
  TRANSCODE_PRIORITY,
  withoutServerPaths,
} from '@sky/contracts';
import type { JobQueues } from '../adapters/queue.js';
import { assertMediaFileFor, assertOwnsLesson } from './access.policy.js';
import { toLesson, type LessonRecord, type LessonRepository } from '../adapters/lessons.repository.js';

export interface MediaStore {
  exists(relativePath: string): Promise<boolean>;
  /** Every file of a lesson: its uploads (finished or in progress), its outputs, its live recording. */
  removeLessonFiles(lessonId: string): Promise<void>;
}

/** A lesson's jobs in the transcode queue. */
export interface LessonJobs {
  /** Takes the lesson's jobs that have not started off the queue; `running` (and none taken) while one runs. */
  cancel(lessonId: string): Promise<'cancelled' | 'running'>;
}

export class LessonService {
  constructor(
    private readonly lessons: LessonRepository,
    private readonly queues: JobQueues,
    private readonly media: MediaStore,
    private readonly mediaBaseUrl: string,
    private readonly teacherName: (userId: string) => Promise<string | undefined>,
    private readonly jobs: LessonJobs,
    /** The curriculum plan's lessons that air an api lesson on TV (their vod_lesson_id). */
    private readonly planLinks: (lessonId: string) => Promise<readonly string[]>,
  ) {}

  async create(actor: AccessClaims, body: CreateLessonBody): Promise<Lesson> {
    const rec = await this.lessons.create({
      title: body.title,
      ...(body.description ? { description: body.description } : {}),
      grade: body.grade,
      subject: body.subject,
      ...(body.unit ? { unit: body.unit } : {}),
      teacherId: actor.sub,
      teacherName: await this.teacherName(actor.sub),
      status: 'draft',
    });
    return toLesson(rec, this.mediaBaseUrl);
  }

  async get(actor: AccessClaims, id: string): Promise<Lesson> {
    const rec = await this.lessons.findById(id);
    if (!rec || !this.canSee(actor, rec)) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    return toLesson(rec, this.mediaBaseUrl);
  }

  /** A ready lesson for anyone (lessons are public education): what set-top boxes and the TV gateway read. */
  async getPublic(id: string): Promise<Lesson> {
    const rec = await this.lessons.findById(id);
    if (rec?.status !== 'ready') throw new AppError('NOT_FOUND', `no ready lesson ${id}`);
    return toLesson(rec, this.mediaBaseUrl);
  }

  /** Ready lessons by grade, subject or title words, for anyone (TV on-demand). */
  async listPublic(q: LessonListQuery) {
    const filter = {
      ...(q.grade ? { grade: q.grade } : {}),
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.unit ? { unit: q.unit } : {}),
      ...(q.q ? { titleWords: q.q } : {}),
      ...(q.live ? { live: q.live } : {}),
      status: 'ready' as const,
    };
    const { items, total } = await this.lessons.list(filter, q.limit, q.offset);
    return { items: items.map((r) => toLesson(r, this.mediaBaseUrl)), total };
  }

  /** Units of a grade's subject, for browsing grade → subject → unit (viewers: units with ready lessons). */
  async units(actor: AccessClaims, grade: GradeId, subject: string): Promise<string[]> {
    const viewer = actor.role === 'student' || actor.role === 'family';
    return this.lessons.units({ grade, subject, ...(viewer ? { status: 'ready' as const } : {}) });
  }

  async list(actor: AccessClaims, q: LessonListQuery) {
    // Students and families see lessons that are ready to watch, and those taught live they may open
    // (openToViewers: on the air, or ended but for a failed replay); staff see every state.
    const viewer = actor.role === 'student' || actor.role === 'family';
    const viewable = q.live ? { status: { not: 'failed' as const } } : { status: 'ready' as const };
    const filter = {
      ...(q.grade ? { grade: q.grade } : {}),
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.unit ? { unit: q.unit } : {}),
      ...(q.q ? { titleWords: q.q } : {}),
      ...(q.mine ? { teacherId: actor.sub } : {}),
      ...(q.live ? { live: q.live } : {}),
      ...(viewer ? viewable : q.status ? { status: q.status } : {}),
    };
    const { items, total } = await this.lessons.list(filter, q.limit, q.offset);
    return { items: items.map((r) => toLesson(r, this.mediaBaseUrl)), total };
  }

  /**
   * Its teacher or an admin corrects a lesson. Title, description and unit change at any time; grade and
   * subject only while the lesson's placement is not fixed (a draft or a failed upload never shown), else
   * CONFLICT naming the field.
   */
  async update(actor: AccessClaims, id: string, body: UpdateLessonBody): Promise<Lesson> {
    const rec = await this.assertOwner(actor, id, 'edit it');
    const moved = (['grade', 'subject'] as const).filter((k) => body[k] !== undefined && body[k] !== rec[k]);
    if (moved.length > 0 && lessonPlacementFixed(rec)) throw placementFixed(moved);
    const set: Parameters<LessonRepository['update']>[1] = {};
    const unset: Parameters<LessonRepository['update']>[2] = [];
    if (body.title !== undefined) set.title = body.title;
    if (body.grade !== undefined) set.grade = body.grade;
    if (body.subject !== undefined) set.subject = body.subject;
    for (const k of ['description', 'unit'] as const) {
      const value = body[k];
      if (value === undefined) continue;
      if (value === '') unset.push(k);
      else set[k] = value;
    }
    const updated =
      moved.length > 0
        ? await this.lessons.updateWhilePlacementOpen(id, set, unset)
        : await this.lessons.update(id, set, unset);
    if (!updated) {
      // published or gone a moment ago
      if (moved.length > 0 && (await this.lessons.findById(id))) throw placementFixed(moved);
      throw new AppError('NOT_FOUND', `no lesson ${id}`);
    }
    return toLesson(updated, this.mediaBaseUrl);
  }

  /**
   * Its teacher or an admin deletes a lesson, with its files (uploads, outputs, live recording) and its
   * transcodes still queued. Refused (CONFLICT) while it is taught live, while the TV timetable airs it
   * (the channels would air nothing in its slots), or while its video is being transcoded right now.
   * Its Q&A and viewing figures stay, as for a deleted account's lessons.
   */
  async delete(actor: AccessClaims, id: string): Promise<void> {
    const rec = await this.assertOwner(actor, id, 'delete it');
    if (rec.live?.state === 'live')
      throw undeletable('this lesson is being taught live: end it before deleting it', 'live');
    const aired = await this.planLinks(id).catch(() => {
      throw new AppError(
        'DEPENDENCY_DOWN',
        'the TV timetable cannot say whether it airs this lesson; try again',
      );
    });
    if (aired.length > 0)
      throw undeletable(
        `the TV timetable airs this lesson (plan lesson ${aired.join(', ')}): the curriculum desk unlinks it first`,
        'in_plan',
      );
    if ((await this.jobs.cancel(id)) === 'running')
      throw undeletable(
        'this lesson’s video is being transcoded right now: delete it once that is done',
        'transcoding',
      );
    // Deleted only as it was read: an upload that finished meanwhile, a go-live, a result, all refuse it.
    if (!(await this.lessons.deleteUnchanged(id, rec.updatedAt))) {
      if (!(await this.lessons.findById(id))) throw new AppError('NOT_FOUND', `no lesson ${id}`);
      throw undeletable('the lesson changed while it was being deleted; try again', 'changed');
    }
    await this.media.removeLessonFiles(id);
  }

  /** Queues the transcode of a file already in the media store; the lesson shows "processing" meanwhile. */
  async requestTranscode(actor: AccessClaims, id: string, source: string): Promise<Lesson> {
    const rec = await this.assertOwner(actor, id, 'transcode it');
    assertMediaFileFor(id, source);
    if (rec.status === 'processing') throw busy('params.id');
    if (!(await this.media.exists(source))) throw new AppError('NOT_FOUND', `no media file ${source}`);
    const claimed = await this.lessons.updateUnlessProcessing(id, { status: 'processing' }, [
      'failureReason',
      'failureCode',
    ]);
    if (!claimed) throw busy('params.id');
    await this.enqueueTranscode(claimed, posix.normalize(source), actor.sub);
    return toLesson(claimed, this.mediaBaseUrl);
  }

  /**
   * A finished upload, checked, becomes the lesson's source in one step: a usable one is processed, an
   * unusable one fails the lesson with its reason. A lesson already processing keeps its upload and this
   * one is refused (CONFLICT), so two uploads finishing on one lesson never overwrite each other.
   */
  async acceptUpload(
    actor: AccessClaims,
    id: string,
    source: string,
    check: { ok: true } | { ok: false; code: MediaFailure; reason: string },
  ): Promise<Lesson> {
    await this.assertOwner(actor, id, 'upload to it');
    const claimed = check.ok
      ? await this.lessons.updateUnlessProcessing(id, { status: 'processing', source }, [
          'failureReason',
          'failureCode',
        ])
      : await this.lessons.updateUnlessProcessing(id, {
          status: 'failed',
          source,
          failureCode: check.code,
          failureReason: withoutServerPaths(check.reason),
        });
    if (!claimed) throw busy('metadata.lessonId');
    if (check.ok) {
      try {
        await this.enqueueTranscode(claimed, source, actor.sub);
      } catch (err) {
        await this.markFailed(id, 'TRANSCODE_FAILED', 'the upload could not be queued; upload it again');
        throw err;
      }
    }
    return toLesson(claimed, this.mediaBaseUrl);
  }

  private async enqueueTranscode(rec: LessonRecord, source: string, requestedBy: string): Promise<void> {
    const version = Date.now().toString(36);
    await this.queues.enqueue(
      'transcode.vod',
      {
        lessonId: rec.id,
        source,
        outputDir: posix.join('lessons', rec.id, version),
        requestedBy,
        kind: 'upload',
      },
      { priority: TRANSCODE_PRIORITY.upload },
    );
  }

  /** Applies a transcoder outcome (from the transcode-results queue). */
  async applyTranscodeResult(result: TranscodeResult): Promise<void> {
    const found = await this.lessons.findById(result.lessonId);
    if (!found) return; // the lesson was deleted meanwhile: nothing to update
    if (result.outcome === 'ready') {
      const { master, tvMaster, poster, storyboard, durationSec } = result;
      await this.lessons.update(
        result.lessonId,
        { status: 'ready', master, tvMaster, poster, storyboard, durationSec },
        ['failureReason', 'failureCode'],
      );
    } else {
      await this.markFailed(result.lessonId, result.code, result.reason);
    }
  }

  /** Every reason a user reads is made here: the cause, without the server's paths. */
  async markFailed(id: string, code: MediaFailure, reason: string): Promise<void> {
    await this.lessons.update(id, {
      status: 'failed',
      failureCode: code,
      failureReason: withoutServerPaths(reason),
    });
  }

  /** The lesson a teacher may attach media to: theirs (or any, for an admin), and not mid-processing. */
  async assertCanUpload(actor: AccessClaims, id: string): Promise<void> {
    const rec = await this.assertOwner(actor, id, 'upload to it');
    if (rec.status === 'processing') throw busy('metadata.lessonId');
  }

  /** The lesson, when the actor owns it (the one owner policy); NOT_FOUND or FORBIDDEN otherwise. */
  async assertOwner(actor: AccessClaims, id: string, doing?: string): Promise<LessonRecord> {
    const rec = await this.lessons.findById(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    assertOwnsLesson(actor, rec, doing);
    return rec;
  }

  private canSee(actor: AccessClaims, rec: LessonRecord): boolean {
    if (actor.role === 'student' || actor.role === 'family') return openToViewers(rec);
    return true;
  }
}

/** The lesson is being processed: the field that named it is the one to change (or wait). */
function busy(field: string): AppError {
  return new AppError('CONFLICT', 'this lesson is already being processed; try again when it is done', {
    errors: [{ path: field, message: 'this lesson is being processed' }],
  });
}

/** A grade or subject that can no longer change: the fields are named. */
function placementFixed(fields: readonly ('grade' | 'subject')[]): AppError {
  const message = LESSON_REFUSALS.placement_fixed;
  return new AppError('CONFLICT', `the lesson’s ${fields.join(' and ')} cannot change: ${message}`, {
    errors: fields.map((f) => ({ path: `body.${f}`, message, rule: 'placement_fixed' as const })),
  });
}

/** The lesson cannot be deleted now; the id is what names it. */
function undeletable(detail: string, why: Exclude<LessonRefusal, 'placement_fixed'>): AppError {
  return new AppError('CONFLICT', detail, {
    errors: [{ path: 'params.id', message: LESSON_REFUSALS[why], rule: why }],
  });
}

/** Viewers see ready lessons, and lessons taught live (now, or ended with the replay on its way). */
export function openToViewers(rec: Pick<LessonRecord, 'status' | 'live'>): boolean {
  return rec.status === 'ready' || (rec.live !== undefined && rec.status !== 'failed');
}
