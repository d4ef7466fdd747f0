import { useEffect, useState, type MouseEvent, type RefObject } from 'react';

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

/** A seek bar that shows the storyboard thumbnail of the moment under the pointer. */
export function SeekPreview({
  videoRef,
  storyboardUrl,
}: {
  videoRef: RefObject<HTMLVideoElement | null>;
  storyboardUrl: string;
}) {
  const [cues, setCues] = useState<Cue[]>([]);
  const [hover, setHover] = useState<{ left: number; cue: Cue | undefined; at: number } | null>(null);
  const [progress, setProgress] = useState(0);
  const [duration, setDuration] = useState(0);
  useEffect(() => {
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
      setProgress(v.duration ? v.currentTime / v.duration : 0);
      setDuration(Number.isFinite(v.duration) ? v.duration : 0);
    };
    v.addEventListener('timeupdate', tick);
    v.addEventListener('durationchange', tick);
    return () => {
      v.removeEventListener('timeupdate', tick);
      v.removeEventListener('durationchange', tick);
    };
  }, [videoRef]);

  const at = (e: MouseEvent<HTMLDivElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    return { frac, left: e.clientX - rect.left };
  };
  return (
    <div
      className="seek"
      data-testid="seek-bar"
      onMouseMove={(e) => {
        const { frac, left } = at(e);
        const t = frac * duration;
        setHover({ left, at: t, cue: cues.find((c) => t >= c.start && t < c.end) });
      }}
      onMouseLeave={() => setHover(null)}
      onClick={(e) => {
        if (videoRef.current && duration) videoRef.current.currentTime = at(e).frac * duration;
      }}
    >
      <div className="seek-fill" style={{ width: `${progress * 100}%` }} />
      {hover?.cue && (
        <div
          className="seek-thumb"
          data-testid="seek-thumb"
          style={{
            left: hover.left,
            width: hover.cue.w,
            height: hover.cue.h,
            backgroundImage: `url("${hover.cue.url}")`,
            backgroundPosition: `-${hover.cue.x}px -${hover.cue.y}px`,
          }}
        >
          <span>{new Date(hover.at * 1000).toISOString().slice(14, 19)}</span>
        </div>
      )}
    </div>
  );
}
