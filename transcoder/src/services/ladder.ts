/** One rendition of the adaptive ladder. */
export interface Rung {
  name: string;
  height: number;
  videoKbps: number;
  audioKbps: number;
}

/** Lecture-tuned rungs (slides and a talking head need far less than sport), top first. */
export const LADDER: readonly Rung[] = [
  { name: '720p', height: 720, videoKbps: 2500, audioKbps: 128 },
  { name: '360p', height: 360, videoKbps: 600, audioKbps: 96 },
];

export interface Probe {
  durationSec: number;
  video?: { width: number; height: number; fps: number };
  audio?: { channels: number; sampleRate: number };
}

/** The rungs worth encoding for a source: never upscaled; a source below every rung gets one at its own size. */
export function chooseLadder(probe: Probe): Rung[] {
  if (!probe.video) return [];
  const h = probe.video.height;
  const fit = LADDER.filter((r) => r.height <= h);
  if (fit.length > 0) return fit;
  const smallest = LADDER[LADDER.length - 1]!;
  return [{ ...smallest, name: `${h - (h % 2)}p`, height: h - (h % 2) }];
}
