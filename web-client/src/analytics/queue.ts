// The delivery half of the beacon library: a bounded queue of events, sent in batches, retried with
// backoff, kept in localStorage (the web) so a closed tab's events go out with the next page. ES2019
// library only: the TV bundle uses it too.
import { BEACON_BATCH_MAX_EVENTS, DEFAULT_HEARTBEAT_SEC } from '@sky/contracts';
import { randomId } from './random-id.js';

export { randomId };

/** What the queue needs to know of an event: its idempotency key (the server drops repeats). */
export interface QueuedEvent {
  eventId: string;
}

/** The answer to one POST, as the queue reads it. */
export interface TransportAnswer {
  status: number;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** Retry-After in seconds, when the server said. */
  retryAfterSec?: number | undefined;
}

/** How batches leave the page; a test passes its own. */
export interface BeaconTransport {
  /** POSTs a batch; rejects when there was no answer at all (offline, refused, CORS). */
  post(url: string, body: string, token: string | undefined): Promise<TransportAnswer>;
  /** Hands a batch to the browser while the page is going away; false when it refused it. */
  beacon(url: string, body: string): boolean;
}

/** The storage the web queue survives reloads in (window.localStorage), or none. */
export type BeaconStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

export interface QueueOptions<E extends QueuedEvent = QueuedEvent> {
  /** POST target; default `/api/analytics/beacons` (same origin). */
  url?: string;
  transport?: BeaconTransport;
  /** An access token to send with fetch (teachers' own views are then excluded by the server). */
  token?: () => string | undefined;
  storage?: BeaconStorage | null;
  /** How often a non-empty queue is sent, in ms (default 5000). */
  flushMs?: number;
  /** Events kept while the api cannot be reached; the oldest go first beyond this (default 1000). */
  maxQueue?: number;
  /** Events per POST (default 100; the api takes at most 200). */
  maxBatch?: number;
  now?: () => number;
  /** Schedules a flush (default setTimeout); tests drive time themselves. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  random?: () => number;
  /** Called with the server's heartbeat interval whenever a batch is accepted. */
  onHeartbeatSec?: (sec: number) => void;
  /**
   * Called for each event a 400 named, with the fields named (`viewerId`, …): true when the sender takes
   * the event back to mend and send again (it then leaves the queue without counting as dropped).
   */
  reclaim?: (event: E, fields: readonly string[]) => boolean;
}

export const DEFAULT_URL = '/api/analytics/beacons';
/** Bytes per batch: fetch keepalive and sendBeacon both refuse more than 64 KiB in flight. */
const MAX_BATCH_BYTES = 60_000;
const STORE_PREFIX = 'sky.beacons.';
/** A stored queue not touched for this long belongs to a closed or crashed tab: adopt it. */
const STALE_MS = 60_000;
/**
 * Stored events older than this are dropped unsent: the api recognises a resent event id for 6 h
 * (ANALYTICS_DEDUPE_TTL_SEC), so a batch it took but whose answer was lost must not come back later.
 */
const MAX_AGE_MS = 6 * 3600_000;
const MAX_BACKOFF_MS = 60_000;

interface Stored<E> {
  /** Last written. */
  t: number;
  /** Written at pagehide: adoptable at once. */
  closed?: boolean;
  events: { e: E; q: number }[];
}

const utf8Length = (s: string) => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3;
  }
  return n;
};

/** The index of each event a 400 named (`events.3.position` → 3). */
export function rejectedIndexes(body: unknown): number[] {
  return Object.keys(rejectedFields(body)).map(Number);
}

/** The fields a 400 named, per event index (`events.3.position` → { 3: ['position'] }). */
export function rejectedFields(body: unknown): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  if (!body || typeof body !== 'object') return out;
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return out;
  for (const err of errors as unknown[]) {
    const path = err && typeof err === 'object' ? (err as { path?: unknown; field?: unknown }) : {};
    const p = typeof path.path === 'string' ? path.path : typeof path.field === 'string' ? path.field : '';
    const m = /^events\.(\d+)(?:\.([^.]+))?/.exec(p);
    if (m) (out[Number(m[1])] ??= []).push(m[2] ?? '');
  }
  return out;
}

