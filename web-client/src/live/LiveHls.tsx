// The large class: the live HLS stream (fMP4, 1 s segments) in hls.js, kept close to the live edge.
import Hls from 'hls.js';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { attachBeacons, beaconClient, type BeaconContext } from '../analytics/beacons';
import { hlsRenditions } from '../analytics/hls-renditions';
import { loadSession } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { LIVE_HLS_CONFIG } from './hls-config';

/**
 * hls.js tuned for live: start two segments from the edge, speed up a little when behind, jump when far
 * behind. The playlist may not exist yet (the bridge starts with the teacher's first frames): retry.
 */
export function LiveHls({
  src,
  onPlaying,
  beacon,
}: {
  src: string;
  onPlaying?: (hls: Hls | null) => void;
  /** Viewing beacons: platform 'web' with live: true. */
  beacon?: BeaconContext | undefined;
}) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const beaconKey = beacon ? JSON.stringify(beacon) : '';
  const viewer = user?.id ?? '';
  const ref = useRef<HTMLVideoElement>(null);
  const [waiting, setWaiting] = useState(true);
  const [blocked, setBlocked] = useState(false);
  const playingCb = useRef(onPlaying);
  useEffect(() => {
    playingCb.current = onPlaying;
  }, [onPlaying]);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let watchdog: ReturnType<typeof setInterval> | null = null;
    let hls: Hls | null = null;
    let gone = false;
    let stopBeacons: (() => void) | undefined;
    const client =
      beaconKey && viewer
        ? beaconClient({ viewer, storage: localStorage, token: () => loadSession()?.accessToken })
        : null;
    const context = beaconKey ? (JSON.parse(beaconKey) as BeaconContext) : null;
    const onPlay = () => {
      setWaiting(false);
      playingCb.current?.(hls);
    };
    const tryPlay = () => {
      video.play().catch(() => {
        // sound needs a click in most browsers: start muted and offer to unmute
        video.muted = true;
        setBlocked(true);
        void video.play().catch(() => undefined);
      });
    };
    video.addEventListener('playing', onPlay);

    if (!Hls.isSupported()) {
      // Safari / iOS play live HLS themselves
      video.src = src;
      if (client && context) stopBeacons = attachBeacons(video, context, { client });
      tryPlay();
    } else {
      const start = () => {
        if (gone) return;
        hls = new Hls({ ...LIVE_HLS_CONFIG });
        hls.on(Hls.Events.MANIFEST_PARSED, tryPlay);
        hls.on(Hls.Events.ERROR, (_e, data) => {
          // the last error, for anyone looking at the element (support, tests)
          video.dataset['hlsError'] = `${data.type}/${data.details}${data.fatal ? ' (fatal)' : ''}`;
          if (!data.fatal || !hls) return;
          if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
            hls.recoverMediaError();
            return;
          }
          // no playlist yet, or the network blinked: start again shortly
          hls.destroy();
          hls = null;
          retry = setTimeout(start, 2000);
        });
        stopBeacons?.();
        if (client && context)
          stopBeacons = attachBeacons(video, context, {
            client,
            renditions: hlsRenditions(hls, Hls.Events.LEVEL_SWITCHED),
          });
        hls.loadSource(src);
        hls.attachMedia(video);
      };
      start();
      // A player that has not got a single frame after 10 s (a lesson restarting its stream, a blink of
      // the network hls.js did not count as fatal) starts over instead of waiting forever.
      let idleSince = Date.now();
      watchdog = setInterval(() => {
        if (video.readyState > 0 || !hls) {
          idleSince = Date.now();
          return;
        }
        if (Date.now() - idleSince < 10_000) return;
        idleSince = Date.now();
        video.dataset['hlsRestarts'] = String(Number(video.dataset['hlsRestarts'] ?? 0) + 1);
        hls.destroy();
        hls = null;
        start();
      }, 1000);
    }
    return () => {
      gone = true;
      if (retry) clearTimeout(retry);
      if (watchdog) clearInterval(watchdog);
      video.removeEventListener('playing', onPlay);
      stopBeacons?.();
      hls?.destroy();
    };
  }, [src, beaconKey, viewer]);

  return (
    <div className="live-hls">
      <video ref={ref} className="player" data-testid="live-hls" playsInline controls />
      {waiting && <div className="live-hls-wait">{t('live.watch.hlsWaiting')}</div>}
      {blocked && (
        <button
          type="button"
          className="btn btn-small live-unmute"
          onClick={() => {
            if (ref.current) ref.current.muted = false;
            setBlocked(false);
          }}
        >
          {t('live.watch.unmute')}
        </button>
      )}
    </div>
  );
}
