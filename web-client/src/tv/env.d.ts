// hls.js ships no declarations for its light build (no subtitles, alternate audio or DRM, which the
// channels and lessons do not use); its API is the full build's.
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}

interface Window {
  /**
   * Where viewing beacons go (the api's /api/analytics/beacons, absolute), set by the page that serves the
   * UI; without it they go to the gateway's api/analytics/beacons.
   */
  SKY_BEACON_URL?: string;
}
