import Hls from 'hls.js/light';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { attachBeacons, laterBeaconClient, viewerPlace, type BeaconContext } from '../analytics/session';
import { hlsRenditions } from '../analytics/hls-renditions';
import { loadSession } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { browserPositions, serverPositions } from './resume';
import { FullscreenButton, formatClock, Icon, useMediaState, VolumeControl } from './MediaControls';
import { SeekPreview } from './SeekPreview';

const SPEEDS = [0.75, 1, 1.25, 1.5, 2] as const;
/**
 * The bandwidth hls.js assumes before it has measured any: it starts on the rung that fits (360p) and climbs
 * after the first segments. Unset, it assumes the master's first rung (720p): a 1.4 MB first segment, three
 * seconds on a 4 Mbit/s phone line before the first frame.
 */
const START_ESTIMATE_BPS = 1_000_000;

/** How long the beacon client waits for a first frame that does not come (a stalled line, a failing stream). */
const BEACONS_WAIT_MS = 4000;

/**
 * Resolves once `video` has shown its first frame (or failed, or kept us waiting BEACONS_WAIT_MS), at the
 * browser's next idle moment: what can wait for it does not hold up the lesson on a slow line (issue 17).
 */
function afterFirstFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    const idle = () =>
      typeof requestIdleCallback === 'function'
        ? requestIdleCallback(() => resolve(), { timeout: 1000 })
        : setTimeout(resolve, 0);
    if (video.readyState >= 2) return void idle();
    const done = () => {
      clearTimeout(timer);
      video.removeEventListener('loadeddata', done);
      video.removeEventListener('error', done);
      idle();
    };
    const timer = setTimeout(done, BEACONS_WAIT_MS);
    video.addEventListener('loadeddata', done);
    video.addEventListener('error', done);
  });
}

interface Level {
  index: number;
  height: number;
}

/**
 * An HLS player: hls.js where Media Source Extensions exist, the browser's own HLS elsewhere (Safari,
 * iOS). Its own controls, so there is one seek bar (with storyboard previews): play, seek, time, volume,
 * full screen; a quality menu (auto or a fixed rung) and a speed menu (0.75–2×).
 */
