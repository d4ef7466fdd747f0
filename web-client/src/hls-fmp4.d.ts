// hls.js built for fMP4 only (vite.config.ts, hlsFmp4): the web's lessons and live lessons. Its API is the
// full build's; an MPEG-TS segment is a parsing error (the grade channel plays in `hls.js/light`).
declare module 'hls.js/fmp4' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
