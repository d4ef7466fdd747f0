import {
  AppError,
  Beacon,
  fieldErrorsFromIssues,
  type BeaconBatchResult,
  type FieldError,
  type Role,
} from '@sky/contracts';
import { z } from 'zod';
import type { AnalyticsKeys, IngestOutcome, ShardPart } from '../adapters/analytics.redis.js';
import type { AnalyticsCatalog } from './analytics.catalog.js';

/**
 * Where accepted beacons go: each viewer's to its stream shard, deduplicated by event id per viewer
 * session, held to each viewer's session budget, and appended in one step per shard — or refused whole
 * when the shard's unapplied backlog would pass its cap.
 */
export interface BeaconStore {
  keys: Pick<AnalyticsKeys, 'shards' | 'shardOf'>;
  /** `client`: whose request this is (`u:<user>`, `v:<viewer>`), counted against its rate in the same step. */
  ingest(parts: readonly ShardPart[], client: string): Promise<IngestOutcome>;
}

/** An AppError the client should meet by sending the same request again after `retryAfterSec` (Retry-After). */
export class RetryLater extends AppError {
  constructor(
    code: 'RATE_LIMITED' | 'OVERLOADED' | 'DEPENDENCY_DOWN',
    message: string,
    readonly retryAfterSec: number,
  ) {
    super(code, message);
  }
}

/** What the ingest checks a batch against: signed viewer ids, lessons and places that exist. */
export interface BeaconChecks {
  viewers: { verify(id: string): boolean };
  catalog: Pick<AnalyticsCatalog, 'unknownLessons' | 'place'>;
}

export interface IngestOptions {
  maxEvents: number;
  /** The heartbeat interval clients are told to use (read per request: it can be raised live). */
  heartbeatSec: () => number;
  /** A shard's backlog (events) above which the interval is doubled, to shed load while aggregation catches up. */
  backlogHigh: number;
  /** Retry-After while the backlog is full (OVERLOADED). */
  overloadedRetrySec: number;
}

/** Seconds a client should wait before retrying while the event store is down. */
const DOWN_RETRY_SEC = 2;

/**
 * A batch split by stream shard (its viewers'). A batch of one shard — every real client's, which has one
 * viewer — is stored as received (`raw`); a batch spanning shards is written out again per shard.
 */
export function shardParts(
  events: readonly Beacon[],
  raw: string | undefined,
  keys: Pick<AnalyticsKeys, 'shards' | 'shardOf'>,
): ShardPart[] {
  const ids = (es: readonly Beacon[]) =>
    es.map((e) => ({ viewerId: e.viewerId, sessionId: e.sessionId, eventId: e.eventId }));
  const whole = (shard: number): ShardPart[] => [
    { shard, json: raw ?? JSON.stringify({ events }), ids: ids(events) },
  ];
  if (keys.shards === 1) return whole(0);
  const by = new Map<number, Beacon[]>();
  for (const e of events) {
    const n = keys.shardOf(e.viewerId);
    let group = by.get(n);
    if (!group) by.set(n, (group = []));
    group.push(e);
  }
  if (by.size === 1) return whole(by.keys().next().value!);
  return [...by].map(([shard, group]) => ({
    shard,
    json: JSON.stringify({ events: group }),
    ids: ids(group),
  }));
}

/** Roles whose own playback is not counted (they test, preview and teach). */
const EXCLUDED_ROLES: readonly Role[] = ['teacher', 'admin'];

// The count is checked before the schema (an oversized batch is 413, not 400).
const Batch = z.strictObject({
  events: z.array(Beacon).min(1),
  accessToken: z.string().max(4096).optional(),
});

/** POST /api/analytics/beacons: validate a batch, drop teachers' events, store the rest once. */
export class AnalyticsIngestService {
  constructor(
    private readonly store: BeaconStore,
    private readonly checks: BeaconChecks,
    private readonly opts: IngestOptions,
  ) {}

