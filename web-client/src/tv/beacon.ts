/** A viewing event of the 10-foot UI: playback started or stopped. */
export interface TvBeacon {
  type: 'play_start' | 'play_stop';
  platform: 'tv';
  kind: 'live' | 'catchup' | 'vod';
  channelId?: string;
  /** Plan lesson id (live, catch-up) or api lesson id (on demand). */
  lessonId?: string;
  /** play_stop: seconds of video actually played. */
  watchedSec?: number;
  /** ISO 8601, the box's clock. */
  at: string;
}

const recent: TvBeacon[] = [];

/**
 * Records a viewing event. Delivery to the analytics ingest comes with the analytics issue, which also
 * moves this shape into the contracts; until then events stay in a short in-memory list and nothing goes
 * over the network.
 */
export function sendBeacon(event: TvBeacon): void {
  recent.push(event);
  if (recent.length > 50) recent.shift();
}

/** The latest events, oldest first. */
export function recentBeacons(): readonly TvBeacon[] {
  return recent;
}
