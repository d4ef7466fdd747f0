import { Lesson, parseMasterPlaylist, parseMediaPlaylist } from '@sky/contracts';

/** A lesson's MPEG-TS rendition: its segments with durations and absolute URLs. */
export interface Rendition {
  height: number;
  /** What the lesson's TV master says of it (the transcoder measures both): peak bits/s and CODECS. */
  bandwidth: number;
  codecs: string[];
  segments: { url: string; durationSec: number }[];
}

export interface LessonMedia {
  lesson: Lesson;
  /** TV renditions (HLS v3, MPEG-TS), tallest first. */
  renditions: Rendition[];
}

export interface MediaSource {
  /** A ready lesson's TV renditions, or undefined when it has none (not ready, deleted, no media). */
  lessonMedia(lessonId: string): Promise<LessonMedia | undefined>;
}

/**
 * Lessons and their TV playlists from the api. A transcoded version never changes (new uploads get a
 * new version folder), so playlists are kept for good; a missing lesson is asked again after a minute.
 * `mediaUrl` is where boxes fetch segments (the api, or a CDN in front of it).
 */
export function apiMediaSource(apiUrl: string, mediaUrl: string): MediaSource {
  const found = new Map<string, Promise<LessonMedia | undefined>>();
  const missing = new Map<string, number>();
  const text = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.text();
  };
  const load = async (id: string): Promise<LessonMedia | undefined> => {
    const res = await fetch(`${apiUrl}/api/public/lessons/${encodeURIComponent(id)}`, {
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 404 || res.status === 400) return undefined;
    if (!res.ok) throw new Error(`api lesson ${id}: HTTP ${res.status}`);
    const lesson = Lesson.parse(await res.json());
    if (!lesson.tvPlaybackUrl) return undefined;
    const masterUrl = new URL(lesson.tvPlaybackUrl, `${apiUrl}/`);
    const variants = parseMasterPlaylist(await text(masterUrl.href)).filter((v) => (v.height ?? 0) > 0);
    const renditions = await Promise.all(
      variants.map(async (v) => {
        const playlistUrl = new URL(v.uri, masterUrl);
        const segments = parseMediaPlaylist(await text(playlistUrl.href)).map((s) => ({
          // Boxes fetch segments from the public media origin, not from the api's internal address.
          url: new URL(s.uri, playlistUrl).href.replace(apiUrl, mediaUrl),
          durationSec: s.durationSec,
        }));
        return { height: v.height ?? 0, bandwidth: v.bandwidth, codecs: v.codecs, segments };
      }),
    );
    return {
      lesson,
      renditions: renditions.filter((r) => r.segments.length > 0).sort((a, b) => b.height - a.height),
    };
  };
  return {
    lessonMedia(id) {
      const at = missing.get(id);
      if (at !== undefined && Date.now() - at < 60_000) return Promise.resolve(undefined);
      let p = found.get(id);
      if (!p) {
        p = load(id);
        found.set(id, p);
        p.then(
          (m) => {
            if (!m) {
              found.delete(id);
              missing.set(id, Date.now());
            }
          },
          () => found.delete(id),
        );
      }
      return p;
    },
  };
}
