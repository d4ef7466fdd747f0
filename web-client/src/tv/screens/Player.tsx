import type { GuideProgramme, PairingPlaybackBody, TvChannel, TvQaPairingBody } from '@sky/contracts';
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { Rendition, RenditionSource } from '../../analytics/beacons';
import { watchOnTv } from '../beacon';
import { useKeys, useLineup, useNav, type Playback } from '../context';
import { playableUrl } from '../gateway';
import { attach, start, type Attached } from '../playback';
import { QaCode } from '../QaCode';
import {
  beijing,
  channelProgrammes,
  clockText,
  neighbour,
  nowAndNext,
  timeRange,
  viewedLessonId,
} from '../schedule';
import { pad2 } from '../ui';
import { useNow } from '../useNow';

const INFO_MS = 5000;
/** Left/Right; the media keys' fast forward and rewind skip further. */
const SEEK_SEC = 10;
const SKIP_SEC = 30;

/** Where the video is and whether the viewer paused it, to the second: what the progress bar shows. */
interface VideoClock {
  position: number;
  /** NaN until known; it grows while a catch-up programme is still on the air. */
  duration: number;
  paused: boolean;
  /** The wall-clock moment on screen, from the stream's PROGRAM-DATE-TIME (hls.js only). */
  dateMs: number | undefined;
}

const VIDEO_EVENTS = ['timeupdate', 'durationchange', 'play', 'pause', 'seeked', 'ended', 'emptied'];

/** The video's clock as state, following its events (one render a second while it plays). */
function useVideoClock(
  video: RefObject<HTMLVideoElement | null>,
  stream: RefObject<Attached | null>,
  source: string | undefined,
): VideoClock {
  const [clock, setClock] = useState<VideoClock>({
    position: 0,
    duration: Number.NaN,
    paused: false,
    dateMs: undefined,
  });
  useEffect(() => {
    const el = video.current;
    if (!el || !source) return;
    const update = () =>
      setClock((prev) => {
        const date = stream.current?.playingDate()?.getTime();
        const next = {
          position: Math.floor(el.currentTime),
          duration: Number.isFinite(el.duration) ? Math.floor(el.duration) : Number.NaN,
          // before the first frame plays a video is paused too: only a viewer's pause counts
          paused: el.paused && !el.ended && el.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA,
          dateMs: date === undefined ? undefined : Math.floor(date / 1000) * 1000,
        };
        const same =
          prev.position === next.position &&
          prev.paused === next.paused &&
          prev.dateMs === next.dateMs &&
          (prev.duration === next.duration || (Number.isNaN(prev.duration) && Number.isNaN(next.duration)));
        return same ? prev : next;
      });
    for (const e of VIDEO_EVENTS) el.addEventListener(e, update);
    return () => {
      for (const e of VIDEO_EVENTS) el.removeEventListener(e, update);
    };
  }, [video, stream, source]);
  return clock;
}

/** Elapsed, a bar and the length: where the lesson is (on demand, catch-up). */
function Progress({ clock, growing }: { clock: VideoClock; growing: boolean }) {
  const { t } = useTranslation();
  const known = Number.isFinite(clock.duration) && clock.duration > 0;
  const ratio = known ? Math.min(1, clock.position / clock.duration) : 0;
  return (
    <div className="info-progress" data-testid="progress">
      <span className="progress-time" data-testid="elapsed">
        {clockText(clock.position)}
      </span>
      <span className="progress-track" aria-hidden="true">
        <span className="progress-fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </span>
      <span className="progress-time" data-testid="duration">
        {known ? clockText(clock.duration) : '–:––'}
      </span>
      {growing && <span className="tv-badge is-live">{t('tv.player.stillOnAir')}</span>}
    </div>
  );
}

/** How far the programme on a channel has aired, between its start and end times. */
function ProgrammeProgress({ programme, atMs }: { programme: GuideProgramme; atMs: number }) {
  const start = Date.parse(programme.start);
  const stop = Date.parse(programme.stop);
  const ratio = stop > start ? Math.min(1, Math.max(0, (atMs - start) / (stop - start))) : 0;
  return (
    <div className="info-progress" data-testid="progress">
      <span className="progress-time">{beijing(programme.start).time}</span>
      <span className="progress-track" aria-hidden="true">
        <span className="progress-fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </span>
      <span className="progress-time">{beijing(programme.stop).time}</span>
    </div>
  );
}