  /**
   * `raw` is the body as received: once it validated (strict schemas, no transforms) it is stored
   * as it is, sparing a re-serialisation of every event.
   */
  async ingest(
    body: unknown,
    raw: string | undefined,
    sender: { user: string; role: Role } | null,
  ): Promise<BeaconBatchResult> {
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
    if (sender && EXCLUDED_ROLES.includes(sender.role)) {
      return { accepted: 0, duplicates: 0, excluded: batch.length, heartbeatSec };
    }
    await this.check(batch);
    let res: IngestOutcome;
    try {
      // a sendBeacon batch's access token (its stand-in for the header) is never stored with the events
      const stored = parsed.data.accessToken === undefined ? raw : undefined;
      // The rate is per client: the signed-in user, else the batch's (signed, so not made up) viewer.
      const client = sender ? `u:${sender.user}` : `v:${batch[0]!.viewerId}`;
      res = await this.store.ingest(shardParts(batch, stored, this.store.keys), client);
    } catch {
      // Nothing is buffered here: the client keeps the batch and retries (same event ids).
      throw new RetryLater(
        'DEPENDENCY_DOWN',
        'the event store is unavailable; retry shortly',
        DOWN_RETRY_SEC,
      );
    }
    if (res.limitedMs !== undefined) {
      const sec = Math.max(1, Math.ceil(res.limitedMs / 1000));
      throw new RetryLater('RATE_LIMITED', `too many beacon batches; retry in ${sec} s`, sec);
    }
    if (res.full) {
      // Nothing unapplied is ever dropped to make room: the client keeps the batch and sends it again.
      // (A batch spanning shards may have been taken by the others: its repeat counts those as duplicates.)
      const what = res.accepted + res.duplicates + res.over > 0 ? 'all of this batch' : 'this batch';
      throw new RetryLater(
        'OVERLOADED',
        `viewing statistics are catching up and ${what} was not taken; send it again (same event ids) after Retry-After`,
        this.opts.overloadedRetrySec,
      );
    }
    return {
      accepted: res.accepted,
      duplicates: res.duplicates,
      excluded: res.over,
      heartbeatSec: res.backlog > this.opts.backlogHigh ? Math.min(300, heartbeatSec * 2) : heartbeatSec,
    };
  }

  /**
   * Nothing anonymous clients make up is counted: the viewer must be one the platform signed, the lesson
   * one that can be watched, the district and school ones that accounts' profiles name. Every event at
   * fault is named (`events.N.field`), so a client drops those and sends the rest again.
   */
  private async check(batch: readonly Beacon[]): Promise<void> {
    const errors: FieldError[] = [];
    const lessons = new Set<string>();
    const districts = new Set<string>();
    const schools = new Set<string>();
    batch.forEach((e, i) => {
      if (!this.checks.viewers.verify(e.viewerId))
        errors.push({
          path: `events.${i}.viewerId`,
          message: 'not a viewer id this platform issued; get one from POST /api/analytics/viewer',
        });
      lessons.add(e.lessonId);
      if (e.district !== undefined) districts.add(e.district);
      if (e.school !== undefined) schools.add(e.school);
    });
    const [noLesson, noDistrict, noSchool] = await Promise.all([
      this.checks.catalog.unknownLessons(lessons),
      districts.size > 0 ? this.checks.catalog.place('district', districts) : new Set<string>(),
      schools.size > 0 ? this.checks.catalog.place('school', schools) : new Set<string>(),
    ]);
    batch.forEach((e, i) => {
      if (noLesson.has(e.lessonId))
        errors.push({ path: `events.${i}.lessonId`, message: 'no published or live lesson has this id' });
      if (e.district !== undefined && noDistrict.has(e.district))
        errors.push({ path: `events.${i}.district`, message: 'no account’s profile names this district' });
      if (e.school !== undefined && noSchool.has(e.school))
        errors.push({ path: `events.${i}.school`, message: 'no account’s profile names this school' });
    });
    if (errors.length === 0) return;
    errors.sort((a, b) => eventIndex(a.path) - eventIndex(b.path));
    throw new AppError(
      'VALIDATION_FAILED',
      errors
        .slice(0, 5)
        .map((e) => `${e.path}: ${e.message}`)
        .join('; ') + (errors.length > 5 ? ` (and ${errors.length - 5} more)` : ''),
      { errors },
    );
  }
}

const eventIndex = (path: string) => Number(path.split('.')[1]);
