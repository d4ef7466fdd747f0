// Pieces both live pages show: a received camera / screen / voice, the network badge, the room snapshot.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { attachBeacons, beaconClient, type BeaconContext } from '../analytics/beacons';
import { loadSession } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import type { LiveRoomClient, RemoteMedia, RoomSnapshot } from './room-client';
import { readReceive, type Quality, type ReceiveReading } from './stats';

export function useRoomSnapshot(client: LiveRoomClient | null): RoomSnapshot | null {
  const subscribe = useCallback(
    (fn: () => void) => (client ? client.subscribe(fn) : () => undefined),
    [client],
  );
  return useSyncExternalStore(subscribe, () => client?.snapshot ?? null);
}

/**
 * One received track. Video tells the server the size it is shown at (the simulcast layer follows);
 * the frames it decodes are shown small in a corner and kept on data attributes.
 */
export function MediaTile({
  client,
  media,
  label,
  speaking = false,
  className = '',
  beacon,
}: {
  client: LiveRoomClient;
  media: RemoteMedia;
  label: string;
  speaking?: boolean;
  className?: string;
  /** Viewing beacons for this video (the live page's main picture). */
  beacon?: BeaconContext | undefined;
}) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const videoRef = useRef<HTMLVideoElement>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  const [reading, setReading] = useState<ReceiveReading | null>(null);
  const [blocked, setBlocked] = useState(false);

  useEffect(() => {
    const el = media.kind === 'video' ? videoRef.current : audioRef.current;
    if (!el) return;
    el.srcObject = new MediaStream([media.track]);
    el.play().catch(() => setBlocked(media.kind === 'audio'));
    return () => {
      el.srcObject = null;
    };
  }, [media.track, media.kind]);

  useEffect(() => {
    let stop = false;
    const timer = setInterval(() => {
      void client.receiverStats(media.consumerId).then((report) => {
        if (!stop && report) setReading(readReceive(report, media.ssrc));
      });
    }, 500);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [client, media.consumerId, media.ssrc]);

  // the size the video is shown at → preferred simulcast layer (debounced: resizing sends one hint)
  useEffect(() => {
    const el = videoRef.current;
    if (media.kind !== 'video' || !el) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = '';
    const send = () => {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.round(el.clientWidth * dpr);
      const h = Math.round(el.clientHeight * dpr);
      const key = `${w}x${h}`;
      if (w === 0 || key === last) return;
      last = key;
      client.preferSize(media.consumerId, w, h).catch(() => undefined);
    };
    const ro = new ResizeObserver(() => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(send, 400);
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      if (timer) clearTimeout(timer);
    };
  }, [client, media.consumerId, media.kind]);

  const beaconKey = beacon ? JSON.stringify(beacon) : '';
  useEffect(() => {
    const el = videoRef.current;
    if (!beaconKey || !el || !user) return;
    const bc = beaconClient({
      viewer: user.id,
      storage: localStorage,
      token: () => loadSession()?.accessToken,
    });
    return attachBeacons(el, JSON.parse(beaconKey) as BeaconContext, { client: bc });
  }, [beaconKey, user]);

  const data = {
    'data-testid': `live-${media.kind === 'video' ? media.source : 'audio'}`,
    'data-source': media.source,
    'data-user': media.userId,
    'data-consumer': media.consumerId,
    'data-frames-decoded': reading?.framesDecoded ?? 0,
    'data-bytes-received': reading?.bytesReceived ?? 0,
    'data-frame-width': reading?.frameWidth ?? 0,
  };

  if (media.kind === 'audio') {
    return (
      <span className="live-audio" {...data}>
        <audio ref={audioRef} autoPlay />
        {blocked && (
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              void audioRef.current?.play().then(() => setBlocked(false));
            }}
          >
            {t('live.watch.unmute')}
          </button>
        )}
      </span>
    );
  }
  return (
    <figure className={`live-tile ${speaking ? 'speaking' : ''} ${className}`} {...data}>
      <video ref={videoRef} autoPlay playsInline muted />
      <figcaption>
        <span>{label}</span>
        {speaking && <span className="live-speaking">● {t('live.studio.speaking')}</span>}
        {reading?.frameWidth && (
          <span className="live-res">
            {reading.frameWidth}×{reading.frameHeight}
            {reading.framesPerSecond ? ` · ${Math.round(reading.framesPerSecond)} fps` : ''}
          </span>
        )}
      </figcaption>
      {media.paused && <div className="live-paused">{t('live.studio.paused')}</div>}
    </figure>
  );
}

export function QualityBadge({ quality }: { quality: Quality }) {
  const { t } = useTranslation();
  return (
    <span className={`live-quality q-${quality}`} data-testid="live-quality" data-quality={quality}>
      <i aria-hidden="true" />
      {t(`live.quality.${quality}`)}
    </span>
  );
}
