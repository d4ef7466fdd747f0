import { QUEUES } from '@sky/contracts';
import type { JobType } from 'bullmq';
import type { LessonJobs } from '../services/lessons.service.js';
import type { JobQueues } from './queue.js';

/** Jobs that have not started: they can be taken off the queue. */
const PENDING: JobType[] = ['waiting', 'prioritized', 'delayed', 'paused', 'waiting-children'];
const PAGE = 500;

/**
 * A lesson's jobs in the transcode queue, found by the lesson id in their payload. Only jobs still to
 * run are read page by page (a backlog at the start of term may be long); running ones are few (one per
 * transcoder worker).
 */
export function transcodeJobs(queues: JobQueues): LessonJobs {
  const queue = () => queues.queue(QUEUES.transcode);
  const idsFor = async (lessonId: string, types: readonly JobType[]): Promise<string[]> => {
    const ids: string[] = [];
    for (const type of types) {
      for (let start = 0; ; start += PAGE) {
        const jobs = await queue().getJobs(type, start, start + PAGE - 1);
        for (const job of jobs as ({ id?: string; data?: { lessonId?: unknown } } | undefined)[])
          if (job?.id !== undefined && job.data?.lessonId === lessonId) ids.push(job.id);
        if (jobs.length < PAGE) break;
      }
    }
    return ids;
  };
  return {
    async cancel(lessonId) {
      if ((await idsFor(lessonId, ['active'])).length > 0) return 'running';
      for (const id of await idsFor(lessonId, PENDING)) {
        // 0: a worker took it a moment ago (locked), or it is gone already
        if ((await queue().remove(id)) === 0 && (await queue().getJobState(id)) === 'active')
          return 'running';
      }
      return 'cancelled';
    },
  };
}
