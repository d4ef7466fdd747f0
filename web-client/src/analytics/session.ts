/**
 * A viewing session of one <video>, as beacon events (issue 7): `attachBeacons` follows the element and
 * says what happened to a `BeaconSender` — the page's BeaconClient (./beacons: viewer id, contract check,
 * queue), or `laterBeaconClient`, which holds the events until that client's code has loaded. The lesson
 * page loads it after the video's first frame; its start (with the start-up time) is recorded from the
 * first moment all the same. No zod and no queue here. ES2019 library only: the TV bundle includes it.
 */
import { DEFAULT_HEARTBEAT_SEC, VIEW_THRESHOLD_SEC, type GradeId, type Platform } from '@sky/contracts';
import { randomId } from './random-id.js';

/** What a session's events say about what is watched, where. */
export interface BeaconContext {
  lessonId: string;
  platform: Platform;
  live?: boolean;
  grade?: GradeId;
  subject?: string;
  district?: string;
  school?: string;
}

/** What every event of a session carries. */
export interface BeaconCommon extends BeaconContext {
  sessionId: string;
  position: number;
  duration?: number;
  rendition?: string;
}

/** What one event says, by its type. */
export type BeaconBody =
  | { type: 'start'; startupMs?: number }
  | { type: 'heartbeat'; watchedSec: number }
  | { type: 'pause' }
  | { type: 'seek'; from: number }
  | { type: 'stall'; durationMs: number }
  | { type: 'quality'; rendition: string; bitrate?: number }
  | { type: 'end'; watchedSec: number };

/**
 * Where the viewer studies, for a session's context: the district and school of their profile (the web's
 * players — on demand, live over HLS or WebRTC — send the same, so live views count under them too).
 */
export function viewerPlace(
  user: { district?: string | undefined; school?: string | undefined } | null | undefined,
): Pick<BeaconContext, 'district' | 'school'> {
  return {
    ...(user?.district ? { district: user.district } : {}),
    ...(user?.school ? { school: user.school } : {}),
  };
}

/** A rendition change: `720p` and, when known, the bitrate in bit/s. */
export interface Rendition {
  rendition: string;
  bitrate?: number;
}

/** Reports rendition changes to `emit` until the returned function is called. */
export type RenditionSource = (emit: (r: Rendition) => void) => () => void;

export interface AttachOptions {
  client: BeaconSender;
  /** Rendition changes from the player (hls.js LEVEL_SWITCHED); else the video's own height. */
  renditions?: RenditionSource;
  /** Milliseconds of wall time (tests): default Date.now / performance.now. */
  now?: () => number;
  /** The first heartbeat goes after this much watching, so a view (10 s) shows up promptly. */
  firstBeatSec?: number;
}

/** A session as its client knows it: what ends it when the page goes away. */
export interface BeaconSession {
  endNow: () => void;
}

/** What a session needs of the page's beacon client. */
export interface BeaconSender {
  /** Queues one event; `at` is when it happened (ms since the epoch; default now). */
  send(common: BeaconCommon, body: BeaconBody, at?: number): void;
  /** The sessions to end when the page goes away. */
  readonly active: { add(session: BeaconSession): unknown; delete(session: BeaconSession): unknown };
  /** The heartbeat interval the server asks for. */
  readonly heartbeatSec: number;
  flush(): Promise<void>;
}

/**
 * A sender for the client `load` resolves to, usable at once: events wait here in order, each with the
 * time it happened, and go to the client when it arrives (nothing is sent if it never does). Sessions
 * handed to `active` meanwhile are passed on, so the page's exit still ends them.
 */
