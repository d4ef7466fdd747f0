import { access } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { MediaStorage } from '@sky/contracts/storage';
import {
  AppError,
  ownsLesson,
  TRANSCODE_PRIORITY,
  type AccessClaims,
  type LiveEndedJob,
  type LiveInfo,
  type LiveState,
  type SfuNodeAsk,
} from '@sky/contracts';
import type { LessonRecord, LessonRepository } from '../adapters/lessons.repository.js';
import type { LiveRepository } from '../adapters/live.repository.js';
import type { JobQueues } from '../adapters/queue.js';
import { assertOwnsLesson } from './access.policy.js';

/**
 * A lesson taught live: the teacher goes live here, the sfu runs the room and the HLS bridge, and its
 * `live.ended` job turns the recording into the replay through the same transcode pipeline as uploads.
 */
export class LiveService {
  private readonly reading = new Map<string, ReturnType<LessonRepository['findById']>>();

  constructor(
    private readonly lessons: LessonRepository,
    private readonly live: LiveRepository,
    private readonly queues: JobQueues,
    private readonly opts: {
      sfuUrl: string;
      mediaBaseUrl: string;
      /**
       * With an object store (S3) the transcoders share no folder with the sfu: a recording is copied from
       * the media folder into the store before its replay is queued.
       */
      recordings?: { mediaDir: string; store: MediaStorage };
      /** Several sfu nodes: the one a lesson's client goes to (the directory); undefined → sfuUrl. */
      sfuFor?: ((lessonId: string, ask: SfuNodeAsk) => Promise<string | undefined>) | undefined;
    },
  ) {}

  /** The owner teacher (or an admin) starts teaching a draft lesson live. */
  async start(actor: AccessClaims, id: string): Promise<LiveInfo> {
    const rec = await this.lessons.findById(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    assertOwnsLesson(actor, rec, 'teach it live');
    if (rec.live?.state === 'live') throw new AppError('CONFLICT', 'this lesson is already live');
    if (rec.live?.state === 'ended') throw new AppError('CONFLICT', 'this lesson was already taught live');
    if (rec.status !== 'draft' || rec.master || rec.source)
      throw new AppError('CONFLICT', 'this lesson already has a video; create a new lesson to teach live');
    // the lesson's teacher teaches (an admin may open the room for them)
    const started = await this.live.start(id, rec.teacherId, new Date());
    if (!started) throw new AppError('CONFLICT', 'this lesson is already live');
    return this.info(started, await this.sfuUrl(id, started, { teaches: true }));
  }

  /**
   * Where to watch, or teach: anyone signed in may ask (the sfu asks with the viewer's token on room.join).
   * `unreachable`: the node the client could not reach (a dead node still beats for up to a second).
   */
  async get(actor: AccessClaims, id: string, unreachable?: string): Promise<LiveInfo> {
    const rec = await this.sharedRead(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    return this.info(rec, await this.sfuUrl(id, rec, { unreachable, teaches: ownsLesson(actor, rec) }));
  }

  /**
   * A dead sfu node's viewers all ask where their lesson went at once: one read of the lesson serves the
   * asks that arrive while it runs (what each would have read a moment earlier or later anyway).
   */
  private sharedRead(id: string): ReturnType<LessonRepository['findById']> {
    let read = this.reading.get(id);
    if (!read) {
      read = this.lessons.findById(id).finally(() => this.reading.delete(id));
      this.reading.set(id, read);
    }
    return read;
  }

  /** A live lesson's node from the sfu directory (teacher and class together, edges past capacity). */
  private async sfuUrl(id: string, rec: LessonRecord, ask: SfuNodeAsk): Promise<string> {
    if (!this.opts.sfuFor || rec.live?.state !== 'live') return this.opts.sfuUrl;
    // the directory unreachable: the configured node still serves (a single-node deployment's answer)
    return (await this.opts.sfuFor(id, ask).catch(() => undefined)) ?? this.opts.sfuUrl;
  }

  /** Whether a lesson is live, since when, and its public playlists: nothing more (no sfu address). */
  async state(id: string): Promise<LiveState> {
    const rec = await this.lessons.findById(id);
    if (!rec) throw new AppError('NOT_FOUND', `no lesson ${id}`);
    // no sfu address here: the directory is not asked
    const { lessonId, state, startedAt, endedAt, hls } = this.info(rec, this.opts.sfuUrl);
    return { lessonId, state, hls, ...(startedAt ? { startedAt } : {}), ...(endedAt ? { endedAt } : {}) };
  }

  /**
   * The sfu's `live.ended`: the lesson ends once, and its recording is queued as a replay. Safe to run
   * again (a re-delivered job): the state change is conditional and the transcode job id is fixed.
   */
  async ended(job: LiveEndedJob): Promise<void> {
    const rec = await this.lessons.findById(job.lessonId);
    if (!rec) return; // deleted meanwhile
    const changed = await this.live.end(
      job.lessonId,
      {
        teacherId: rec.live?.teacherId ?? rec.teacherId,
        startedAt: rec.live?.startedAt ?? new Date(job.startedAt),
        endedAt: new Date(job.endedAt),
      },
      job.recording
        ? { status: 'processing' }
        : { status: 'failed', failureReason: 'nothing was recorded while the lesson was live' },
    );
    const now = changed ?? (await this.lessons.findById(job.lessonId));
    // queue (again) only while the replay is still to be made: never after it became ready
    if (!job.recording || now?.status !== 'processing') return;
    const copy = this.opts.recordings;
    if (copy) {
      const file = join(copy.mediaDir, job.recording);
      // a recording that is not there is queued all the same: the transcoder fails it with its reason
      const there = await access(file).then(
        () => true,
        () => false,
      );
      // an sfu with the same store has stored it already (it may not share this folder at all)
      if (there && !(await copy.store.head(job.recording))) await copy.store.putFile(job.recording, file);
    }
    await this.queues.enqueue(
      'transcode.vod',
      {
        lessonId: job.lessonId,
        source: job.recording,
        outputDir: posix.join('lessons', job.lessonId, `replay-${Date.parse(job.endedAt).toString(36)}`),
        requestedBy: now.live?.teacherId ?? now.teacherId,
        kind: 'replay',
      },
      { priority: TRANSCODE_PRIORITY.replay, jobId: `replay-${job.lessonId}` },
    );
  }

  private info(rec: LessonRecord, sfuUrl: string): LiveInfo {
    const base = `${this.opts.mediaBaseUrl}/live/${rec.id}`;
    return {
      lessonId: rec.id,
      state: rec.live?.state ?? 'idle',
      teacherId: rec.live?.teacherId ?? rec.teacherId,
      ...(rec.live ? { startedAt: rec.live.startedAt.toISOString() } : {}),
      ...(rec.live?.endedAt ? { endedAt: rec.live.endedAt.toISOString() } : {}),
      sfuUrl,
      hls: { web: `${base}/web/master.m3u8`, tv: `${base}/tv/master.m3u8` },
    };
  }
}
