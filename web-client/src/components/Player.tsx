import Hls from 'hls.js';
import { useEffect, useRef } from 'react';

/** An HLS player: hls.js where Media Source Extensions exist, the browser's own HLS elsewhere (Safari, iOS). */
export function Player({ src, title }: { src: string; title: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    if (Hls.isSupported()) {
      const hls = new Hls({ capLevelToPlayerSize: true });
      hls.loadSource(src);
      hls.attachMedia(video);
      return () => hls.destroy();
    }
    video.src = src;
    return undefined;
  }, [src]);
  return <video id="player" ref={ref} controls playsInline aria-label={title} className="player" />;
}
