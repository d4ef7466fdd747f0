// Controls the lesson player and the live page share: volume (with mute) and full screen.
import { useEffect, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';

/** 75 → 1:15, 3725 → 1:02:05. */
export function formatClock(sec: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(sec) ? sec : 0));
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** What the controls show, from the video's own events. */
export function useMediaState(ref: RefObject<HTMLMediaElement | null>) {
  const [state, setState] = useState({ playing: false, time: 0, duration: 0, volume: 1, muted: false });
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    const read = () =>
      setState({
        playing: !v.paused && !v.ended,
        time: v.currentTime,
        duration: Number.isFinite(v.duration) ? v.duration : 0,
        volume: v.volume,
        muted: v.muted,
      });
    const events = ['play', 'pause', 'ended', 'timeupdate', 'durationchange', 'volumechange', 'seeking'];
    for (const e of events) v.addEventListener(e, read);
    return () => {
      for (const e of events) v.removeEventListener(e, read);
    };
  }, [ref]);
  return state;
}

/** A mute button and a volume slider; the owner applies the values to its media elements. */
export function VolumeControl({
  volume,
  muted,
  onChange,
}: {
  volume: number;
  muted: boolean;
  onChange: (volume: number, muted: boolean) => void;
}) {
  const { t } = useTranslation();
  const silent = muted || volume === 0;
  return (
    <span className="media-volume">
      <button
        type="button"
        className="media-btn"
        data-testid="mute"
        aria-pressed={silent}
        aria-label={t(silent ? 'player.unmute' : 'player.mute')}
        title={t(silent ? 'player.unmute' : 'player.mute')}
        // unmuting a slider at 0 brings the sound back at a usable level
        onClick={() => onChange(silent && volume === 0 ? 0.5 : volume, !silent)}
      >
        <Icon name={silent ? 'muted' : 'volume'} />
      </button>
      <input
        type="range"
        className="media-volume-range"
        data-testid="volume"
        min={0}
        max={1}
        step={0.05}
        value={silent ? 0 : volume}
        aria-label={t('player.volume')}
        onChange={(e) => {
          const v = Number(e.target.value);
          onChange(v, v === 0);
        }}
      />
    </span>
  );
}

/**
 * Full screen for `target` (the player with its controls, the live stage); where only a video may go full
 * screen (iPhone Safari), that video in the system player.
 */
export function FullscreenButton({
  target,
  video,
}: {
  target: RefObject<HTMLElement | null>;
  video?: () => HTMLVideoElement | null | undefined;
}) {
  const { t } = useTranslation();
  const [full, setFull] = useState(false);
  useEffect(() => {
    const onChange = () =>
      setFull(!!document.fullscreenElement && document.fullscreenElement === target.current);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, [target]);
  const toggle = () => {
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
      return;
    }
    const el = target.current;
    if (el && document.fullscreenEnabled) {
      void el.requestFullscreen().catch(() => undefined);
      return;
    }
    const v = video?.() as (HTMLVideoElement & { webkitEnterFullscreen?: () => void }) | null | undefined;
    v?.webkitEnterFullscreen?.();
  };
  const label = t(full ? 'player.exitFullscreen' : 'player.fullscreen');
  return (
    <button
      type="button"
      className="media-btn"
      data-testid="fullscreen"
      aria-pressed={full}
      aria-label={label}
      title={label}
      onClick={toggle}
    >
      <Icon name={full ? 'exit-fullscreen' : 'fullscreen'} />
    </button>
  );
}

const PATHS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zM14 5h4v14h-4z',
  volume: 'M4 9v6h4l5 4V5L8 9zM16 8.5a4.5 4.5 0 0 1 0 7M18.5 6a8 8 0 0 1 0 12',
  muted: 'M4 9v6h4l5 4V5L8 9zM16 9l5 6M21 9l-5 6',
  fullscreen: 'M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5',
  'exit-fullscreen': 'M9 4v5H4M20 9h-5V4M15 20v-5h5M4 15h5v5',
} as const;

export function Icon({ name }: { name: keyof typeof PATHS }) {
  const filled = name === 'play' || name === 'pause';
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true">
      <path
        d={PATHS[name]}
        fill={filled ? 'currentColor' : 'none'}
        stroke={filled ? 'none' : 'currentColor'}
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
