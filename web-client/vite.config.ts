import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

/**
 * `hls.js/fmp4`, the web's own hls.js for the lessons' and live lessons' fMP4 (CMAF) HLS: compiled here from
 * the TypeScript sources hls.js ships, as its light build is (every optional feature off, those modules
 * empty), and without what only MPEG-TS and raw AAC/MP3/AC-3 segments need: the transmuxer's table gets a
 * stub of ours for those demuxers and their remuxer, which throws (a FRAG_PARSING_ERROR that names this
 * file) if a segment is not fMP4. 81 kB brotli against `hls.js/light`'s 97 kB, which the grade channel and
 * the 10-foot UI keep for their MPEG-TS. Its modules are hls.js's own, unchanged; the flags below are the
 * ones hls.js's build config sets (`__USE_*__`, read from its src/define-plugin.d.ts).
 */
const HLS_PACKAGE = dirname(createRequire(import.meta.url).resolve('hls.js/package.json'));
const HLS_SRC = join(HLS_PACKAGE, 'src');
const HLS_FLAGS: Record<string, string> = {
  __VERSION__: JSON.stringify(
    (JSON.parse(readFileSync(join(HLS_PACKAGE, 'package.json'), 'utf8')) as { version: string }).version,
  ),
  __USE_SUBTITLES__: 'false',
  __USE_ALT_AUDIO__: 'false',
  __USE_EME_DRM__: 'false',
  __USE_CMCD__: 'false',
  __USE_CONTENT_STEERING__: 'false',
  __USE_VARIABLE_SUBSTITUTION__: 'false',
  __USE_M2TS_ADVANCED_CODECS__: 'false',
  __USE_MEDIA_CAPABILITIES__: 'false',
  __USE_INTERSTITIALS__: 'false',
  __USE_IFRAMES__: 'false',
  // no worker bundle in an ES module build (as in hls.js's own .mjs): the transmuxer runs inline
  __IN_WORKER__: 'false',
};
/**
 * The modules of the features turned off, built empty (hls.js's build config lists the same): each export
 * an empty value (the default `{}`, as hls.js's own empty module gives), in ES module syntax, so the
 * development server needs no CommonJS step either.
 */
const HLS_FEATURES_OFF = [
  'controller/eme-controller',
  'utils/mediakeys-helper',
  'controller/cmcd-controller',
  'utils/cues',
  'controller/timeline-controller',
  'controller/subtitle-track-controller',
  'controller/subtitle-stream-controller',
  'controller/audio-track-controller',
  'controller/audio-stream-controller',
  'utils/variable-substitution',
  'demux/video/hevc-video-parser',
  'utils/mediacapabilities-helper',
  'controller/content-steering-controller',
  'controller/interstitials-controller',
  'controller/interstitial-player',
  'controller/interstitials-schedule',
  'loader/interstitial-event',
  'loader/interstitial-asset-list',
  'controller/iframe-controller',
  'controller/iframe-stream-controller',
  'controller/image-iframe-stream-controller',
  'demux/transmuxer-worker',
].map((m) => join(HLS_SRC, m));
/** What the transmuxer's table imports for MPEG-TS and raw audio segments. */
const HLS_MPEG_TS_ONLY = [
  'demux/tsdemuxer',
  'remux/mp4-remuxer',
  'demux/audio/aacdemuxer',
  'demux/audio/mp3demuxer',
  'demux/audio/ac3-demuxer',
].map((m) => join(HLS_SRC, m));
const HLS_TRANSMUXER = join(HLS_SRC, 'demux', 'transmuxer.ts');
/**
 * The fMP4 path keeps mp4-remuxer's cue helpers (the passthrough remuxer's); its MP4Remuxer class, never
 * made here, is the only user of the fMP4 writer, kept only for its static fields.
 */
const HLS_MP4_REMUXER = join(HLS_SRC, 'remux', 'mp4-remuxer.ts');
const HLS_MP4_REMUXER_ONLY = [join(HLS_SRC, 'remux', 'mp4-generator'), join(HLS_SRC, 'remux', 'aac-helper')];
const HLS_MPEG_TS_STUB = '\0sky-hls-mpeg-ts-stub';
const HLS_EMPTY = '\0sky-hls-empty:';
const EXPORTED =
  /^export\s+(?:default\s+)?(?:abstract\s+)?(?:async\s+)?(?:const\s+enum|enum|class|function\*?|const|let|var)\s+(\w+)/gm;
