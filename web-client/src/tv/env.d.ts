// hls.js ships no declarations for its light build (no subtitles, alternate audio or DRM, which the
// channels and lessons do not use); its API is the full build's.
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}

interface Window {
  /**
   * Where a viewer asks about the lesson on screen, as a URL template with `{lessonId}`; set by the page
   * that serves the UI. Without it the player shows no Q&A code.
   */
  SKY_QA_URL?: string;
  /**
   * Where viewing beacons go (the api's /api/analytics/beacons, absolute), set by the page that serves the
   * UI; without it they go to the gateway's api/analytics/beacons.
   */
  SKY_BEACON_URL?: string;
}
