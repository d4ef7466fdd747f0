/**
 * hls.js settings of the live page's large class: 1-s segments, two behind the live edge, catching up at
 * up to 1.15× when it falls behind. The live-latency bench measures with these very settings.
 */
export const LIVE_HLS_CONFIG = {
  lowLatencyMode: true,
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 6,
  maxLiveSyncPlaybackRate: 1.15,
  backBufferLength: 30,
  manifestLoadingMaxRetry: 2,
} as const;