/** The browser's transport: fetch with keepalive (the answer is read), sendBeacon at page exit. */
export const browserTransport: BeaconTransport = {
  async post(url, body, token) {
    const res = await fetch(url, {
      method: 'POST',
      // text/plain is a "simple" request: no CORS preflight from a TV box on another origin.
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
      keepalive: true,
      credentials: 'omit',
    });
    const retry = Number(res.headers.get('retry-after'));
    let parsed: unknown;
    try {
      parsed = await res.json();
    } catch {
      parsed = undefined;
    }
    return {
      status: res.status,
      body: parsed,
      retryAfterSec: Number.isFinite(retry) && retry > 0 ? retry : undefined,
    };
  },
  beacon(url, body) {
    if (typeof navigator === 'undefined' || typeof navigator.sendBeacon !== 'function') return false;
    try {
      return navigator.sendBeacon(url, new Blob([body], { type: 'text/plain;charset=UTF-8' }));
    } catch {
      return false;
    }
  },
};

/**
 * Events wait here until the api has taken them. A flush sends up to `maxBatch` events (and 60 KB) per
 * POST; 2xx removes them, 400 drops the events the server named (never retried; unless `reclaim` takes
 * them back to mend), 413 halves the batch,
 * 401/403 retries without the token, 429/5xx/no answer backs off exponentially (1 s → 60 s, jittered,
 * Retry-After honoured) and keeps everything. The oldest events go first when `maxQueue` overflows.
 */
export class BeaconQueue<E extends QueuedEvent> {
  readonly url: string;
  private readonly id: string;
  private readonly transport: BeaconTransport;
  private readonly storage: BeaconStorage | null;
  private readonly o: Required<
    Pick<QueueOptions, 'flushMs' | 'maxQueue' | 'now' | 'setTimer' | 'clearTimer' | 'random'>
  > &
    QueueOptions<E>;
  private pending: { e: E; q: number }[] = [];
  private timer: unknown = null;
  private inflight: Promise<void> | null = null;
  private failures = 0;
  private retryAt = 0;
  private batchSize: number;
  private useToken = true;
  /** Events dropped: overflow, refused by the server as malformed, or too old. */
  dropped = 0;
  /** Events the server has taken (accepted + duplicates). */
  delivered = 0;
  heartbeatSec = DEFAULT_HEARTBEAT_SEC;

  constructor(options: QueueOptions<E> = {}) {
    this.o = {
      flushMs: 5000,
      maxQueue: 1000,
      now: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      random: Math.random,
      ...options,
    };
    this.url = options.url ?? DEFAULT_URL;
    this.transport = options.transport ?? browserTransport;
    this.storage = options.storage ?? null;
    this.batchSize = Math.min(BEACON_BATCH_MAX_EVENTS, options.maxBatch ?? 100);
    this.id = randomId(12);
    this.adopt();
  }

  get size(): number {
    return this.pending.length;
  }

  push(event: E): void {
    this.pending.push({ e: event, q: this.o.now() });
    if (this.pending.length > this.o.maxQueue) {
      const over = this.pending.length - this.o.maxQueue;
      this.pending.splice(0, over);
      this.dropped += over;
    }
    this.persist();
    this.schedule(this.o.flushMs);
  }

