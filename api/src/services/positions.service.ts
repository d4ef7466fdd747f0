import type { AccessClaims, PlaybackPosition } from '@sky/contracts';
import type { PositionRepository } from '../adapters/positions.repository.js';
import type { LessonService } from './lessons.service.js';

/** Resume positions, per signed-in user and lesson (anonymous viewers keep theirs in the browser). */
export class PositionService {
  constructor(
    private readonly positions: PositionRepository,
    private readonly lessons: Pick<LessonService, 'get'>,
  ) {}

  async get(actor: AccessClaims, lessonId: string): Promise<PlaybackPosition> {
    return { lessonId, positionSec: (await this.positions.get(actor.sub, lessonId)) ?? 0 };
  }

  /** Only for a lesson the viewer may see (NOT_FOUND otherwise, as for the lesson itself). */
  async save(actor: AccessClaims, lessonId: string, positionSec: number): Promise<PlaybackPosition> {
    await this.lessons.get(actor, lessonId);
    await this.positions.save(actor.sub, lessonId, positionSec, new Date());
    return { lessonId, positionSec };
  }
}
