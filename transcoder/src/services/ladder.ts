/** One video rendition of the adaptive ladder. */
export interface Rung {
  name: string;
  height: number;
  videoKbps: number;
  profile: 'high' | 'main';
  /** H.264 level ×10 (40 = 4.0), the ceiling for this rung. */
  level: number;
}

/**
 * Lecture-tuned rungs in the range of Apple's HLS authoring spec (slides and a talking head need far
 * less than sport), top first. High profile ≤ level 4.0; Main for ≤ 540p, which old set-top boxes decode.
 */
export const LADDER: readonly Rung[] = [
  { name: '1080p', height: 1080, videoKbps: 4500, profile: 'high', level: 40 },
  { name: '720p', height: 720, videoKbps: 2500, profile: 'high', level: 40 },
  { name: '540p', height: 540, videoKbps: 1200, profile: 'main', level: 31 },
  { name: '360p', height: 360, videoKbps: 600, profile: 'main', level: 30 },
  { name: '234p', height: 234, videoKbps: 200, profile: 'main', level: 21 },
];

/** Stereo AAC-LC 48 kHz muxed into every video rung, and the audio-only rung for the poorest connections. */
export const AUDIO = { kbps: 128, audioOnlyKbps: 64, sampleRate: 48000, channels: 2 } as const;

/** Set-top boxes get MPEG-TS HLS v3 up to this height. */
export const TV_MAX_HEIGHT = 720;

/** GOP length in seconds: closed, aligned across rungs, a divisor of both segment lengths. */
export const GOP_SEC = 2;
export const WEB_SEGMENT_SEC = 4;
export const TV_SEGMENT_SEC = 6;

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
  const own = h - (h % 2);
  return [{ ...smallest, name: `${own}p`, height: own }];
}

/** The frame rate we encode at: the source's, capped at 30 (lessons gain nothing from 60). */
export function outputFps(probe: Probe): number {
  const fps = probe.video?.fps ?? 25;
  if (!Number.isFinite(fps) || fps <= 0) return 25;
  return Math.min(Math.round(fps), 30);
}