type Status = { kind: 'loading' } | { kind: 'playing' } | { kind: 'failed'; detail: string };

function sourceOf(playback: Playback, channel: TvChannel | undefined): string | undefined {
  switch (playback.kind) {
    case 'live':
      return channel?.url;
    case 'catchup':
      return playback.programme.catchupUrl;
    case 'vod':
      return playback.lesson.tvPlaybackUrl;
  }
}

/** The lesson on screen as the gateway names it for a Q&A code: on demand by its id, else the programme. */
function qaTarget(playback: Playback, now: GuideProgramme | undefined): TvQaPairingBody | undefined {
  const p = playback.kind === 'live' ? now : playback.kind === 'catchup' ? playback.programme : undefined;
  if (playback.kind === 'vod') return { kind: 'vod', lessonId: playback.lesson.id };
  return p && { kind: 'programme', channelId: p.channelId, lessonId: p.lessonId, start: p.start };
}

/**
 * Where the lesson on screen is: on a channel, seconds since its second 0 aired, by the stream's own clock
 * (the box's may be wrong; without one, it is all there is); on demand and in catch-up, the position in
 * the video (a catch-up playlist starts where the programme did, a live lesson's replay at its go-live).
 */
function qaMoment(
  playback: Playback,
  lessonStartMs: number | undefined,
  el: HTMLVideoElement | null,
  stream: Attached | null,
): PairingPlaybackBody | undefined {
  if (!el || el.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return undefined;
  const playing = !el.paused && !el.ended;
  const clamp = (s: number) => Math.min(86_400, Math.max(0, s));
  if (playback.kind !== 'live') {
    return Number.isFinite(el.currentTime) ? { position: clamp(el.currentTime), playing } : undefined;
  }
  if (lessonStartMs === undefined) return undefined;
  const at = stream?.playingDate()?.getTime() ?? Date.now();
  const since = (at - lessonStartMs) / 1000;
  return since >= 0 ? { liveOffset: clamp(since), playing } : undefined;
}

function InfoBar({
  playback,
  channel,
  now,
  next,
  shown,
  clock,
  liveAtMs,
}: {
  playback: Playback;
  channel: TvChannel | undefined;
  now: GuideProgramme | undefined;
  next: GuideProgramme | undefined;
  shown: boolean;
  clock: VideoClock;
  /** The moment on screen on a channel (the stream's clock, else the box's). */
  liveAtMs: number;
}) {
  const { t } = useTranslation();
  // Tomorrow's first lesson says which day it is.
  const nextDate = next ? beijing(next.start) : undefined;
  const nextDay =
    nextDate && (!now || beijing(now.start).date !== nextDate.date)
      ? t('tv.day', {
          month: nextDate.month,
          day: nextDate.day,
          weekday: t(`tv.weekdays.${nextDate.weekday}`),
        })
      : undefined;
  let body;
  switch (playback.kind) {
    case 'live':
      body = (
        <>
          <div className="info-channel">
            {channel && <span className="info-number">{pad2(channel.number)}</span>}
            <span className="info-name">{channel?.name}</span>
            <span className="tv-badge is-live">{t('tv.player.live')}</span>
          </div>
          <div className="info-line" data-testid="info-now">
            <span className="info-label">{t('tv.player.now')}</span>
            {now ? (
              <>
                <span className="info-time">{timeRange(now)}</span>
                {now.title}
              </>
            ) : (
              t('tv.player.nothing')
            )}
          </div>
          {now && <ProgrammeProgress programme={now} atMs={liveAtMs} />}
          {next && (
            <div className="info-line is-next">
              <span className="info-label">{t('tv.player.next')}</span>
              {nextDay && <span className="info-time">{nextDay}</span>}
              <span className="info-time">{beijing(next.start).time}</span>
              {next.title}
            </div>
          )}
          <div className="tv-hint">{t('tv.player.hintLive')}</div>
        </>
      );
      break;
    case 'catchup': {
      const p = playback.programme;
      const day = beijing(p.start);
      body = (
        <>
          <div className="info-channel">
            {channel && <span className="info-number">{pad2(channel.number)}</span>}
            <span className="info-name">{channel?.name}</span>
            <span className="tv-badge is-catchup">{t('tv.player.catchup')}</span>
          </div>
          <div className="info-line" data-testid="info-now">
            <span className="info-time">
              {t('tv.day', { month: day.month, day: day.day, weekday: t(`tv.weekdays.${day.weekday}`) })}
            </span>
            <span className="info-time">{timeRange(p)}</span>
            {p.title}
          </div>
          <Progress clock={clock} growing={p.live} />
          <div className="tv-hint">{t('tv.player.hintVod')}</div>
        </>
      );
      break;
    }
    case 'vod': {
      const l = playback.lesson;
      body = (
        <>
          <div className="info-channel">
            <span className="info-name">{l.title}</span>
            <span className="tv-badge is-vod">{t('tv.player.vod')}</span>
          </div>
          <div className="info-line" data-testid="info-now">
            {[t(`grades.${l.grade}`), l.subject, l.teacherName].filter(Boolean).join(' · ')}
          </div>
          <Progress clock={clock} growing={false} />
          <div className="tv-hint">{t('tv.player.hintVod')}</div>
        </>
      );
      break;
    }
  }
  return (
    <div className={`tv-infobar ${shown ? 'is-shown' : ''}`} data-testid="infobar" aria-hidden={!shown}>
      {body}
    </div>
  );
}

/**
 * Full-screen playback of a channel (Up/Down zap through the lineup), a catch-up programme or an
 * on-demand lesson (OK or the media keys pause and play, Left/Right seek). Any key shows the info bar,
 * which hides itself again unless the lesson is paused.
 */
export function PlayerScreen({ playback }: { playback: Playback }) {
  const { t } = useTranslation();
  const nav = useNav();
  const { channels, programmes } = useLineup();
  const video = useRef<HTMLVideoElement>(null);
  const [attempt, setAttempt] = useState(0);
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  const [muted, setMuted] = useState(false);
  const [infoShown, setInfoShown] = useState(true);
  const [infoStamp, setInfoStamp] = useState(0);

  const channelId = playback.kind === 'vod' ? undefined : playback.channelId;
  const channel = channelId ? channels?.find((c) => c.id === channelId) : undefined;
  const clock = useNow();
  const { now, next } = nowAndNext(channelId ? channelProgrammes(programmes, channelId) : [], clock);
  const url = sourceOf(playback, channel);
  const lessonId =
    playback.kind === 'live'
      ? now && viewedLessonId(now)
      : playback.kind === 'catchup'
        ? viewedLessonId(playback.programme)
        : playback.lesson.id;
  const stream = useRef<Attached | null>(null);
  const videoClock = useVideoClock(video, stream, url);
  const paused = playback.kind !== 'live' && videoClock.paused;
  const dims =
    playback.kind === 'live'
      ? { grade: now?.grade, subject: now?.subject }
      : playback.kind === 'catchup'
        ? { grade: playback.programme.grade, subject: playback.programme.subject }
        : { grade: playback.lesson.grade, subject: playback.lesson.subject };
  // hls.js rendition switches, for the viewing beacons: the last one, and who listens.
  const rendition = useRef<{ last: Rendition | null; listeners: Set<(r: Rendition) => void> }>({
    last: null,
    listeners: new Set(),
  });

  const showInfo = useCallback(() => {
    setInfoShown(true);
    setInfoStamp((s) => s + 1);
  }, []);

  useEffect(() => {
    if (!infoShown) return;
    const timer = window.setTimeout(() => setInfoShown(false), INFO_MS);
    return () => window.clearTimeout(timer);
  }, [infoShown, infoStamp]);

  const { kind } = playback;
  const { grade, subject } = dims;
  // Viewing beacons: one session per lesson on screen (a live channel's next programme is a new one).
  // Declared before the playback effect: it follows the first `play`, and on a change it sends `end`
  // (with the position) before the video is torn down.
  useEffect(() => {
    const el = video.current;
    if (!el || !url) return;
    const renditions: RenditionSource = (emit) => {
      const r = rendition.current;
      if (r.last) emit(r.last);
      r.listeners.add(emit);
      return () => {
        r.listeners.delete(emit);
      };
    };
    return watchOnTv(
      el,
      { kind, lessonId, ...(grade ? { grade } : {}), ...(subject ? { subject } : {}) },
      renditions,
    );
    // A new lesson (or a retry) is a new session; kind, grade and subject change only with it.
  }, [url, attempt, lessonId, kind, grade, subject]);

  useEffect(() => {
    const el = video.current;
    if (!el || !url) return;
    setStatus({ kind: 'loading' });
    let alive = true;
    rendition.current.last = null;
    const onPlaying = () => {
      if (alive) setStatus({ kind: 'playing' });
    };
    el.addEventListener('playing', onPlaying);
    const attached = attach(
      el,
      playableUrl(url),
      (detail) => {
        if (alive) setStatus({ kind: 'failed', detail });
      },
      (r) => {
        rendition.current.last = r;
        rendition.current.listeners.forEach((fn) => fn(r));
      },
      // a catch-up plays from the programme's start, even while it is still on the air
      kind === 'catchup' ? 0 : undefined,
    );
    stream.current = attached;
    void start(el).then((m) => {
      if (alive) setMuted(m);
    });
    return () => {
      alive = false;
      el.removeEventListener('playing', onPlaying);
      stream.current = null;
      attached.detach();
    };
    // The playback is what `url` plays (`kind` comes with it); a retry (attempt) loads it again.
  }, [url, attempt, kind]);

  /** Seeks on demand and in catch-up, within what can be played (a programme still on the air: so far). */
  const seekBy = (sec: number) => {
    const el = video.current;
    if (playback.kind === 'live' || !el || !Number.isFinite(el.duration)) return;
    const from = el.seekable.length > 0 ? el.seekable.start(0) : 0;
    el.currentTime = Math.max(from, Math.min(el.duration - 1, el.currentTime + sec));
  };
  /** Pauses or plays on demand and in catch-up; a channel is live and plays on. */
  const setPlaying = (play: boolean) => {
    const el = video.current;
    if (playback.kind === 'live' || !el || status.kind !== 'playing') return;
    if (!play) el.pause();
    else
      void start(el).then((m) => {
        if (video.current === el) setMuted(m);
      });
  };

  useKeys((key) => {
    switch (key) {
      case 'up':
      case 'down':
      case 'channelUp':
      case 'channelDown': {
        if (playback.kind === 'live' && channels) {
          const step = key === 'down' || key === 'channelUp' ? 1 : -1;
          const target = neighbour(channels, playback.channelId, step);
          if (target && target.id !== playback.channelId) {
            nav.update({ name: 'player', playback: { kind: 'live', channelId: target.id } });
            nav.returnFocus(`channel:${target.id}`);
          }
        }
        showInfo();
        return true;
      }
      case 'left':
      case 'right':
        seekBy(key === 'right' ? SEEK_SEC : -SEEK_SEC);
        showInfo();
        return true;
      case 'fastForward':
      case 'rewind':
        seekBy(key === 'fastForward' ? SKIP_SEC : -SKIP_SEC);
        showInfo();
        return true;
      case 'ok':
        if (status.kind === 'failed') {
          setAttempt((a) => a + 1);
        } else if (muted && video.current) {
          video.current.muted = false;
          setMuted(false);
        } else {
          setPlaying(video.current?.paused ?? false);
        }
        showInfo();
        return true;
      case 'playPause':
      case 'play':
      case 'pause':
        setPlaying(key === 'playPause' ? (video.current?.paused ?? false) : key === 'play');
        showInfo();
        return true;
      case 'back':
        return false;
    }
  });

  return (
    <div
      className="tv-player"
      data-testid="player"
      data-kind={playback.kind}
      data-status={status.kind}
      data-paused={paused ? 'true' : 'false'}
    >
      <video ref={video} className="tv-video" data-testid="tv-video" autoPlay playsInline />
      {status.kind === 'loading' && <div className="player-state">{t('tv.player.loading')}</div>}
      {status.kind === 'failed' && (
        <div className="player-state is-error" role="alert">
          <p>{t('tv.player.failed', { detail: status.detail })}</p>
          <p className="tv-hint">{t('tv.player.retryHint')}</p>
        </div>
      )}
      {muted && <div className="player-muted">{t('tv.player.muted')}</div>}
      {paused && (
        <div className="player-paused" data-testid="paused" role="status">
          <span className="paused-icon" aria-hidden="true" />
          {t('tv.player.paused')}
        </div>
      )}
      <QaCode
        target={qaTarget(playback, now)}
        moment={(lessonStartMs) => qaMoment(playback, lessonStartMs, video.current, stream.current)}
        video={video}
      />
      <InfoBar
        playback={playback}
        channel={channel}
        now={now}
        next={next}
        shown={infoShown || paused}
        clock={videoClock}
        liveAtMs={videoClock.dateMs ?? clock}
      />
    </div>
  );
}
