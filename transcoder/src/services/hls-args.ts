import {
  AUDIO,
  GOP_SEC,
  outputFps,
  TV_MAX_HEIGHT,
  TV_SEGMENT_SEC,
  WEB_SEGMENT_SEC,
  type Probe,
  type Rung,
} from './ladder.js';

/** One ffmpeg invocation: one input, one or more outputs, each with its own options. */
export interface FfmpegSpec {
  input: string;
  inputOptions: string[];
  outputs: { options: string[]; target: string }[];
}

/** The two AAC tracks of the intermediate: 0 muxed into every video rung, 1 the audio-only rendition. */
const AAC_TRACKS = [
  '-c:a',
  'aac',
  '-b:a:0',
  `${AUDIO.kbps}k`,
  '-b:a:1',
  `${AUDIO.audioOnlyKbps}k`,
  '-ac',
  String(AUDIO.channels),
  '-ar',
  String(AUDIO.sampleRate),
];

const BASE_INPUT = ['-hide_banner', '-nostdin', '-y'];

/**
 * Decode once, then a scaling cascade: each rung is scaled from the next larger one (`[v0]`, `[v1]`, …),
 * so a 234p rung costs a 360p→234p scale instead of a second full-size one. The top rung keeps the source
 * size when the ladder starts at it (the scale filter then passes frames through untouched).
 */
export function ladderGraph(fps: number, ladder: Rung[]): string {
  const last = ladder.length - 1;
  return ladder
    .map((r, i) => {
      const from = i === 0 ? `[0:v]fps=${fps},` : `[c${i - 1}]`;
      const scaled = `scale=-2:${r.height}:flags=bicubic${i === 0 ? ',format=yuv420p' : ''}`;
      return i === last ? `${from}${scaled}[v${i}]` : `${from}${scaled},split=2[v${i}][c${i}]`;
    })
    .join(';');
}

/** A rung's rate control and profile; `spec` is the output stream specifier (`:v:2`, or '' for one stream). */
export function rungOptions(r: Rung, spec: string): string[] {
  return [
    `-b${spec}`,
    `${r.videoKbps}k`,
    `-maxrate${spec}`,
    `${Math.round(r.videoKbps * 1.1)}k`,
    `-bufsize${spec}`,
    `${r.videoKbps * 2}k`,
    `-profile${spec}`,
    r.profile,
    `-level${spec}`,
    (r.level / 10).toFixed(1),
  ];
}

/** Closed GOPs of GOP_SEC, no scene-cut keyframes: keyframes at the same instants on every rung. */
export function gopOptions(fps: number): string[] {
  const gop = String(fps * GOP_SEC);
  return ['-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-flags', '+cgop', '-bf', '2'];
}

/**
 * The one encode: decode once, split and scale to every rung, x264 with closed GOPs of GOP_SEC aligned
 * across rungs (keyframes at the same instants, so players switch at any segment boundary), plus the
 * shared AAC track and the audio-only AAC track. Written to one intermediate file that both
 * packagings copy from.
 */
export function buildEncodeArgs(
  input: string,
  intermediate: string,
  probe: Probe,
  ladder: Rung[],
  preset: string,
): FfmpegSpec {
  if (!probe.video || ladder.length === 0) {
    if (!probe.audio) throw new Error('buildEncodeArgs needs a video or an audio stream');
    // an audio-only lesson (a radio-style recording): the two AAC tracks and nothing else
    const o = ['-map', '0:a:0', '-map', '0:a:0', ...AAC_TRACKS, '-f', 'matroska'];
    return { input, inputOptions: BASE_INPUT, outputs: [{ options: o, target: intermediate }] };
  }
  const fps = outputFps(probe);
  const o: string[] = ['-filter_complex', ladderGraph(fps, ladder)];
  ladder.forEach((_, i) => o.push('-map', `[v${i}]`));
  if (probe.audio) o.push('-map', '0:a:0', '-map', '0:a:0');
  o.push('-c:v', 'libx264', '-preset', preset);
  ladder.forEach((r, i) => o.push(...rungOptions(r, `:v:${i}`)));
  o.push(...gopOptions(fps));
  if (probe.audio) o.push(...AAC_TRACKS);
  o.push('-max_muxing_queue_size', '4096', '-f', 'matroska');
  return { input, inputOptions: BASE_INPUT, outputs: [{ options: o, target: intermediate }] };
}

