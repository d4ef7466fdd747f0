import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const br = promisify(brotliCompress);
const gz = promisify(gzip);

/**
 * Each text asset of the build also as `.br` (quality 11) and `.gz` (level 9), written once here so the
 * servers only pick a file: the api's @fastify/static (`preCompressed`) and nginx (`gzip_static`).
 * Files under 1 kB, and variants that would not be smaller, are left out.
 */
function precompress(): Plugin {
  return {
    name: 'sky-precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist';
      const files = Object.keys(bundle).filter((f) => /\.(js|css|html|svg|json)$/.test(f));
      await Promise.all(
        files.map(async (file) => {
          const path = join(dir, file);
          const raw = await readFile(path);
          if (raw.length < 1024) return;
          const [b, g] = await Promise.all([
            br(raw, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 11,
                [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
                [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
              },
            }),
            gz(raw, { level: 9 }),
          ]);
          if (b.length < raw.length) await writeFile(`${path}.br`, b);
          if (g.length < raw.length) await writeFile(`${path}.gz`, g);
        }),
      );
    },
  };
}

/**
 * zod's JSON Schema export (`.toJSONSchema()`, about 17 kB minified, 5.5 kB brotli) is attached to every
 * classic schema, so no bundler can drop it; the browser only parses. Its two modules are built as stubs
 * that keep their export names and throw if ever called: the servers, which do export JSON Schema, use the
 * real ones.
 */
const ZOD_JSON_SCHEMA =
  /[\\/]zod[\\/]v4[\\/]core[\\/](to-json-schema|json-schema-processors|json-schema-generator)\.js$/;
function zodWithoutJsonSchema(): Plugin {
  return {
    name: 'sky-zod-without-json-schema',
    apply: 'build',
    async load(id) {
      if (!ZOD_JSON_SCHEMA.test(id)) return null;
      const source = await readFile(id, 'utf8');
      const names = new Set<string>();
      for (const m of source.matchAll(/^export (?:function|const|class) (\w+)/gm)) names.add(m[1]!);
      for (const m of source.matchAll(/^export \{([^}]*)\}/gm))
        for (const part of m[1]!.split(',')) {
          const name = part
            .trim()
            .split(/\s+as\s+/)
            .pop();
          if (name) names.add(name);
        }
      const stub = `() => { throw new Error('zod JSON Schema is not in the web build (vite.config.ts)'); }`;
      return [...names].map((n) => `export const ${n} = ${stub};`).join('\n');
    },
  };
}

/** Libraries that are a chunk of their own, each loaded by the pages that need it. */
const LIBRARIES: [string, RegExp][] = [
  ['hls', /node_modules[\\/]hls\.js[\\/]/],
  ['echarts', /node_modules[\\/]echarts[\\/]/],
  ['mediasoup-client', /node_modules[\\/]mediasoup-client[\\/]/],
  ['socket.io', /node_modules[\\/]socket\.io-client[\\/]/],
];

// In development the api (npm start) serves /api and /media on 8080.
export default defineConfig({
  plugins: [react(), zodWithoutJsonSchema(), precompress()],
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/media': 'http://127.0.0.1:8080' },
  },
  // Every page but sign-in is a chunk of its own (App.tsx); hls.js (light, ~360 kB) is the largest, loaded by
  // the lesson and live pages only.
  build: {
    chunkSizeWarningLimit: 600,
    sourcemap: true,
    rolldownOptions: {
      output: {
        // the large libraries' chunks named after them (else a chunk is named after its first module)
        chunkFileNames: (chunk) => {
          const lib = LIBRARIES.find(([, test]) => chunk.moduleIds.some((id) => test.test(id)));
          return `assets/${lib ? lib[0] : '[name]'}-[hash].js`;
        },
      },
    },
  },
});
