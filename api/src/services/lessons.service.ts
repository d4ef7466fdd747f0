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
  TRANSCODE_PRIORITY,
} from '@sky/contracts';
import type { JobQueues } from '../adapters/queue.js';
import { toLesson, type LessonRecord, type LessonRepository } from '../adapters/lessons.repository.js';

export interface MediaStore {
  exists(relativePath: string): Promise<boolean>;
}

export class LessonService {
  constructor(
    private readonly lessons: LessonRepository,
    private readonly queues: JobQueues,
    private readonly media: MediaStore,
    private readonly mediaBaseUrl: string,
    private readonly teacherName: (userId: string) => Promise<string | undefined>,
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
    // Students and families see lessons that are ready to watch; staff see every state.
    const viewer = actor.role === 'student' || actor.role === 'family';
    const filter = {
      ...(q.grade ? { grade: q.grade } : {}),
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.unit ? { unit: q.unit } : {}),
      ...(q.q ? { titleWords: q.q } : {}),
      ...(q.mine ? { teacherId: actor.sub } : {}),
      ...(viewer ? { status: 'ready' as const } : q.status ? { status: q.status } : {}),
    };
    const { items, total } = await this.lessons.list(filter, q.limit, q.offset);
    return { items: items.map((r) => toLesson(r, this.mediaBaseUrl)), total };
  }

  /** Queues the transcode of a file already in the media store; the lesson shows "processing" meanwhile. */
  async requestTranscode(actor: AccessClaims, id: string, source: string): Promise<Lesson> {
    const rec = await this.lessons.findById(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    if (actor.role !== 'admin' && rec.teacherId !== actor.sub) {
      throw new AppError('FORBIDDEN', 'only the lesson’s teacher or an admin may do this');
    }
    if (rec.status === 'processing') throw new AppError('CONFLICT', 'this lesson is already being processed');
    if (!(await this.media.exists(source))) throw new AppError('NOT_FOUND', `no media file ${source}`);
    const version = Date.now().toString(36);
    const updated = await this.lessons.update(id, { status: 'processing' }, ['failureReason', 'failureCode']);
    await this.queues.enqueue(
      'transcode.vod',
      {
        lessonId: id,
        source,
        outputDir: posix.join('lessons', id, version),
        requestedBy: actor.sub,
        kind: 'upload',
      },
      { priority: TRANSCODE_PRIORITY.upload },
    );
    return toLesson(updated ?? rec, this.mediaBaseUrl);
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

  async markFailed(id: string, code: MediaFailure, reason: string): Promise<void> {
    await this.lessons.update(id, { status: 'failed', failureCode: code, failureReason: reason });
  }

  /** The lesson a teacher may attach media to: theirs (or any, for an admin), and not mid-processing. */
  async assertCanUpload(actor: AccessClaims, id: string): Promise<void> {
    const rec = await this.assertOwner(actor, id);
    if (rec.status === 'processing') throw new AppError('CONFLICT', 'this lesson is already being processed');
  }

  /** The lesson's own teacher, or an admin. */
  async assertOwner(actor: AccessClaims, id: string): Promise<LessonRecord> {
    const rec = await this.lessons.findById(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    if (actor.role !== 'admin' && rec.teacherId !== actor.sub) {
      throw new AppError('FORBIDDEN', 'only the lesson’s teacher or an admin may do this');
    }
    return rec;
  }

  async recordSource(id: string, source: string): Promise<void> {
    await this.lessons.update(id, { source });
  }

  private canSee(actor: AccessClaims, rec: LessonRecord): boolean {
    if (actor.role === 'student' || actor.role === 'family') return openToViewers(rec);
    return true;
  }
}

/** Viewers see ready lessons, and lessons taught live (now, or ended with the replay on its way). */
export function openToViewers(rec: Pick<LessonRecord, 'status' | 'live'>): boolean {
  return rec.status === 'ready' || (rec.live !== undefined && rec.status !== 'failed');
}
