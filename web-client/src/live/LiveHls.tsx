// The large class: the live HLS stream (fMP4, 1 s segments) in hls.js, kept close to the live edge.
import Hls, { type HlsConfig } from 'hls.js/light';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { attachBeacons, beaconClient, type BeaconContext } from '../analytics/beacons';
import { hlsRenditions } from '../analytics/hls-renditions';
import { loadSession } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { FullscreenButton, useMediaState, VolumeControl } from '../components/MediaControls';
import { playLiveHls, type LiveHlsPlayer } from './hls-player';

/**
 * hls.js tuned for live (hls-config), recovering by itself (hls-player): start two segments from the edge,
 * speed up a little when behind, jump when far behind; the playlist may not exist yet (the bridge starts
 * with the teacher's first frames), or the stream may restart: start over.
 */
export function LiveHls({
  src,
  onPlaying,
  beacon,
  config,
  testId = 'live-hls',
  waitingText,
}: {
  src: string;
  onPlaying?: (hls: Hls | null) => void;
  /** Viewing beacons: platform 'web' with live: true. */
  beacon?: BeaconContext | undefined;
  /** hls.js settings (a module constant): the live lesson's unless given. */
  config?: Partial<HlsConfig>;
  testId?: string;
  /** What the player says until the first frame. */
  waitingText?: string;
}) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const beaconKey = beacon ? JSON.stringify(beacon) : '';
  const viewer = user?.id ?? '';
  const ref = useRef<HTMLVideoElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const media = useMediaState(ref);
  const [waiting, setWaiting] = useState(true);
  const [blocked, setBlocked] = useState(false);
  const playingCb = useRef(onPlaying);
  useEffect(() => {
    playingCb.current = onPlaying;
  }, [onPlaying]);

  // The running stream: hls.js (a new one after each start-over) or null where the browser plays HLS.
  const [stream, setStream] = useState<{ hls: Hls | null } | null>(null);

  // Viewing beacons follow the stream and the context, apart from the player: a channel's next programme
  // (a new context) is a new session on the same picture, with no start-up to measure. Declared before the
  // player's effect, so leaving sends `end` while the video still has its position.
  useEffect(() => {
    const video = ref.current;
    if (!video || !stream || !beaconKey || !viewer) return;
    const client = beaconClient({ viewer, storage: localStorage, token: () => loadSession()?.accessToken });
    const context = JSON.parse(beaconKey) as BeaconContext;
    return attachBeacons(video, context, {
      client,
      ...(stream.hls ? { renditions: hlsRenditions(stream.hls, Hls.Events.LEVEL_SWITCHED) } : {}),
    });
  }, [stream, beaconKey, viewer]);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    let player: LiveHlsPlayer | null = null;
    const onPlay = () => {
      setWaiting(false);
      playingCb.current?.(player?.current() ?? null);
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
      video.addEventListener('loadstart', () => setStream({ hls: null }), { once: true });
      video.src = src;
      tryPlay();
    } else {
      player = playLiveHls(
        video,
        src,
        {
          onManifest: tryPlay,
          onStart: (hls) => {
            setStream({ hls });
            return undefined;
          },
        },
        config,
      );
    }
    return () => {
      video.removeEventListener('playing', onPlay);
      setStream(null);
      player?.stop();
    };
  }, [src, config]);

  return (
    <div className="live-hls" ref={box}>
      {/* live has no timeline to seek: a bar of its own with the sound and full screen */}
      <video ref={ref} className="player" data-testid={testId} playsInline />
      {waiting && <div className="live-hls-wait">{waitingText ?? t('live.watch.hlsWaiting')}</div>}
      <div className="player-bar live-bar">
        <span className="live-badge">● {t('live.studio.liveBadge')}</span>
        <VolumeControl
          volume={media.volume}
          muted={media.muted}
          onChange={(volume, muted) => {
            if (!ref.current) return;
            ref.current.volume = volume;
            ref.current.muted = muted;
            if (!muted) setBlocked(false);
          }}
        />
        <FullscreenButton target={box} video={() => ref.current} />
      </div>
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
