import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the api (npm start) serves /api and /media on 8080.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/media': 'http://127.0.0.1:8080' },
  },
  // hls.js (~580 kB) is its own chunk, loaded by the lesson page only; the app chunk stays well under this.
  build: { chunkSizeWarningLimit: 600, sourcemap: true },
});
