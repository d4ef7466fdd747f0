import type { Probe, Rung } from './ladder.js';

export interface HlsCommand {
  input: string;
  inputOptions: string[];
  outputOptions: string[];
  /** The per-variant playlist pattern; `%v` is the variant index. */
  output: string;
}

export const SEGMENT_SEC = 4;

/**
 * One ffmpeg process: decode once, split and scale to every rung, encode with aligned closed GOPs
 * (so players can switch at any segment boundary), and write HLS with a master playlist.
 */
export function buildHlsArgs(
  input: string,
  outDir: string,
  probe: Probe,
  ladder: Rung[],
  preset: string,
): HlsCommand {
  if (!probe.video || ladder.length === 0)
    throw new Error('buildHlsArgs needs a video stream and at least one rung');
  const fps = Math.min(Math.round(probe.video.fps) || 25, 60);
  const gop = fps * 2;
  const n = ladder.length;
  const split = `[0:v]split=${n}${ladder.map((_, i) => `[s${i}]`).join('')}`;
  const scales = ladder.map((r, i) => `[s${i}]scale=-2:${r.height}[v${i}]`);
  const opts: string[] = ['-filter_complex', [split, ...scales].join(';')];
  ladder.forEach((r, i) => {
    opts.push('-map', `[v${i}]`);
    if (probe.audio) opts.push('-map', '0:a:0');
    opts.push(
      `-c:v:${i}`,
      'libx264',
      `-b:v:${i}`,
      `${r.videoKbps}k`,
      `-maxrate:v:${i}`,
      `${Math.round(r.videoKbps * 1.1)}k`,
      `-bufsize:v:${i}`,
      `${r.videoKbps * 2}k`,
    );
    if (probe.audio) opts.push(`-c:a:${i}`, 'aac', `-b:a:${i}`, `${r.audioKbps}k`);
  });
  opts.push(
    '-preset',
    preset,
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-r',
    String(fps),
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-flags',
    '+cgop',
  );
  if (probe.audio) opts.push('-ac', '2', '-ar', '48000');
  const streamMap = ladder.map((r, i) =>
    probe.audio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`,
  );
  opts.push(
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT_SEC),
    '-hls_playlist_type',
    'vod',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_type',
    'mpegts',
    '-hls_segment_filename',
    `${outDir}/%v/seg_%05d.ts`,
    '-master_pl_name',
    'master.m3u8',
    '-var_stream_map',
    streamMap.join(' '),
  );
  return {
    input,
    inputOptions: ['-hide_banner', '-nostdin', '-y'],
    outputOptions: opts,
    output: `${outDir}/%v/index.m3u8`,
  };
}
