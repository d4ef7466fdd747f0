import { AppError, LIVE_LIMITS, type StageEntry, type StageState } from '@sky/contracts';

/** Raised hands and the students on stage of one room, by user (a reconnecting student keeps a place). */
export class Stage {
  private readonly queue = new Map<string, StageEntry>();
  private readonly onStage = new Map<string, StageEntry>();

  constructor(private readonly lessonId: string) {}

  state(): StageState {
    return { lessonId: this.lessonId, queue: [...this.queue.values()], onStage: [...this.onStage.values()] };
  }

  isOnStage(userId: string): boolean {
    return this.onStage.has(userId);
  }

  raise(userId: string, name: string): void {
    if (this.onStage.has(userId) || this.queue.has(userId)) return;
    if (this.queue.size >= LIVE_LIMITS.queueMax)
      throw new AppError('CONFLICT', 'too many raised hands; wait');
    this.queue.set(userId, { userId, name, since: new Date().toISOString() });
  }

  /** Leaves the queue or the stage; says which. */
  lower(userId: string): 'queue' | 'stage' | null {
    if (this.queue.delete(userId)) return 'queue';
    if (this.onStage.delete(userId)) return 'stage';
    return null;
  }

  invite(userId: string): StageEntry {
    const waiting = this.queue.get(userId);
    if (!waiting) {
      if (this.onStage.has(userId)) throw new AppError('CONFLICT', 'already on stage');
      throw new AppError('NOT_FOUND', 'that user has not raised a hand');
    }
    if (this.onStage.size >= LIVE_LIMITS.stageMax)
      throw new AppError('CONFLICT', `at most ${LIVE_LIMITS.stageMax} students on stage`);
    this.queue.delete(userId);
    const entry = { userId, name: waiting.name, since: new Date().toISOString() };
    this.onStage.set(userId, entry);
    return entry;
  }

  remove(userId: string): void {
    if (!this.onStage.delete(userId) && !this.queue.delete(userId))
      throw new AppError('NOT_FOUND', 'that user is not on stage nor in the queue');
  }

  setMuted(userId: string, muted: boolean): void {
    const e = this.onStage.get(userId);
    if (!e) throw new AppError('NOT_FOUND', 'that user is not on stage');
    if (muted) e.muted = true;
    else delete e.muted;
  }
}