export function Player({
  src,
  title,
  poster,
  lessonId,
  storyboardUrl,
  videoRef,
}: {
  src: string;
  title: string;
  poster?: string | undefined;
  lessonId: string;
  storyboardUrl?: string | undefined;
  /** Lets the page seek the video and read its position (the Q&A panel and FAQ). */
  videoRef?: RefObject<HTMLVideoElement | null>;
}) {
  const { t } = useTranslation();
  const ownRef = useRef<HTMLVideoElement>(null);
  const ref = videoRef ?? ownRef;
  const box = useRef<HTMLDivElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  const [levels, setLevels] = useState<Level[]>([]);
  const [level, setLevel] = useState(-1);
  const [speed, setSpeed] = useState(1);
  const [resumedAt, setResumedAt] = useState<number | null>(null);
  const { user } = useAuth();
  const signedIn = user !== null;
  const media = useMediaState(ref);

  // Resume where this viewer stopped; remember the position every few seconds. A signed-in viewer's
  // position is theirs on the server (any browser of theirs resumes, nobody else's does); an anonymous
  // viewer's stays in this browser.
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    const store = signedIn ? serverPositions(lessonId) : browserPositions(lessonId);
    let lastSaved = 0;
    let state: 'waiting' | 'loading' | 'applied' = 'waiting';
    let gone = false;
    // hls.js learns the duration after the first segments: wait until it is known, then seek once
    const onMeta = () => {
      if (state !== 'waiting' || !Number.isFinite(video.duration) || video.duration <= 0) return;
      state = 'loading';
      void store.load().then((saved) => {
        if (gone) return;
        state = 'applied';
        if (saved > 5 && saved < video.duration - 5) {
          lastSaved = saved;
          video.currentTime = saved;
          setResumedAt(saved);
        }
      });
    };
    const save = (leaving = false) => {
      lastSaved = video.currentTime;
      store.save(video.currentTime, leaving);
    };
    const onTime = () => {
      if (state === 'applied' && Math.abs(video.currentTime - lastSaved) >= 5) save();
    };
    // a seek, a pause or leaving the page is saved at once: the viewer may close the tab next
    const onSeekOrPause = () => {
      if (state === 'applied' && video.currentTime > 0) save();
    };
    const onLeave = () => {
      if (state === 'applied' && video.currentTime > 0) save(true);
    };
    const onEnded = () => store.save(0);
    video.addEventListener('loadedmetadata', onMeta);
    video.addEventListener('durationchange', onMeta);
    video.addEventListener('timeupdate', onTime);
    video.addEventListener('seeked', onSeekOrPause);
    video.addEventListener('pause', onSeekOrPause);
    window.addEventListener('pagehide', onLeave);
    video.addEventListener('ended', onEnded);
    return () => {
      gone = true;
      video.removeEventListener('seeked', onSeekOrPause);
      video.removeEventListener('pause', onSeekOrPause);
      window.removeEventListener('pagehide', onLeave);
      video.removeEventListener('loadedmetadata', onMeta);
      video.removeEventListener('durationchange', onMeta);
      video.removeEventListener('timeupdate', onTime);
      video.removeEventListener('ended', onEnded);
    };
  }, [lessonId, ref, signedIn]);

  // the viewer as primitives: a refreshed user object with the same values must not restart playback
  const viewerId = user?.id;
  const district = user?.district;
  const school = user?.school;
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    // Viewing beacons (issue 7): signed with the viewer id the platform issues for this user; the token
    // lets the server leave teachers' own views out. The client (its queue and the contract's schemas, with
    // zod) loads after the first frame; the session is followed from now, its start-up time included.
    const client = viewerId
      ? laterBeaconClient(
          afterFirstFrame(video)
            .then(() => import('../analytics/beacons'))
            .then(({ beaconClient }) =>
              beaconClient({
                viewer: viewerId,
                storage: localStorage,
                token: () => loadSession()?.accessToken,
              }),
            ),
        )
      : null;
    const context: BeaconContext = { lessonId, platform: 'web', ...viewerPlace({ district, school }) };
    if (Hls.isSupported()) {
      const hls = new Hls({ capLevelToPlayerSize: false, abrEwmaDefaultEstimate: START_ESTIMATE_BPS });
      hlsRef.current = hls;
      const stopBeacons = client
        ? attachBeacons(video, context, { client, renditions: hlsRenditions(hls, Hls.Events.LEVEL_SWITCHED) })
        : undefined;
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        setLevels(
          hls.levels
            .map((l, index) => ({ index, height: l.height }))
            .filter((l) => l.height > 0)
            .sort((a, b) => b.height - a.height),
        );
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      return () => {
        stopBeacons?.();
        hls.destroy();
        hlsRef.current = null;
      };
    }
    const stopBeacons = client ? attachBeacons(video, context, { client }) : undefined;
    video.src = src;
    return stopBeacons;
  }, [src, lessonId, ref, viewerId, district, school]);

  const pickLevel = (index: number) => {
    setLevel(index);
    if (hlsRef.current) hlsRef.current.currentLevel = index;
  };
  const pickSpeed = (s: number) => {
    setSpeed(s);
    if (ref.current) ref.current.playbackRate = s;
  };

  const togglePlay = () => {
    const v = ref.current;
    if (!v) return;
    if (v.paused || v.ended) void v.play().catch(() => undefined);
    else v.pause();
  };

  return (
    <div className="player-box" ref={box}>
      <video
        id="player"
        ref={ref}
        playsInline
        aria-label={title}
        className="player"
        poster={poster}
        onClick={togglePlay}
      />
      <div className="player-bar">
        <button
          type="button"
          className="media-btn"
          data-testid="play"
          aria-label={t(media.playing ? 'player.pause' : 'player.play')}
          title={t(media.playing ? 'player.pause' : 'player.play')}
          onClick={togglePlay}
        >
          <Icon name={media.playing ? 'pause' : 'play'} />
        </button>
        <SeekPreview videoRef={ref} storyboardUrl={storyboardUrl} label={t('player.seek')} />
        <span className="media-time" data-testid="time">
          {formatClock(media.time)} / {formatClock(media.duration)}
        </span>
        <VolumeControl
          volume={media.volume}
          muted={media.muted}
          onChange={(volume, muted) => {
            if (!ref.current) return;
            ref.current.volume = volume;
            ref.current.muted = muted;
          }}
        />
        <FullscreenButton target={box} video={() => ref.current} />
      </div>
      <div className="player-controls">
        {resumedAt !== null && (
          <span className="muted small" data-testid="resumed">
            {t('player.resumed', { at: new Date(resumedAt * 1000).toISOString().slice(14, 19) })}
          </span>
        )}
        {levels.length > 0 && (
          <label className="inline">
            {t('player.quality')}
            <select data-testid="quality" value={level} onChange={(e) => pickLevel(Number(e.target.value))}>
              <option value={-1}>{t('player.auto')}</option>
              {levels.map((l) => (
                <option key={l.index} value={l.index}>
                  {l.height}p
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="inline">
          {t('player.speed')}
          <select data-testid="speed" value={speed} onChange={(e) => pickSpeed(Number(e.target.value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
      </div>
    </div>
  );
}
