import type { JobHandler } from '../adapters/queue.js';
import type { LiveService } from '../services/live.service.js';

/** The sfu ended a live lesson: mark it ended and queue its recording as the replay. */
export function liveEndedJob(live: LiveService): JobHandler<'live.ended'> {
  return (job) => live.ended(job);
}
