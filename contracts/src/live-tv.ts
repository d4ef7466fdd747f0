// The live TV list: what the sfu's bridge writes for each MPEG-TS rung of a live lesson and the TV gateway
// reads to carry the lesson on its grade's channel. ffmpeg writes it (HLS, 1-second segments, every
// segment kept for the whole lesson, a PROGRAM-DATE-TIME on each, a discontinuity where a new ffmpeg run
// begins); both sides read it with this one parser.

/** The whole-lesson list in each live tv/<rung>/ folder (players read the sliding index.m3u8 beside it). */
export const LIVE_TV_LIST = 'lesson.m3u8';

export interface LiveTvSegment {
  uri: string;
  durationSec: number;
  /** Wall-clock start (ms since the Unix epoch), from the segment's PROGRAM-DATE-TIME. */
  pdtMs: number;
  /** A new timeline begins here (a new ffmpeg run). */
  discontinuity: boolean;
}

export interface LiveTvList {
  segments: LiveTvSegment[];
  /** The bridge appended EXT-X-ENDLIST: the lesson is over and the list will not grow. */
  ended: boolean;
}

/**
 * Segments of a live TV list, in order. A segment without a PROGRAM-DATE-TIME of its own continues the
 * one before it; tags before the first segment (ffmpeg writes stray DISCONTINUITY tags in its header
 * after a restart) are ignored, since nothing precedes the first segment.
 */
export function parseLiveTvList(text: string): LiveTvList {
  const segments: LiveTvSegment[] = [];
  let ended = false;
  let duration: number | undefined;
  let pdtMs: number | undefined;
  let discontinuity = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
      pdtMs = Date.parse(
        line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'),
      );
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = segments.length > 0 || duration !== undefined;
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (!line.startsWith('#') && duration !== undefined) {
      const prev = segments.at(-1);
      const start = pdtMs ?? (prev ? prev.pdtMs + prev.durationSec * 1000 : Number.NaN);
      if (!Number.isNaN(start))
        segments.push({ uri: line, durationSec: duration, pdtMs: start, discontinuity });
      duration = undefined;
      pdtMs = undefined;
      discontinuity = false;
    }
  }
  return { segments, ended };
}
