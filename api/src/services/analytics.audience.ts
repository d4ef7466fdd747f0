import type { AccessClaims, LessonAudience } from '@sky/contracts';
import type { AnalyticsRedis } from '../adapters/analytics.redis.js';
import type { LessonService } from './lessons.service.js';

/**
 * A live lesson's audience across the three ways of watching (WebRTC room, live HLS, TV), from the
 * lesson's live sets the aggregator keeps: for the teacher's studio, and for admins and analysts.
 */
export class LessonAudienceService {
  constructor(
    private readonly redis: Pick<AnalyticsRedis, 'lessonLiveCounts'>,
    private readonly lessons: Pick<LessonService, 'assertOwner' | 'get'>,
    private readonly opts: { heartbeatSec: () => number },
  ) {}

  /** Sessions heard from within 2 × the heartbeat interval of `now`, as the dashboard's concurrentNow. */
  async audience(actor: AccessClaims, lessonId: string, now = Date.now()): Promise<LessonAudience> {
    // Analysts read every lesson's figures (as on the dashboard); others must be the lesson's staff.
    if (actor.role === 'analyst') await this.lessons.get(actor, lessonId);
    else await this.lessons.assertOwner(actor, lessonId);
    const n = await this.redis.lessonLiveCounts(lessonId, now - 2 * this.opts.heartbeatSec() * 1000);
    return {
      lessonId,
      webrtc: n['live-webrtc'],
      web: n.web,
      tv: n.tv,
      total: n['live-webrtc'] + n.web + n.tv,
      at: new Date(now).toISOString(),
    };
  }
}
