/**
 * Viewing beacons: the one client library of the on-demand player, the live page and the TV UI.
 *
 * Use:
 *   const client = beaconClient({ storage: localStorage, token: () => accessToken, viewer: user.id });
 *   const stop = attachBeacons(video, { lessonId, platform: 'web' }, { client, renditions });
 *   …
 *   stop(); // leaving the page or the lesson: sends `end`
 *
 * - `beaconClient(options)` returns the page's client for `options.url` (one per URL, created on first
 *   use; later calls return the same one). It batches events and POSTs them every `flushMs` (5 s) to
 *   `/api/analytics/beacons` with fetch keepalive; at pagehide or when the page is hidden what is queued
 *   goes by navigator.sendBeacon (text/plain JSON). 429/503/5xx/no answer: retried with exponential
 *   backoff (1 s → 60 s), events kept in memory (bounded, 1000) and in `storage` (localStorage on the web,
 *   so the next page sends what a closed tab could not). `viewer` is the user id (web) or the box's device
 *   id (TV): only its salted SHA-256 leaves the page.
 * - `attachBeacons(video, context, { client, renditions })` (./session, re-exported here) follows one
 *   <video> (hls.js, native HLS or a WebRTC MediaStream) and sends start (with startup time: play
 *   requested → first frame), heartbeat every `heartbeatSec` while playing (the server's number from its
 *   last answer; 30 by default; the first after 10 s watched so a view counts promptly), pause, seek
 *   (from → to), stall (waiting → playing, seeks not counted), quality (rendition changes: from
 *   `renditions`, else the video's height) and end (ended, replaced, disposed, or the page going away).
 *   `watchedSec` is measured from the media clock (timeupdate deltas ÷ playback rate), not wall time. A
 *   replay after the end is a new session.
 * - `context`: `{ lessonId, platform: 'web' | 'tv' | 'live-webrtc', live?, grade?, subject?, district?,
 *   school? }`. The live page: platform 'web' with live: true for HLS, 'live-webrtc' for WebRTC.
 * - `hlsRenditions(hls, Hls.Events.LEVEL_SWITCHED)` (./hls-renditions) adapts hls.js (full or light).
 * - `laterBeaconClient(import(…).then(…))` (./session): a session's events wait for this file and its
 *   contract schemas, which the lesson page loads after the video's first frame.
 * ES2019 library only: the TV bundle includes this file.
 */
import { Beacon, type Platform } from '@sky/contracts';
import { BeaconQueue, browserTransport, randomId, type QueueOptions } from './queue.js';
import type { BeaconBody, BeaconCommon, BeaconSender } from './session.js';

export {
  attachBeacons,
  laterBeaconClient,
  viewerPlace,
  type AttachOptions,
  type BeaconBody,
  type BeaconCommon,
  type BeaconContext,
  type BeaconSender,
  type BeaconSession,
  type Rendition,
  type RenditionSource,
} from './session.js';

export type BeaconPlatform = Platform;

/** One event as sent: the contract's Beacon (contracts/src/analytics.ts). */
export type BeaconEvent = Beacon;

/** Optional fields that are dropped (not the event) when they do not fit the contract. */
const OPTIONAL_DIMS = ['district', 'school', 'subject', 'grade', 'rendition', 'duration'] as const;

const VIEWER_STORE = 'sky.viewer.';
const VIEWER_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Events held while the signed viewer id is being fetched (the oldest go first beyond this). */
const MAX_WAITING = 1000;
/**
 * Times a page asks for a new viewer id after the api refused the kept one (its secret rotated, or the
 * id was altered); beyond this such events are dropped, so an api that refuses every id cannot loop us.
 */
const MAX_VIEWER_RENEWALS = 3;

/** `/api/analytics/beacons` → `/api/analytics/viewer` (same place, relative or absolute). */
export function viewerUrlOf(beaconUrl: string): string {
  const [path = '', query] = beaconUrl.split('?');
  const base = /\/beacons$/.test(path) ? path.replace(/\/beacons$/, '/viewer') : '/api/analytics/viewer';
  return query === undefined ? base : `${base}?${query}`;
}

export interface BeaconClientOptions extends QueueOptions {
  /**
   * Who is watching, as this page knows it (the user id, the TV's device id, or '' when anonymous): the
   * key of the signed viewer id the platform issues (POST /api/analytics/viewer), which is kept in
   * `storage` and goes into every event. Only the platform's signed id leaves the page.
   */
  viewer: string;
  /** Where the signed viewer id is asked for; default: the beacon URL's `…/viewer`. */
  viewerUrl?: string;
  /** The token sent when asking for it (default `token`): a signed-in user gets their own id. */
  viewerToken?: () => string | undefined;
  /** Listen to pagehide/visibilitychange (default true where a document exists). */
  pageEvents?: boolean;
}

/** A page's beacon sender: one queue, one viewer, the sessions it is following. */
export class BeaconClient implements BeaconSender {
  readonly queue: BeaconQueue<BeaconEvent>;
  private viewerKey = '';
  /** The platform's signed viewer id for viewerKey, once known. */
  private viewer: string | undefined;
  /** Events made before the signed viewer id arrived. */
  private waiting: Record<string, unknown>[] = [];
  private asking = false;
  private askFailures = 0;
  private askTimer: ReturnType<typeof setTimeout> | null = null;
  /** Viewer ids of this page the api refused: events still carrying one are sent again with the new id. */
  private readonly refusedIds = new Set<string>();
  private renewals = 0;
  private readonly options: BeaconClientOptions;
  private readonly viewerUrl: string;
  /** Sessions to end when the page goes away. */
  readonly active = new Set<{ endNow: () => void }>();
  private readonly offPage: () => void;

