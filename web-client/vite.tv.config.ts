import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const dir = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * The 10-foot UI (src/tv) for set-top boxes and the web's TV mode. The tv-gateway serves it from its root,
 * and nginx from /tv/, so asset paths are relative (`base: './'`) and so are its calls to the gateway.
 * Built after the web client, into dist/tv.
 */
export default defineConfig({
  root: dir('./src/tv'),
  base: './',
  plugins: [react()],
  // In development the gateway (npm start) answers on 8090.
  server: {
    proxy: Object.fromEntries(
      ['/api', '/device', '/channels', '/catchup', '/slate', '/logos'].map((p) => [
        p,
        'http://127.0.0.1:8090',
      ]),
    ),
  },
  build: {
    outDir: dir('./dist/tv'),
    emptyOutDir: true,
    // Old Chromium-based set-top browsers.
    target: 'es2019',
    sourcemap: true,
    // One chunk holds React, hls.js (light) and zod: boxes load it once and keep it (immutable assets).
    chunkSizeWarningLimit: 800,
  },
});