const HLS_FLAG = new RegExp(`\\b(${Object.keys(HLS_FLAGS).join('|')})\\b`, 'g');

function hlsFmp4(): Plugin {
  return {
    name: 'sky-hls-fmp4',
    enforce: 'pre',
    // a newer hls.js with a flag or a module path this plugin does not know fails the build, not the player
    buildStart() {
      const flags = readFileSync(join(HLS_SRC, 'define-plugin.d.ts'), 'utf8').match(/__USE_\w+__/g) ?? [];
      const unknown = flags.filter((f) => !(f in HLS_FLAGS));
      const missing = [...HLS_FEATURES_OFF, ...HLS_MPEG_TS_ONLY, ...HLS_MP4_REMUXER_ONLY].filter(
        (m) => !existsSync(`${m}.ts`),
      );
      if (unknown.length + missing.length > 0)
        this.error(
          `hls.js/fmp4: flags not set ${unknown.join(', ')}; modules not found ${missing.join(', ')}`,
        );
    },
    resolveId(source, importer) {
      if (source === 'hls.js/fmp4') return join(HLS_SRC, 'exports-default.ts');
      const from = importer?.split('?')[0];
      if (!from?.startsWith(HLS_SRC) || !source.startsWith('.')) return null;
      const target = join(dirname(from), source);
      if (HLS_FEATURES_OFF.includes(target)) return `${HLS_EMPTY}${target}.ts`;
      if (from === HLS_TRANSMUXER && HLS_MPEG_TS_ONLY.includes(target)) return HLS_MPEG_TS_STUB;
      if (from === HLS_MP4_REMUXER && HLS_MP4_REMUXER_ONLY.includes(target)) return HLS_MPEG_TS_STUB;
      return null;
    },
    async load(id) {
      if (id.startsWith(HLS_EMPTY)) {
        const source = await readFile(id.slice(HLS_EMPTY.length), 'utf8');
        const names = new Set(
          [...source.matchAll(EXPORTED)].filter((m) => !m[0].includes(' default ')).map((m) => m[1]!),
        );
        return [...names]
          .map((n) => `export const ${n} = undefined;`)
          .concat(/^export default /m.test(source) ? ['export default {};'] : [])
          .join('\n');
      }
      if (id !== HLS_MPEG_TS_STUB) return null;
      // the table probes MP4 first: this runs only for a segment that is not fMP4
      return `export default class NotInThisBuild {
  static probe() {
    throw new Error('not an fMP4 segment: hls.js/fmp4 (web-client/vite.config.ts) plays fMP4 only');
  }
  constructor() { NotInThisBuild.probe(); }
}
export const AC3Demuxer = NotInThisBuild;`;
    },
    transform(code, id) {
      if (!id.startsWith(HLS_SRC)) return null;
      return { code: code.replace(HLS_FLAG, (flag) => HLS_FLAGS[flag]!), map: null };
    },
  };
}

/** Libraries that are a chunk of their own, each loaded by the pages that need it. */
const LIBRARIES: [string, RegExp][] = [
  ['hls-fmp4', /node_modules[\\/]hls\.js[\\/]src[\\/]/],
  ['hls', /node_modules[\\/]hls\.js[\\/]/],
  ['echarts', /node_modules[\\/]echarts[\\/]/],
  ['mediasoup-client', /node_modules[\\/]mediasoup-client[\\/]/],
  ['socket.io', /node_modules[\\/]socket\.io-client[\\/]/],
];

// In development the api (npm start) serves /api and /media on 8080.
export default defineConfig({
  plugins: [react(), hlsFmp4(), zodWithoutJsonSchema(), precompress()],
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/media': 'http://127.0.0.1:8080' },
  },
  // hls.js/fmp4 goes through hlsFmp4 in development too, not the dependency optimiser; its CommonJS
  // dependencies are optimised instead
  optimizeDeps: { exclude: ['hls.js/fmp4'], include: ['eventemitter3', 'url-toolkit'] },
  // Every page but sign-in is a chunk of its own (App.tsx); hls.js is among the largest: its fMP4 build
  // (~310 kB) for the lesson and live pages, its light build (~365 kB) for the grade channel's page only.
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