  constructor(options: BeaconClientOptions) {
    this.queue = new BeaconQueue<BeaconEvent>({
      ...options,
      reclaim: (event, fields) => this.reclaim(event, fields),
    });
    this.options = options;
    this.viewerUrl = options.viewerUrl ?? viewerUrlOf(this.queue.url);
    this.useViewer(options.viewer);
    const listen = options.pageEvents ?? typeof document !== 'undefined';
    if (!listen) {
      this.offPage = () => undefined;
      return;
    }
    const onHide = () => {
      this.active.forEach((s) => s.endNow());
      this.queue.flushOnExit();
    };
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') this.queue.flushOnExit();
    };
    window.addEventListener('pagehide', onHide);
    document.addEventListener('visibilitychange', onVisibility);
    this.offPage = () => {
      window.removeEventListener('pagehide', onHide);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }

  get heartbeatSec(): number {
    return this.queue.heartbeatSec;
  }

  /** Another user signed in on this page (or the box was paired): later events carry their id. */
  setViewer(id: string): void {
    if (id === this.viewerKey) return;
    this.useViewer(id);
  }

  /** The signed viewer id events carry now (undefined while it is being asked for). */
  get viewerId(): string | undefined {
    return this.viewer;
  }

  private useViewer(key: string): void {
    this.viewerKey = key;
    this.viewer = undefined;
    try {
      const kept = this.options.storage?.getItem(VIEWER_STORE + key);
      if (kept && VIEWER_ID.test(kept)) this.viewer = kept;
    } catch {
      // no storage: ask
    }
    if (this.viewer) this.release();
    else void this.askViewer();
  }

  /** Asks the platform for the signed viewer id (retried with backoff while it cannot answer). */
  private async askViewer(): Promise<void> {
    if (this.asking) return;
    this.asking = true;
    const key = this.viewerKey;
    const token = (this.options.viewerToken ?? this.options.token)?.();
    let id: unknown;
    try {
      const answer = await (this.options.transport ?? browserTransport).post(this.viewerUrl, '{}', token);
      if (answer.status === 200) id = (answer.body as { viewerId?: unknown } | undefined)?.viewerId;
    } catch {
      id = undefined;
    }
    this.asking = false;
    if (key !== this.viewerKey) return void this.askViewer(); // another viewer meanwhile
    if (typeof id !== 'string' || !VIEWER_ID.test(id)) {
      this.askFailures++;
      const wait = Math.min(300_000, 5000 * 2 ** (this.askFailures - 1));
      if (this.askTimer === null)
        this.askTimer = setTimeout(() => {
          this.askTimer = null;
          void this.askViewer();
        }, wait);
      return;
    }
    this.askFailures = 0;
    this.viewer = id;
    try {
      this.options.storage?.setItem(VIEWER_STORE + key, id);
    } catch {
      // kept in memory only
    }
    this.release();
  }

  /**
   * The api refused an event's viewer id (400 at `events.N.viewerId`): the kept id is forgotten, a new one
   * asked for, and the event (same event id) waits for it. Events of another viewer are not relabelled.
   */
  private reclaim(event: BeaconEvent, fields: readonly string[]): boolean {
    if (fields.indexOf('viewerId') < 0) return false;
    if (event.viewerId === this.viewer) {
      if (this.renewals >= MAX_VIEWER_RENEWALS) return false;
      this.renewals++;
      this.refusedIds.add(event.viewerId);
      this.viewer = undefined;
      try {
        this.options.storage?.removeItem(VIEWER_STORE + this.viewerKey);
      } catch {
        // nothing kept
      }
      void this.askViewer();
    } else if (!this.refusedIds.has(event.viewerId)) return false;
    const draft: Record<string, unknown> = { ...event };
    delete draft['viewerId'];
    this.hold(draft);
    return true;
  }

  /** Queues what waited for the signed viewer id. */
  private release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const draft of waiting) this.enqueue(draft);
  }

  /** Events this page could not make valid (counted, never sent). */
  invalid = 0;

  /**
   * Queues one event, stamped with its id, the viewer and the time, checked against the contract first:
   * an optional dimension that does not fit (a school name with a control character) is left out rather
   * than have the server refuse the event.
   */
  send(common: BeaconCommon, body: BeaconBody, at = Date.now()): void {
    this.hold({ ...common, ...body, eventId: randomId(22), at });
  }

  /** Queues an event, or holds it until the signed viewer id is known. */
  private hold(draft: Record<string, unknown>): void {
    if (this.viewer === undefined) {
      this.waiting.push(draft);
      if (this.waiting.length > MAX_WAITING) this.waiting.shift();
      return;
    }
    this.enqueue(draft);
  }

  private enqueue(draft: Record<string, unknown>): void {
    draft['viewerId'] = this.viewer;
    let parsed = Beacon.safeParse(draft);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path[0];
        if (typeof field === 'string' && (OPTIONAL_DIMS as readonly string[]).indexOf(field) >= 0)
          delete draft[field];
      }
      parsed = Beacon.safeParse(draft);
    }
    if (parsed.success) this.queue.push(parsed.data);
    else this.invalid++;
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  close(): void {
    this.offPage();
    if (this.askTimer !== null) clearTimeout(this.askTimer);
    this.askTimer = null;
    this.queue.close();
  }
}

const clients: Record<string, BeaconClient> = {};

/** The page's client for `options.url` (default `/api/analytics/beacons`), created on first use. */
export function beaconClient(options: BeaconClientOptions): BeaconClient {
  const key = options.url ?? '/api/analytics/beacons';
  const existing = clients[key];
  if (existing) {
    existing.setViewer(options.viewer);
    return existing;
  }
  const created = new BeaconClient(options);
  clients[key] = created;
  return created;
}
