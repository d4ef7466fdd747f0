import { scheduleChangedChannel, type ScheduleChanged } from '@sky/contracts';
import type { Redis } from 'ioredis';
import type { SchedulePublisher } from '../services/schedule.service.js';

/** Schedule changes on Redis pub/sub: tv-gateway drops its cached playlists, api tells open timetables. */
export function redisPublisher(redis: Redis, prefix: string): SchedulePublisher {
  return {
    async publish(event: ScheduleChanged) {
      await redis.publish(scheduleChangedChannel(prefix), JSON.stringify(event));
    },
  };
}