  /** Sends what is queued now (one batch after another); resolves when the queue is empty or backing off. */
  flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.cancelTimer();
    this.inflight = this.drain().finally(() => {
      this.inflight = null;
      if (this.pending.length > 0) this.schedule(Math.max(this.o.flushMs, this.retryAt - this.o.now()));
    });
    return this.inflight;
  }

  /**
   * The page is going away (pagehide, or hidden and maybe never shown again): everything queued goes to
   * sendBeacon, which outlives the page; what it refuses stays stored for the next page.
   */
  flushOnExit(): void {
    this.cancelTimer();
    const sent: { e: E; q: number }[] = [];
    let rest = this.pending.filter((p) => !this.sending.has(p));
    while (rest.length > 0) {
      // sendBeacon sets no headers: the token travels in the body (never in the URL, which logs keep)
      const token = this.useToken ? this.o.token?.() : undefined;
      const { take, body } = this.batch(rest, token);
      if (!this.transport.beacon(this.url, body)) break;
      sent.push(...take);
      rest = rest.slice(take.length);
    }
    const gone = new Set(sent);
    this.pending = this.pending.filter((p) => !gone.has(p));
    this.persist(true);
  }

  /** Stops the timer; queued events stay stored for the next page. */
  close(): void {
    this.cancelTimer();
    this.persist(true);
  }

  private sending = new Set<{ e: E; q: number }>();

  private async drain(): Promise<void> {
    for (let guard = 0; guard < 1000 && this.pending.length > 0; guard++) {
      if (this.o.now() < this.retryAt) return;
      const { take, body } = this.batch(this.pending);
      for (const t of take) this.sending.add(t);
      let answer: TransportAnswer | null;
      try {
        answer = await this.transport.post(this.url, body, this.useToken ? this.o.token?.() : undefined);
      } catch {
        answer = null;
      } finally {
        for (const t of take) this.sending.delete(t);
      }
      const status = answer?.status ?? 0;
      if (status >= 200 && status < 300) {
        this.remove(take);
        this.delivered += take.length;
        this.failures = 0;
        this.retryAt = 0;
        const hb = (answer?.body as { heartbeatSec?: unknown } | undefined)?.heartbeatSec;
        if (typeof hb === 'number' && hb >= 5 && hb <= 3600) {
          this.heartbeatSec = hb;
          this.o.onHeartbeatSec?.(hb);
        }
        continue;
      }
      if (status === 400) {
        const fields = rejectedFields(answer?.body);
        const bad = Object.keys(fields)
          .map(Number)
          .filter((i) => i < take.length);
        // Without an index the whole batch is unusable: retrying it would fail forever.
        const refused = bad.length > 0 ? bad.map((i) => take[i]!) : take;
        const taken = bad.filter((i) => this.o.reclaim?.(take[i]!.e, fields[i] ?? []) === true).length;
        this.remove(refused);
        this.dropped += refused.length - taken;
        continue;
      }
      if (status === 413 && take.length > 1) {
        this.batchSize = Math.max(1, Math.floor(take.length / 2));
        continue;
      }
      if ((status === 401 || status === 403) && this.useToken && this.o.token?.()) {
        // A stale token must not cost the events: the view is counted as anyone's.
        this.useToken = false;
        continue;
      }
      if (status === 0 || status === 408 || status === 429 || status >= 500) {
        this.failures++;
        const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
        const jittered = backoff * (0.5 + this.o.random() / 2);
        const wait =
          answer?.retryAfterSec !== undefined ? Math.max(jittered, answer.retryAfterSec * 1000) : jittered;
        this.retryAt = this.o.now() + wait;
        this.persist();
        return;
      }
      // Any other refusal (404: no ingest here) would repeat: drop rather than loop.
      this.remove(take);
      this.dropped += take.length;
    }
  }

  private batch(
    from: { e: E; q: number }[],
    accessToken?: string,
  ): { take: { e: E; q: number }[]; body: string } {
    const json = (take: { e: E; q: number }[]) =>
      JSON.stringify({ events: take.map((p) => p.e), ...(accessToken ? { accessToken } : {}) });
    let take = from.slice(0, this.batchSize);
    let body = json(take);
    while (take.length > 1 && utf8Length(body) > MAX_BATCH_BYTES) {
      take = take.slice(0, Math.ceil(take.length / 2));
      body = json(take);
    }
    return { take, body };
  }

  private remove(items: { e: E; q: number }[]): void {
    const gone = new Set(items);
    this.pending = this.pending.filter((p) => !gone.has(p));
    this.persist();
  }

  private schedule(ms: number): void {
    if (this.timer !== null) return;
    this.timer = this.o.setTimer(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer === null) return;
    this.o.clearTimer(this.timer);
    this.timer = null;
  }

  private persist(closed = false): void {
    const s = this.storage;
    if (!s) return;
    const key = STORE_PREFIX + this.id;
    try {
      if (this.pending.length === 0) s.removeItem(key);
      else {
        const stored: Stored<E> = { t: this.o.now(), events: this.pending, ...(closed ? { closed } : {}) };
        s.setItem(key, JSON.stringify(stored));
      }
    } catch {
      // storage full or refused: the events still wait in memory
    }
  }

  /** Takes over the events other pages left behind (closed, or silent for a minute). */
  private adopt(): void {
    const s = this.storage;
    if (!s) return;
    const now = this.o.now();
    const keys: string[] = [];
    try {
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i);
        if (k && k.indexOf(STORE_PREFIX) === 0) keys.push(k);
      }
      for (const k of keys) {
        const raw = s.getItem(k);
        let stored: Stored<E> | null = null;
        try {
          stored = raw ? (JSON.parse(raw) as Stored<E>) : null;
        } catch {
          stored = null;
        }
        if (stored && !stored.closed && now - stored.t < STALE_MS) continue;
        s.removeItem(k);
        if (!stored || !Array.isArray(stored.events)) continue;
        for (const p of stored.events) {
          if (p && p.e && typeof p.e.eventId === 'string' && now - p.q < MAX_AGE_MS) this.pending.push(p);
          else this.dropped++;
        }
      }
    } catch {
      return;
    }
    if (this.pending.length > 0) {
      this.persist();
      this.schedule(0);
    }
  }
}