export function laterBeaconClient(load: Promise<BeaconSender>): BeaconSender {
  let client: BeaconSender | undefined;
  const waiting: [BeaconCommon, BeaconBody, number][] = [];
  const sessions = new Set<BeaconSession>();
  const arrived = load.then(
    (c) => {
      client = c;
      sessions.forEach((s) => c.active.add(s));
      sessions.clear();
      for (const [common, body, at] of waiting.splice(0)) c.send(common, body, at);
      return c;
    },
    () => undefined, // its code could not be loaded (offline): the events are lost with the page
  );
  return {
    send(common, body, at = Date.now()) {
      if (client) client.send(common, body, at);
      else waiting.push([common, body, at]);
    },
    active: {
      add: (s) => (client ? client.active.add(s) : sessions.add(s)),
      delete: (s) => (client ? client.active.delete(s) : sessions.delete(s)),
    },
    get heartbeatSec() {
      return client ? client.heartbeatSec : DEFAULT_HEARTBEAT_SEC;
    },
    flush: () => (client ? client.flush() : arrived.then((c) => c?.flush())),
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Follows `video` and sends its session's events through `client`; returns what stops following it
 * (sending `end` if the session is running).
 */
export function attachBeacons(
  video: HTMLVideoElement,
  context: BeaconContext,
  opts: AttachOptions,
): () => void {
  const { client } = opts;
  const now = opts.now ?? (() => (typeof performance !== 'undefined' ? performance.now() : Date.now()));
  const firstBeatSec = opts.firstBeatSec ?? VIEW_THRESHOLD_SEC;
  const attachedAt = now();

  let sessionId = randomId(22);
  let state: 'idle' | 'active' | 'ended' = 'idle';
  let requestedAt: number | null = video.paused ? null : attachedAt;
  let lastPos = video.currentTime;
  let watched = 0;
  let beats = 0;
  let lastBeatAt = 0;
  let stallFrom: number | null = null;
  let seekFrom: number | null = null;
  let rendition: string | undefined;

  const position = () => {
    const p = video.currentTime;
    return Number.isFinite(p) && p >= 0 ? Math.min(86_400, round1(p)) : 0;
  };
  const emit = (body: BeaconBody) => {
    const d = video.duration;
    client.send(
      {
        ...context,
        sessionId,
        position: position(),
        // a live stream's duration is Infinity: left out
        ...(Number.isFinite(d) && d > 0 ? { duration: round1(d) } : {}),
        ...(rendition ? { rendition } : {}),
      },
      body,
    );
  };
  const takeWatched = () => {
    const w = round1(watched);
    watched = 0;
    return w;
  };
  const heartbeat = () => {
    beats++;
    lastBeatAt = now();
    emit({ type: 'heartbeat', watchedSec: takeWatched() });
  };
  /** `startupMs` undefined: the video was already playing, there was no start-up to measure. */
  const start = (startupMs: number | undefined) => {
    state = 'active';
    watched = 0;
    beats = 0;
    lastBeatAt = now();
    lastPos = video.currentTime;
    emit(
      startupMs === undefined
        ? { type: 'start' }
        : { type: 'start', startupMs: Math.max(0, Math.round(startupMs)) },
    );
  };
  const end = () => {
    if (state !== 'active') return;
    state = 'ended';
    stallFrom = null;
    emit({ type: 'end', watchedSec: takeWatched() });
  };
  const tracker = { endNow: end };
  client.active.add(tracker);

  const onPlay = () => {
    if (state === 'ended') {
      sessionId = randomId(22);
      state = 'idle';
    }
    if (state === 'idle' && requestedAt === null) requestedAt = now();
  };
  const onPlaying = () => {
    const t = now();
    if (state !== 'active') {
      start(t - (requestedAt ?? attachedAt));
      requestedAt = null;
      return;
    }
    if (stallFrom !== null) {
      emit({ type: 'stall', durationMs: Math.round(t - stallFrom) });
      stallFrom = null;
    }
  };
  const onWaiting = () => {
    if (state === 'active' && !video.seeking && stallFrom === null) stallFrom = now();
  };
  const onTime = () => {
    const p = video.currentTime;
    const rate = video.playbackRate > 0 ? video.playbackRate : 1;
    const d = p - lastPos;
    lastPos = p;
    if (state !== 'active' || video.seeking || d <= 0 || d > 3 * Math.max(1, rate)) return;
    watched += d / rate;
    const due = beats === 0 ? Math.min(firstBeatSec, client.heartbeatSec) : client.heartbeatSec;
    if (watched >= due) heartbeat();
  };
  const onSeeking = () => {
    if (seekFrom === null) seekFrom = lastPos;
    stallFrom = null;
  };
  const onSeeked = () => {
    const from = seekFrom;
    seekFrom = null;
    lastPos = video.currentTime;
    if (state === 'active' && from !== null && Math.abs(from - video.currentTime) >= 0.5)
      emit({ type: 'seek', from: round1(Math.max(0, from)) });
  };
  const onPause = () => {
    stallFrom = null;
    if (state === 'active' && !video.ended) emit({ type: 'pause' });
  };
  const onEnded = () => end();
  const setRendition = (r: Rendition) => {
    if (r.rendition === rendition) return;
    rendition = r.rendition;
    if (state === 'active')
      emit({
        type: 'quality',
        rendition: r.rendition,
        ...(r.bitrate ? { bitrate: Math.round(r.bitrate) } : {}),
      });
  };
  const onResize = () => {
    if (video.videoHeight > 0) setRendition({ rendition: `${video.videoHeight}p` });
  };

  const events: [string, () => void][] = [
    ['play', onPlay],
    ['playing', onPlaying],
    ['waiting', onWaiting],
    ['timeupdate', onTime],
    ['seeking', onSeeking],
    ['seeked', onSeeked],
    ['pause', onPause],
    ['ended', onEnded],
  ];
  for (const [name, fn] of events) video.addEventListener(name, fn);
  const offRenditions = opts.renditions ? opts.renditions(setRendition) : undefined;
  if (!offRenditions) video.addEventListener('resize', onResize);

  // Presence while playing but not advancing (a long stall): the wall clock sends the heartbeat.
  const ticker = setInterval(() => {
    if (state === 'active' && !video.paused && now() - lastBeatAt >= client.heartbeatSec * 1000) heartbeat();
  }, 1000);

  // Attached to a video that is already playing (a live channel's next programme): it starts now.
  if (!video.paused && video.readyState >= 3) start(undefined);

  return () => {
    clearInterval(ticker);
    for (const [name, fn] of events) video.removeEventListener(name, fn);
    if (offRenditions) offRenditions();
    else video.removeEventListener('resize', onResize);
    end();
    client.active.delete(tracker);
    void client.flush();
  };
}
