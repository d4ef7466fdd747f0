import Hls from 'hls.js/light';
import type { Rendition } from '../analytics/beacons';

export interface Attached {
  /** Stops playback. */
  detach: () => void;
  /** The wall-clock moment on screen, from the stream's EXT-X-PROGRAM-DATE-TIME (hls.js only). */
  playingDate: () => Date | undefined;
}

/**
 * Plays an HLS master in a <video>: hls.js where Media Source Extensions exist, the browser's own HLS
 * elsewhere. Buffers are kept small for set-top boxes with little memory; a fatal error is retried a few
 * times before `onFatal` hears of it.
 */
export function attach(
  video: HTMLVideoElement,
  url: string,
  onFatal: (detail: string) => void,
  /** hls.js switched rendition (viewing beacons); native HLS players do not say. */
  onRendition?: (r: Rendition) => void,
  /**
   * Where to start: a programme's catch-up from its beginning even while it is still on the air (an
   * EVENT playlist, which players otherwise join at its live edge). Default: the live edge or 0.
   */
  startPosition?: number,
): Attached {
  if (Hls.isSupported()) {
    const hls = new Hls({
      ...(startPosition !== undefined ? { startPosition } : {}),
      // A channel lists a tick only once it is whole (the gateway never lists one still being cut), so
      // two 6-second ticks from the live edge are margin enough: 6 s nearer the teacher than hls.js's three.
      liveSyncDurationCount: 2,
      maxBufferLength: 30,
      maxBufferSize: 30 * 1000 * 1000,
      backBufferLength: 30,
    });
    let recoveries = 0;
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (recoveries < 3 && data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        recoveries++;
        hls.recoverMediaError();
        return;
      }
      if (
        recoveries < 3 &&
        data.type === Hls.ErrorTypes.NETWORK_ERROR &&
        data.details !== Hls.ErrorDetails.MANIFEST_LOAD_ERROR
      ) {
        recoveries++;
        hls.startLoad();
        return;
      }
      onFatal(data.details);
    });
    if (onRendition)
      hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
        const level = hls.levels[data.level];
        if (level && level.height > 0)
          onRendition({
            rendition: `${level.height}p`,
            ...(level.bitrate > 0 ? { bitrate: level.bitrate } : {}),
          });
      });
    hls.loadSource(url);
    hls.attachMedia(video);
    return { detach: () => hls.destroy(), playingDate: () => hls.playingDate ?? undefined };
  }
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    const onError = () => onFatal(video.error?.message ?? 'media error');
    video.addEventListener('error', onError);
    video.src = url;
    if (startPosition !== undefined) {
      video.addEventListener(
        'loadedmetadata',
        () => {
          const from = video.seekable.length > 0 ? video.seekable.start(0) : 0;
          video.currentTime = Math.max(from, startPosition);
        },
        { once: true },
      );
    }
    return {
      detach: () => {
        video.removeEventListener('error', onError);
        video.removeAttribute('src');
        video.load();
      },
      playingDate: () => undefined,
    };
  }
  onFatal('HLS is not supported by this browser');
  return { detach: () => undefined, playingDate: () => undefined };
}

/**
 * Starts playback; a box that refuses sound without a key press first plays muted. Resolves to whether
 * it is muted.
 */
export async function start(video: HTMLVideoElement): Promise<boolean> {
  try {
    await video.play();
    return video.muted;
  } catch (err) {
    if (!(err instanceof DOMException) || err.name !== 'NotAllowedError') return video.muted;
    video.muted = true;
    await video.play().catch(() => undefined);
    return true;
  }
}
