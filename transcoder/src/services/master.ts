/** What a master playlist says of one variant; measured from the packaged files. */
export interface VariantInfo {
  uri: string;
  /** Peak segment bitrate, bits/s. */
  bandwidth: number;
  averageBandwidth: number;
  codecs: string[];
  resolution?: { width: number; height: number };
  frameRate?: number;
}

export interface IFrameInfo {
  uri: string;
  bandwidth: number;
  codecs: string[];
  resolution: { width: number; height: number };
}

export const AAC_LC = 'mp4a.40.2';

/** A master playlist: variants (best first, audio-only last) and the I-frame playlists for trick play. */
export function buildMasterPlaylist(opts: {
  version: number;
  variants: VariantInfo[];
  iframes?: IFrameInfo[];
}): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${opts.version}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of opts.variants) {
    // the peak rounded up: a player must never meet a segment above what BANDWIDTH promised
    const attrs = [
      `BANDWIDTH=${Math.ceil(v.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`,
      `CODECS="${v.codecs.join(',')}"`,
      ...(v.resolution ? [`RESOLUTION=${v.resolution.width}x${v.resolution.height}`] : []),
      ...(v.frameRate ? [`FRAME-RATE=${v.frameRate.toFixed(3)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  for (const f of opts.iframes ?? []) {
    lines.push(
      `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=${Math.ceil(f.bandwidth)},CODECS="${f.codecs.join(',')}",RESOLUTION=${f.resolution.width}x${f.resolution.height},URI="${f.uri}"`,
    );
  }
  return lines.join('\n') + '\n';
}

/** A keyframe inside a segment: its byte range and how long it stands until the next one. */
export interface KeyFrame {
  segment: string;
  offset: number;
  length: number;
  durationSec: number;
}

/** An I-frames-only playlist (RFC 8216 §4.3.3.6, version 4: byte ranges) for trick play on set-top boxes. */
export function buildIFramePlaylist(frames: KeyFrame[]): string {
  const target = Math.max(1, Math.ceil(Math.max(0, ...frames.map((f) => f.durationSec))));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:4',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-I-FRAMES-ONLY',
  ];
  for (const f of frames) {
    lines.push(`#EXTINF:${f.durationSec.toFixed(3)},`, `#EXT-X-BYTERANGE:${f.length}@${f.offset}`, f.segment);
  }
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
