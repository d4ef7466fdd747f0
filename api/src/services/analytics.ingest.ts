import { AppError, Beacon, fieldErrorsFromIssues, type BeaconBatchResult, type Role } from '@sky/contracts';
import { z } from 'zod';
import type { BeaconIds } from '../adapters/analytics.redis.js';

/** Where accepted beacons go: deduplicated by event id and appended to the stream in one step. */
export interface BeaconStore {
  ingest(
    batchJson: string,
    events: readonly BeaconIds[],
  ): Promise<{ accepted: number; duplicates: number; backlog: number }>;
}

export interface IngestOptions {
  maxEvents: number;
  /** The heartbeat interval clients are told to use (read per request: it can be raised live). */
  heartbeatSec: () => number;
  /** Stream backlog (entries) above which the interval is doubled, to shed load while aggregation catches up. */
  backlogHigh: number;
}

/** Roles whose own playback is not counted (they test, preview and teach). */
const EXCLUDED_ROLES: readonly Role[] = ['teacher', 'admin'];

// The count is checked before the schema (an oversized batch is 413, not 400).
const Batch = z.strictObject({ events: z.array(Beacon).min(1) });

/** POST /api/analytics/beacons: validate a batch, drop teachers' events, store the rest once. */
export class AnalyticsIngestService {
  constructor(
    private readonly store: BeaconStore,
    private readonly opts: IngestOptions,
  ) {}

  /** The first event's viewer, for the per-client rate limit ('' when the body is not a batch). */
  static viewerOf(body: unknown): string {
    const events = (body as { events?: unknown } | null)?.events;
    const first: unknown = Array.isArray(events) ? events[0] : undefined;
    const v = (first as { viewerId?: unknown } | undefined)?.viewerId;
    return typeof v === 'string' ? v.slice(0, 64) : '';
  }

  /**
   * `raw` is the body as received: once it validated (strict schemas, no transforms) it is stored
   * as it is, sparing a re-serialisation of every event.
   */
  async ingest(body: unknown, raw: string | undefined, role: Role | null): Promise<BeaconBatchResult> {
    const events = (body as { events?: unknown } | null)?.events;
    if (Array.isArray(events) && events.length > this.opts.maxEvents) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `a batch holds at most ${this.opts.maxEvents} events (this one ${events.length}); split it`,
      );
    }
    const parsed = Batch.safeParse(body);
    if (!parsed.success) {
      const errors = fieldErrorsFromIssues(parsed.error.issues, '');
      throw new AppError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
        errors,
      });
    }
    const heartbeatSec = this.opts.heartbeatSec();
    const batch = parsed.data.events;
    if (role !== null && EXCLUDED_ROLES.includes(role)) {
      return { accepted: 0, duplicates: 0, excluded: batch.length, heartbeatSec };
    }
    const ids: BeaconIds[] = batch.map((e) => ({ sessionId: e.sessionId, eventId: e.eventId }));
    let res: { accepted: number; duplicates: number; backlog: number };
    try {
      res = await this.store.ingest(raw ?? JSON.stringify(parsed.data), ids);
    } catch {
      // Nothing is buffered here: the client keeps the batch and retries (same event ids).
      throw new AppError('DEPENDENCY_DOWN', 'the event store is unavailable; retry shortly');
    }
    return {
      accepted: res.accepted,
      duplicates: res.duplicates,
      excluded: 0,
      heartbeatSec: res.backlog > this.opts.backlogHigh ? Math.min(300, heartbeatSec * 2) : heartbeatSec,
    };
  }
}