/** One HLS output of the copy packaging; stream indices refer to the intermediate file. */
function hlsOutput(opts: {
  rungs: { name: string; videoIndex: number }[];
  hasAudio: boolean;
  /** The intermediate audio stream of the audio-only rendition, when there is one. */
  audioOnlyFrom?: number;
  dir: string;
  segmentSec: number;
  type: 'fmp4' | 'mpegts';
}): { options: string[]; target: string } {
  const o: string[] = [];
  const map: string[] = [];
  opts.rungs.forEach((r, i) => {
    o.push('-map', `0:v:${r.videoIndex}`);
    if (opts.hasAudio) o.push('-map', '0:a:0');
    map.push(opts.hasAudio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`);
  });
  if (opts.audioOnlyFrom !== undefined) {
    o.push('-map', `0:a:${opts.audioOnlyFrom}`);
    map.push(`a:${opts.hasAudio ? opts.rungs.length : 0},name:audio`);
  }
  const ext = opts.type === 'fmp4' ? 'm4s' : 'ts';
  o.push(
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    String(opts.segmentSec),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    opts.type,
    '-hls_segment_filename',
    `${opts.dir}/%v/seg_%05d.${ext}`,
    ...(opts.type === 'fmp4'
      ? ['-hls_fmp4_init_filename', 'init.mp4', '-hls_flags', 'independent_segments']
      : []),
    '-var_stream_map',
    map.join(' '),
  );
  return { options: o, target: `${opts.dir}/%v/index.m3u8` };
}

/**
 * Two packagings of the same encoded streams, without re-encoding, in one ffmpeg: fMP4/CMAF HLS of
 * every rung plus the audio-only rung for the web (hls.js), and MPEG-TS HLS version 3 of the rungs up
 * to 720p with 6 s segments for set-top boxes. An audio-only lesson gets its 128 kbps track in both.
 */
export function buildPackageArgs(
  intermediate: string,
  outDir: string,
  ladder: Rung[],
  hasAudio: boolean,
): FfmpegSpec {
  const rungs = ladder.map((r, videoIndex) => ({ name: r.name, videoIndex }));
  const small = rungs.filter((r) => ladder[r.videoIndex]!.height <= TV_MAX_HEIGHT);
  const tvRungs = small.length > 0 ? small : rungs.slice(-1);
  const web = (extra: Partial<Parameters<typeof hlsOutput>[0]>) =>
    hlsOutput({ rungs, hasAudio, dir: `${outDir}/web`, segmentSec: WEB_SEGMENT_SEC, type: 'fmp4', ...extra });
  const tv = (extra: Partial<Parameters<typeof hlsOutput>[0]>) =>
    hlsOutput({
      rungs: tvRungs,
      hasAudio,
      dir: `${outDir}/tv`,
      segmentSec: TV_SEGMENT_SEC,
      type: 'mpegts',
      ...extra,
    });
  const outputs =
    ladder.length === 0
      ? [web({ hasAudio: false, audioOnlyFrom: 0 }), tv({ hasAudio: false, audioOnlyFrom: 0 })]
      : [web(hasAudio ? { audioOnlyFrom: 1 } : {}), tv({})];
  return { input: intermediate, inputOptions: BASE_INPUT, outputs };
}

/** The storyboard sprite: small thumbnails from the lowest rung (cheap to decode). */
export function buildStoryboardArgs(
  intermediate: string,
  outDir: string,
  ladder: Rung[],
  storyboard: Storyboard,
): FfmpegSpec {
  const lowest = ladder.length - 1;
  const vf = `fps=1/${storyboard.intervalSec},scale=${storyboard.width}:${storyboard.height},tile=${storyboard.columns}x${storyboard.rows}`;
  return {
    input: intermediate,
    inputOptions: BASE_INPUT,
    outputs: [
      {
        options: ['-map', `0:v:${lowest}`, '-vf', vf, '-frames:v', '1', '-q:v', '5'],
        target: `${outDir}/storyboard.jpg`,
      },
    ],
  };
}

/** A poster from the top rung at 10 % of the lesson: seeking on the input decodes one GOP, not the lesson. */
export function buildPosterArgs(intermediate: string, outDir: string, probe: Probe): FfmpegSpec {
  const at = Math.min(probe.durationSec * 0.1, 30).toFixed(2);
  return {
    input: intermediate,
    inputOptions: [...BASE_INPUT, '-ss', at],
    outputs: [{ options: ['-map', '0:v:0', '-frames:v', '1', '-q:v', '3'], target: `${outDir}/poster.jpg` }],
  };
}

export interface Storyboard {
  intervalSec: number;
  width: number;
  height: number;
  columns: number;
  rows: number;
  count: number;
}

/** At most 100 thumbnails, one every ≥ 2 s, 160 px wide, in a 10-column sprite. */
export function planStoryboard(probe: Probe): Storyboard {
  const intervalSec = Math.max(2, Math.ceil(probe.durationSec / 100));
  const count = Math.max(1, Math.ceil(probe.durationSec / intervalSec));
  const aspect = probe.video ? probe.video.width / probe.video.height : 16 / 9;
  const width = 160;
  const height = Math.round(width / aspect / 2) * 2;
  const columns = Math.min(10, count);
  return { intervalSec, width, height, columns, rows: Math.ceil(count / columns), count };
}

/** WebVTT cues pointing into the sprite (`#xywh=`), for seek previews in the player. */
export function storyboardVtt(sb: Storyboard, durationSec: number, spriteUrl = 'storyboard.jpg'): string {
  const ts = (s: number) => {
    const ms = Math.round(s * 1000);
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const sec = Math.floor((ms % 60_000) / 1000);
    return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
  };
  const cues: string[] = ['WEBVTT', ''];
  for (let i = 0; i < sb.count; i++) {
    const start = i * sb.intervalSec;
    const end = Math.min((i + 1) * sb.intervalSec, durationSec);
    if (start >= durationSec) break;
    const x = (i % sb.columns) * sb.width;
    const y = Math.floor(i / sb.columns) * sb.height;
    cues.push(`${ts(start)} --> ${ts(end)}`, `${spriteUrl}#xywh=${x},${y},${sb.width},${sb.height}`, '');
  }
  return cues.join('\n');
}
