// The web (fMP4) live playlist that viewers read, made from the one ffmpeg writes. ffmpeg 5.1 continues a
// playlist across runs (append_list + discont_start) but writes a single EXT-X-MAP at its top, so after a
// restart every older segment would be parsed with the newest run's init segment (hls.js: fragParsingError).
// Each run therefore writes its own init_<run>.mp4, and this pure function gives every run's segments their
// own EXT-X-MAP after the EXT-X-DISCONTINUITY, with an EXT-X-DISCONTINUITY-SEQUENCE that never goes back.

import type { LiveTvList } from '@sky/contracts';

/** The playlist ffmpeg writes in each web variant folder (a dot file: never served). */
export const FFMPEG_PLAYLIST = '.ffmpeg.m3u8';
/** The playlist viewers read. */
export const VIEWER_PLAYLIST = 'index.m3u8';

/**
 * How long a segment stays in the playlist players read once it is first there: three target durations,
 * as long as the shortest live playlist RFC 8216 allows. A publish that comes late, after several new
 * segments (the bucket slow to take them), would otherwise show some for a moment only, or never, and
 * players reading the list every second or so would skip them.
 */
export const SHOWN_FOR_MS = 3000;

/** When each segment was first in a published playlist: where a window may begin (see SHOWN_FOR_MS). */
export class ShownSince {
  private readonly since = new Map<string, number>();

  constructor(private readonly keepMs = SHOWN_FOR_MS) {}

  /**
   * Where the window over `uris` (in order) begins: the usual last `listSize`, or earlier, at the first
   * segment not yet shown for `keepMs`. What it then shows is marked shown at `now`.
   */
  windowStart(uris: readonly string[], listSize: number, now: number): number {
    let from = Math.max(0, uris.length - listSize);
    for (let i = 0; i < from; i++) {
      const at = this.since.get(uris[i]!);
      if (at === undefined || now - at < this.keepMs) {
        from = i;
        break;
      }
    }
    for (const uri of uris.slice(from)) if (!this.since.has(uri)) this.since.set(uri, now);
    // a TV list holds the whole lesson (thousands of segments), read once a second: one pass, not n²
    const listed = new Set(uris);
    for (const uri of this.since.keys()) if (!listed.has(uri)) this.since.delete(uri);
    return from;
  }

  /** Segments another publisher showed long enough already (an earlier bridge of the lesson). */
  markShown(uris: readonly string[]): void {
    for (const uri of uris) this.since.set(uri, -Infinity);
  }
}

export function initSegmentName(run: number): string {
  return `init_${run}.mp4`;
}

/** The ffmpeg run a segment belongs to (segment files are seg_<runId>_<n>.m4s; see live-bridge-args). */
export function runOfSegment(uri: string): number | undefined {
  const m = /^seg_(\d+)_\d+\.m4s$/.exec(uri);
  return m ? Number(m[1]) : undefined;
}

interface Segment {
  tags: string[];
  uri: string;
  run: number;
}

/**
 * `runsWithSegments` holds every run that has had a segment in this playlist so far, the ones in
 * `ffmpegText` included (the caller keeps it across calls): a segment's discontinuity sequence is the
 * number of such runs before its own, so it stays the same as the window slides.
 */
export function viewerPlaylist(ffmpegText: string, runsWithSegments: ReadonlySet<number>): string {
  const header: string[] = [];
  const segments: Segment[] = [];
  let pending: string[] = [];
  let ended = false;
  for (const raw of ffmpegText.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line.startsWith('#EXT-X-MAP') || line === '#EXT-X-DISCONTINUITY')
      continue; // ours replace them
    else if (line.startsWith('#EXTINF') || line.startsWith('#EXT-X-PROGRAM-DATE-TIME')) pending.push(line);
    else if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE')) continue;
    else if (line.startsWith('#'))
      (segments.length === 0 && pending.length === 0 ? header : pending).push(line);
    else {
      const run = runOfSegment(line) ?? segments.at(-1)?.run ?? 0;
      segments.push({ tags: pending, uri: line, run });
      pending = [];
    }
  }
  const runs = [...runsWithSegments].sort((a, b) => a - b);
  const firstRun = segments[0]?.run ?? 0;
  const discontinuitySequence = runs.filter((r) => r < firstRun).length;
  const out: string[] = [];
  for (const line of header) {
    out.push(line);
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE'))
      out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`);
  }
  segments.forEach((s, i) => {
    if (i > 0 && s.run !== segments[i - 1]!.run) out.push('#EXT-X-DISCONTINUITY');
    if (i === 0 || s.run !== segments[i - 1]!.run) out.push(`#EXT-X-MAP:URI="${initSegmentName(s.run)}"`);
    out.push(...s.tags, s.uri);
  });
  if (ended) out.push('#EXT-X-ENDLIST');
  return `${out.join('\n')}\n`;
}

/**
 * The sliding TV (MPEG-TS, HLS v3) playlist players read, cut from the whole-lesson list ffmpeg writes
 * (LIVE_TV_LIST): its last `listSize` segments, numbered by their place in the lesson, with the
 * discontinuities before the window counted in EXT-X-DISCONTINUITY-SEQUENCE; or from `startAt` on
 * (ShownSince's window).
 */
export function slidingTvPlaylist(list: LiveTvList, listSize: number, startAt?: number): string {
  const from = startAt ?? Math.max(0, list.segments.length - listSize);
  const window = list.segments.slice(from);
  const before = list.segments.slice(0, from + 1).filter((s) => s.discontinuity).length;
  const target = Math.max(1, ...window.map((s) => Math.ceil(s.durationSec)));
  const out = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${from}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${before}`,
  ];
  window.forEach((s, i) => {
    if (i > 0 && s.discontinuity) out.push('#EXT-X-DISCONTINUITY');
    out.push(`#EXTINF:${s.durationSec.toFixed(6)},`);
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.pdtMs).toISOString().replace('Z', '+00:00')}`);
    out.push(s.uri);
  });
  if (list.ended) out.push('#EXT-X-ENDLIST');
  return `${out.join('\n')}\n`;
}
