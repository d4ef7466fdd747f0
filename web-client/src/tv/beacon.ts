import type { GradeId } from '@sky/contracts';
import {
  attachBeacons,
  beaconClient,
  type BeaconClient,
  type BeaconContext,
  type RenditionSource,
} from '../analytics/beacons.js';
import { randomId, type BeaconStorage } from '../analytics/queue.js';
import { loadDevice } from './gateway.js';

/**
 * Viewing beacons of the 10-foot UI (platform 'tv'), through the shared beacon library.
 *
 * Where they go: the page serving the UI may say (`window.SKY_BEACON_URL`, an absolute URL of the api's
 * `/api/analytics/beacons`); otherwise `api/analytics/beacons` relative to the page, i.e. on the tv-gateway,
 * like every other request of the box (boxes reach only the gateway). They are sent as text/plain, so a
 * box on another origin than the api needs no CORS preflight.
 */
export function beaconUrl(): string {
  // (typed here too: node tests import this file without the TV's env.d.ts)
  const configured =
    typeof window !== 'undefined' ? (window as { SKY_BEACON_URL?: string }).SKY_BEACON_URL : undefined;
  return configured && configured.length > 0 ? configured : 'api/analytics/beacons';
}

const BOX_KEY = 'sky.tv.viewer';

function boxStorage(): BeaconStorage | null {
  try {
    const s = window.localStorage;
    s.getItem(BOX_KEY);
    return s;
  } catch {
    return null;
  }
}

/**
 * Who is watching, before hashing: the paired device's id, else an id this box made up once and keeps
 * (an unpaired box is still one viewer from day to day).
 */
export function boxViewer(storage: BeaconStorage | null = boxStorage()): string {
  const paired = loadDevice();
  if (paired) return `device:${paired.device.id}`;
  const fresh = `box:${randomId(22)}`;
  try {
    const kept = storage?.getItem(BOX_KEY);
    if (kept) return kept;
    storage?.setItem(BOX_KEY, fresh);
  } catch {
    // no storage: a new id per page load
  }
  return fresh;
}

/** The box's beacon client (one per page). */
export function tvBeaconClient(): BeaconClient {
  const storage = boxStorage();
  // A paired box shows its device token when asking for its viewer id: the gateway answers with the
  // device's own; an unpaired box gets an anonymous one (kept in storage).
  return beaconClient({
    url: beaconUrl(),
    viewer: boxViewer(storage),
    storage,
    viewerToken: () => loadDevice()?.token,
  });
}

/** What is on screen, as the analytics count it. */
export interface TvWatch {
  kind: 'live' | 'catchup' | 'vod';
  /** Plan lesson id (live, catch-up) or api lesson id (on demand); nothing on air: no beacons. */
  lessonId: string | undefined;
  grade?: GradeId | undefined;
  subject?: string | undefined;
}

/**
 * Follows the player's <video> for one lesson: start, heartbeats, pauses, seeks, stalls, rendition changes
 * and the end. A live channel moving on to its next programme is a new session (call again with it).
 */
export function watchOnTv(
  video: HTMLVideoElement,
  watch: TvWatch,
  renditions?: RenditionSource,
  client: BeaconClient = tvBeaconClient(),
): () => void {
  if (!watch.lessonId) return () => undefined;
  const context: BeaconContext = {
    lessonId: watch.lessonId,
    platform: 'tv',
    ...(watch.kind === 'live' ? { live: true } : {}),
    ...(watch.grade ? { grade: watch.grade } : {}),
    ...(watch.subject ? { subject: watch.subject } : {}),
  };
  return attachBeacons(video, context, { client, ...(renditions ? { renditions } : {}) });
}
