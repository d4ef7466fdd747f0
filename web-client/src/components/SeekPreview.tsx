import {
  useEffect,
  useState,
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
  type RefObject,
} from 'react';
import { formatClock } from './MediaControls';

interface Cue {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const time = (s: string) => {
  const parts = s.split(':').map(Number);
  return parts.reduce((acc, p) => acc * 60 + (p || 0), 0);
};

/** WebVTT storyboard cues (`sprite.jpg#xywh=x,y,w,h`), URLs resolved against the VTT's own URL. */
export function parseStoryboard(vtt: string, base: string): Cue[] {
  const cues: Cue[] = [];
  const lines = vtt.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\S+) --> (\S+)/.exec(lines[i] ?? '');
    const ref = lines[i + 1]?.trim();
    if (!m || !ref) continue;
    const [file, frag] = ref.split('#xywh=');
    const [x, y, w, h] = (frag ?? '').split(',').map(Number);
    if (!file || w === undefined || h === undefined) continue;
    cues.push({
      start: time(m[1]!),
      end: time(m[2]!),
      url: new URL(file, base).href,
      x: x ?? 0,
      y: y ?? 0,
      w,
      h,
    });
  }
  return cues;
}

/**
 * The player's seek bar (the only one: the video has no native controls): click, tap or drag to seek,
 * arrow keys for 5 s, Home / End; with a storyboard, the thumbnail of the moment under the pointer.
 */
export function SeekPreview({
  videoRef,
  storyboardUrl,
  label,
}: {
  videoRef: RefObject<HTMLVideoElement | null>;
  storyboardUrl?: string | undefined;
  /** What a screen reader calls the slider. */
  label: string;
}) {
  const [cues, setCues] = useState<Cue[]>([]);
  const [hover, setHover] = useState<{ left: number; cue: Cue | undefined; at: number } | null>(null);
  const [current, setCurrent] = useState(0);
  const [duration, setDuration] = useState(0);
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    if (!storyboardUrl) return;
    const base = new URL(storyboardUrl, window.location.href).href;
    fetch(base)
      .then((r) => (r.ok ? r.text() : ''))
      .then((text) => setCues(parseStoryboard(text, base)))
      .catch(() => setCues([]));
  }, [storyboardUrl]);
  useEffect(() => {
    const v = videoRef.current;
    if (!v) return;
    const tick = () => {
      setCurrent(v.currentTime);
      setDuration(Number.isFinite(v.duration) ? v.duration : 0);
    };
    v.addEventListener('timeupdate', tick);
    v.addEventListener('durationchange', tick);
    v.addEventListener('seeking', tick);
    return () => {
      v.removeEventListener('timeupdate', tick);
      v.removeEventListener('durationchange', tick);
      v.removeEventListener('seeking', tick);
    };
  }, [videoRef]);

  const at = (e: PointerEvent<HTMLDivElement> | MouseEvent<HTMLDivElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    return { frac, left: e.clientX - rect.left };
  };
  const seek = (sec: number) => {
    const v = videoRef.current;
    if (!v || !duration) return;
    v.currentTime = Math.min(duration, Math.max(0, sec));
    setCurrent(v.currentTime);
  };
  const preview = (e: PointerEvent<HTMLDivElement> | MouseEvent<HTMLDivElement>) => {
    const { frac, left } = at(e);
    const t = frac * duration;
    setHover({ left, at: t, cue: cues.find((c) => t >= c.start && t < c.end) });
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5 }[e.key];
    if (step !== undefined) seek(current + step);
    else if (e.key === 'Home') seek(0);
    else if (e.key === 'End') seek(duration);
    else return;
    e.preventDefault();
  };
  const progress = duration ? current / duration : 0;
  return (
    <div
      className="seek"
      data-testid="seek-bar"
      role="slider"
      tabIndex={0}
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={Math.round(duration)}
      aria-valuenow={Math.round(current)}
      aria-valuetext={`${formatClock(current)} / ${formatClock(duration)}`}
      onKeyDown={onKey}
      onPointerDown={(e) => {
        e.currentTarget.setPointerCapture(e.pointerId);
        setDragging(true);
        seek(at(e).frac * duration);
      }}
      onPointerMove={(e) => {
        preview(e);
        if (dragging) seek(at(e).frac * duration);
      }}
      onPointerUp={(e) => {
        setDragging(false);
        // a finger leaves no pointer behind to hover with
        if (e.pointerType !== 'mouse') setHover(null);
      }}
      onPointerCancel={() => {
        setDragging(false);
        setHover(null);
      }}
      onMouseLeave={() => setHover(null)}
    >
      <div className="seek-fill" style={{ width: `${progress * 100}%` }} />
      <div className="seek-knob" style={{ left: `${progress * 100}%` }} />
      {hover && (
        <div
          className={hover.cue ? 'seek-thumb' : 'seek-thumb seek-time-only'}
          data-testid={hover.cue ? 'seek-thumb' : 'seek-time'}
          style={{
            left: hover.left,
            ...(hover.cue
              ? {
                  width: hover.cue.w,
                  height: hover.cue.h,
                  backgroundImage: `url("${hover.cue.url}")`,
                  backgroundPosition: `-${hover.cue.x}px -${hover.cue.y}px`,
                }
              : {}),
          }}
        >
          <span>{formatClock(hover.at)}</span>
        </div>
      )}
    </div>
  );
}
