import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the api (npm start) serves /api and /media on 8080.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/media': 'http://127.0.0.1:8080' },
  },
  build: { chunkSizeWarningLimit: 1024, sourcemap: true },
});
