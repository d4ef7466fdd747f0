/**
 * hls.js settings of the live page's large class: 1-s segments, three behind the live edge (Apple's
 * recommendation), catching up at up to 1.15× when it falls behind. Two left a viewer who had just
 * recovered from an encoder restart one CPU hiccup away from running dry: 3.2 s stalls on a teacher's
 * reload right after a kill, on a CI machine with one core busy. The live-latency bench measures with
 * these very settings (hls_latency_s, target ≤ 4).
 */
export const LIVE_HLS_CONFIG = {
  lowLatencyMode: true,
  liveSyncDurationCount: 3,
  liveMaxLatencyDurationCount: 6,
  maxLiveSyncPlaybackRate: 1.15,
  backBufferLength: 30,
  manifestLoadingMaxRetry: 2,
} as const;

/**
 * hls.js settings of a grade channel on the web page: the tv-gateway's stitched channel, whose playlists
 * list a 6-s tick only once it is whole, so two ticks from the live edge are margin enough (as on the
 * set-top boxes' UI); no catching up by speed, which a lesson's audio would make audible.
 */
export const CHANNEL_HLS_CONFIG = {
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 5,
  maxBufferLength: 30,
  backBufferLength: 30,
  manifestLoadingMaxRetry: 2,
} as const;
