// The same 60 s 1080p30 lesson transcoded three ways in one run:
//  a) ours: one encode of the whole ladder, two copy packagings (fMP4 + MPEG-TS), masters, I-frames, images;
//  b) PeerTube-style: one ffmpeg per rung (each decodes the source again), fMP4 HLS only;
//  c) the practical limit: one hand-written ffmpeg that encodes the same ladder straight to fMP4 HLS.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSampleVideo } from '@sky/devkit';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { HlsService } from '../transcoder/src/services/hls.service.js';
import { gopOptions, ladderGraph, rungOptions } from '../transcoder/src/services/hls-args.js';
import {
  AUDIO,
  chooseLadder,
  outputFps,
  WEB_SEGMENT_SEC,
  type Probe,
} from '../transcoder/src/services/ladder.js';

const run = promisify(execFile);
const PRESET = process.env['X264_PRESET'] ?? 'veryfast';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const media = mkdtempSync(join(tmpdir(), 'sky-bench-transcode-'));
const source = join(media, 'src', 'lesson-1080p30.mp4');

// A lesson as a phone or classroom camera records it: 1080p30 H.264 High at ~10 Mbps with sensor noise.
// (BENCH_SOURCE=synthetic uses the clean, cheap-to-decode test pattern instead.)
console.log(`[bench] generating a ${SECONDS} s 1080p30 source…`);
await generateSampleVideo(source, {
  seconds: SECONDS,
  width: 1920,
  height: 1080,
  fps: 30,
  camera: process.env['BENCH_SOURCE'] !== 'synthetic',
});
const ffmpeg = createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' });
const probe: Probe = await ffmpeg.probe(source);
const ladder = chooseLadder(probe);
const fps = outputFps(probe);

async function timed(label: string, fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`[bench] ${label}: ${s.toFixed(1)} s`);
  return s;
}

const ours = () =>
  timed('a) ours (one encode, two packagings, masters, I-frames, images)', async () => {
    await new HlsService(ffmpeg, media, PRESET).package(
      {
        lessonId: 'bench',
        source: 'src/lesson-1080p30.mp4',
        outputDir: `out/a-${Date.now()}`,
        requestedBy: 'bench',
        kind: 'upload',
      },
      String(Date.now()),
    );
  });

const HLS_FMP4 = (dir: string) => [
  '-f',
  'hls',
  '-hls_time',
  String(WEB_SEGMENT_SEC),
  '-hls_playlist_type',
  'vod',
  '-hls_segment_type',
  'fmp4',
  '-hls_segment_filename',
  `${dir}/seg_%05d.m4s`,
];
const AAC = ['-ac', '2', '-ar', String(AUDIO.sampleRate)];
const QUIET = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];

// The same encoder settings as ours (shared builders), one process per rung, each decoding the source again.
const perRung = () =>
  timed('b) one ffmpeg per rung (PeerTube-style)', async () => {
    const out = join(media, `out/b-${Date.now()}`);
    for (const r of ladder) {
      const dir = join(out, r.name);
      mkdirSync(dir, { recursive: true });
      await run('ffmpeg', [
        ...QUIET,
        '-i',
        source,
        '-vf',
        `fps=${fps},scale=-2:${r.height}:flags=bicubic,format=yuv420p`,
        '-c:v',
        'libx264',
        '-preset',
        PRESET,
        ...rungOptions(r, ':v'),
        ...gopOptions(fps),
        '-c:a',
        'aac',
        '-b:a',
        `${AUDIO.kbps}k`,
        ...AAC,
        ...HLS_FMP4(dir),
        join(dir, 'index.m3u8'),
      ]);
    }
    const dir = join(out, 'audio');
    mkdirSync(dir, { recursive: true });
    await run('ffmpeg', [
      ...QUIET,
      '-i',
      source,
      '-vn',
      '-c:a',
      'aac',
      '-b:a',
      `${AUDIO.audioOnlyKbps}k`,
      ...AAC,
      ...HLS_FMP4(dir),
      join(dir, 'index.m3u8'),
    ]);
  });

// The practical limit: one process, the same graph and encoder settings, straight to fMP4 HLS.
const limit = () =>
  timed('c) one hand-written ffmpeg, same ladder, straight to fMP4 HLS', async () => {
    const out = join(media, `out/c-${Date.now()}`);
    const n = ladder.length;
    const args = [...QUIET, '-i', source, '-filter_complex', ladderGraph(fps, ladder)];
    ladder.forEach((_, i) => args.push('-map', `[v${i}]`, '-map', '0:a:0'));
    args.push(
      '-map',
      '0:a:0',
      '-c:v',
      'libx264',
      '-preset',
      PRESET,
      ...gopOptions(fps),
      '-c:a',
      'aac',
      ...AAC,
    );
    ladder.forEach((r, i) => args.push(...rungOptions(r, `:v:${i}`), `-b:a:${i}`, `${AUDIO.kbps}k`));
    args.push(`-b:a:${n}`, `${AUDIO.audioOnlyKbps}k`);
    const map = [...ladder.map((r, i) => `v:${i},a:${i},name:${r.name}`), `a:${n},name:audio`].join(' ');
    args.push(
      ...HLS_FMP4(`${out}/%v`),
      '-master_pl_name',
      'master.m3u8',
      '-var_stream_map',
      map,
      `${out}/%v/index.m3u8`,
    );
    await run('ffmpeg', args, { maxBuffer: 64 * 1024 * 1024 });
  });

// Interleaved, so background noise on this 2-core machine lands on all three alike.
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
const times = { a: [] as number[], b: [] as number[], c: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  times.c.push(await limit());
  times.a.push(await ours());
  times.b.push(await perRung());
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const a = median(times.a);
const b = median(times.b);
const c = median(times.c);
const result = {
  source: {
    seconds: SECONDS,
    width: 1920,
    height: 1080,
    fps: 30,
    kind:
      process.env['BENCH_SOURCE'] === 'synthetic'
        ? 'testsrc2, clean'
        : 'testsrc2 + sensor noise, H.264 High ~10 Mbps',
  },
  preset: PRESET,
  rungs: [...ladder.map((r) => r.name), 'audio'],
  rounds: ROUNDS,
  ours_s: Number(a.toFixed(2)),
  per_rung_s: Number(b.toFixed(2)),
  limit_s: Number(c.toFixed(2)),
  speedup_vs_per_rung: Number((b / a).toFixed(3)),
  overhead_vs_limit: Number((a / c).toFixed(3)),
  realtime_factor_ours: Number((SECONDS / a).toFixed(2)),
  note: 'b and c write fMP4 HLS only; a also writes the MPEG-TS packaging, masters, I-frame playlists, poster and storyboard',
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'transcode.json'), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
rmSync(media, { recursive: true, force: true });
