// Viewing analytics' limits and intervals (issue 7): plain numbers, no zod, so a player can follow its
// session before the beacon schemas (analytics.ts, which re-exports these) are loaded.

/** Limits of one batch: more events → 413, a bigger body → 413. */
export const BEACON_BATCH_MAX_EVENTS = 200;
export const BEACON_BATCH_MAX_BYTES = 64 * 1024;
/** Heartbeat interval the server asks for when it has no reason to ask otherwise. */
export const DEFAULT_HEARTBEAT_SEC = 30;
/** A view counts once per session when its watched seconds reach this. */
export const VIEW_THRESHOLD_SEC = 10;
/** The retention curve's resolution: bucket i covers [i, i+1)% of the lesson's duration. */
export const RETENTION_BUCKETS = 100;
/** A heartbeat/end may report at most interval + this much watched time (buffering, timers). */
export const WATCHED_SLACK_SEC = 30;
/** Upper bound of watchedSec in one heartbeat/end (the server may raise the interval up to 300 s). */
export const MAX_WATCHED_SEC = 300 + WATCHED_SLACK_SEC;
