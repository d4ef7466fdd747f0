// The live HLS player without React: hls.js with the live settings, and the rules by which a viewer recovers
// by itself (the page's LiveHls and the live-latency bench's restart_recovery_s run this same code).
import Hls, { type HlsConfig } from 'hls.js/light';
import { LIVE_HLS_CONFIG } from './hls-config';

/** How long a playing player's picture may stand still before it starts over. */
export const LIVE_IDLE_RESTART_MS = 10_000;
/** Wait before starting again after a fatal network error (no playlist yet, the network blinked). */
export const LIVE_RETRY_MS = 2000;

export interface LiveHlsHooks {
  /** The master was read: time to call play(). */
  onManifest(): void;
  /** A new hls.js instance is attached (at the start and after each start-over); returns its cleanup. */
  onStart?(hls: Hls): (() => void) | undefined;
}

export interface LiveHlsPlayer {
  /** The hls.js instance playing now (null between a fatal error and the start-over). */
  current(): Hls | null;
  stop(): void;
}

/**
 * Plays `src` in `video` and keeps it playing: a media error is recovered in place; a fatal network error
 * starts over after LIVE_RETRY_MS; a player whose picture has not moved for LIVE_IDLE_RESTART_MS while it
 * should play (no frame yet, a lesson whose stream restarted, a blink hls.js did not count as fatal and
 * never got over) starts over. The last hls.js error and the
 * start-overs are written on the element (data-hls-error, data-hls-restarts) for support and tests.
 */
export function playLiveHls(
  video: HTMLVideoElement,
  src: string,
  hooks: LiveHlsHooks,
  /** hls.js settings: the live lesson's by default, a channel's (6-s ticks) on the channel page. */
  config: Partial<HlsConfig> = LIVE_HLS_CONFIG,
): LiveHlsPlayer {
  let retry: ReturnType<typeof setTimeout> | null = null;
  let hls: Hls | null = null;
  let gone = false;
  let detach: (() => void) | undefined;
  const start = () => {
    if (gone) return;
    const h = new Hls({ ...config });
    hls = h;
    h.on(Hls.Events.MANIFEST_PARSED, () => hooks.onManifest());
    h.on(Hls.Events.ERROR, (_e, data) => {
      video.dataset['hlsError'] = `${data.type}/${data.details}${data.fatal ? ' (fatal)' : ''}`;
      if (!data.fatal || hls !== h) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        h.recoverMediaError();
        return;
      }
      h.destroy();
      hls = null;
      retry = setTimeout(start, LIVE_RETRY_MS);
    });
    detach?.();
    detach = hooks.onStart?.(h);
    h.loadSource(src);
    h.attachMedia(video);
  };
  start();
  let idleSince = Date.now();
  let lastTime = video.currentTime;
  const watchdog = setInterval(() => {
    // Alive: between a fatal error and its start-over, paused by the viewer (with a picture), or moving.
    // Stuck: no picture yet, or a picture that stopped while meant to play (hls.js may keep retrying a
    // fragment for ever, e.g. fragLoadTimeOut after a stalled origin, at HAVE_METADATA).
    const moving = video.currentTime !== lastTime;
    lastTime = video.currentTime;
    if (!hls || moving || (video.paused && video.readyState > 0)) {
      idleSince = Date.now();
      return;
    }
    if (Date.now() - idleSince < LIVE_IDLE_RESTART_MS) return;
    idleSince = Date.now();
    video.dataset['hlsRestarts'] = String(Number(video.dataset['hlsRestarts'] ?? 0) + 1);
    hls.destroy();
    hls = null;
    start();
  }, 1000);
  return {
    current: () => hls,
    stop() {
      gone = true;
      if (retry) clearTimeout(retry);
      clearInterval(watchdog);
      detach?.();
      hls?.destroy();
      hls = null;
    },
  };
}
