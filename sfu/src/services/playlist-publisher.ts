import { watch, type FSWatcher } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIVE_TV_LIST, parseLiveTvList, type LiveTvList, type LiveTvSegment } from '@sky/contracts';
import {
  FFMPEG_PLAYLIST,
  runOfSegment,
  ShownSince,
  slidingTvPlaylist,
  VIEWER_PLAYLIST,
  viewerPlaylist,
} from './live-playlist.js';
import type { LiveMirror } from './live-mirror.js';

/** What a variant's viewer playlist is made from: the file ffmpeg writes, and how. */
export interface PlaylistSource {
  file: string;
  /** `at`: when it is published (ms), for how long each segment has been shown. */
  render: (ffmpegText: string, at?: number) => string;
  /** ffmpeg's playlist as the media store holds it, when it is public (the TV's whole-lesson list). */
  stored?: (ffmpegText: string) => string;
}

/**
 * A web (fMP4) variant: ffmpeg's sliding list of `listSize`, every run given its own init segment
 * (viewerPlaylist); after a late publish it begins further back (ShownSince), with the segments an earlier
 * publish showed that ffmpeg's list has dropped since (ffmpeg keeps their files: hls_delete_threshold).
 */
export function webSource(listSize: number): PlaylistSource {
  /** Every run that has had a segment in this variant (for the discontinuity sequence). */
  const runs = new Set<number>();
  /** The segments (media sequence → their EXTINF, PROGRAM-DATE-TIME and URI lines) of recent lists. */
  const known = new Map<number, string[]>();
  const shown = new ShownSince();
  return {
    file: FFMPEG_PLAYLIST,
    render: (text, at = Date.now()) => {
      const lines = text.split('\n').map((l) => l.trim());
      const firstSeq = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(text)?.[1] ?? 0);
      const header: string[] = [];
      let pending: string[] = [];
      let seq = firstSeq;
      let ended = false;
      for (const line of lines) {
        if (line === '') continue;
        if (line === '#EXT-X-ENDLIST') ended = true;
        else if (line.startsWith('#EXTINF') || line.startsWith('#EXT-X-PROGRAM-DATE-TIME'))
          pending.push(line);
        else if (line.startsWith('#')) {
          if (seq === firstSeq && pending.length === 0 && !line.startsWith('#EXT-X-DISCONTINUITY'))
            header.push(line);
        } else {
          known.set(seq++, [...pending, line]);
          pending = [];
          const run = runOfSegment(line);
          if (run !== undefined) runs.add(run);
        }
      }
      const lastSeq = seq - 1;
      let oldest = firstSeq;
      while (known.has(oldest - 1)) oldest--;
      const seqs = Array.from({ length: lastSeq - oldest + 1 }, (_, i) => oldest + i);
      const from =
        seqs[
          shown.windowStart(
            seqs.map((q) => known.get(q)!.at(-1)!),
            listSize,
            at,
          )
        ] ?? firstSeq;
      for (const q of known.keys()) if (q < from) known.delete(q);
      const body = seqs.filter((q) => q >= from).flatMap((q) => known.get(q)!);
      const head = header.map((l) =>
        l.startsWith('#EXT-X-MEDIA-SEQUENCE') ? `#EXT-X-MEDIA-SEQUENCE:${from}` : l,
      );
      return viewerPlaylist([...head, ...body, ...(ended ? ['#EXT-X-ENDLIST'] : [])].join('\n'), runs);
    },
  };
}

/**
 * A TV (MPEG-TS) variant: the last `listSize` segments of the whole-lesson list, from further back after a
 * late publish (ShownSince). `earlier`: the segments an earlier bridge of the lesson stored (its host
 * died), which the lesson's list keeps in front of this one's; it showed them.
 */
export function tvSource(listSize: number, earlier: readonly LiveTvSegment[] = []): PlaylistSource {
  const whole = (text: string): LiveTvList => {
    const own = parseLiveTvList(text);
    if (earlier.length === 0) return own;
    const [first, ...rest] = own.segments;
    return {
      segments: [...earlier, ...(first ? [{ ...first, discontinuity: true }, ...rest] : [])],
      ended: own.ended,
    };
  };
  const shown = new ShownSince();
  shown.markShown(earlier.map((e) => e.uri));
  return {
    file: LIVE_TV_LIST,
    render: (text, at = Date.now()) => {
      const list = whole(text);
      const uris = list.segments.map((s) => s.uri);
      return slidingTvPlaylist(list, listSize, shown.windowStart(uris, listSize, at));
    },
    stored: (text) => {
      if (earlier.length === 0) return text;
      const list = whole(text);
      return slidingTvPlaylist(list, list.segments.length);
    },
  };
}

/**
 * Keeps one variant's viewer playlist in step with ffmpeg's: republished (written aside, then renamed,
 * so a player never reads half a playlist) each time ffmpeg writes its own, which it does once a segment.
 * With a `mirror` (S3) each publish is also stored at `prefix`, the segments it names first.
 */
export class PlaylistPublisher {
  private watcher: FSWatcher | undefined;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;

  constructor(
    private readonly dir: string,
    private readonly source: PlaylistSource,
    private readonly onError: (err: Error) => void,
    private readonly mirror?: { to: LiveMirror; prefix: string },
  ) {}

  start(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, (_event, name) => {
      if (name === this.source.file) this.kick();
    });
    this.watcher.on('error', (err) => this.onError(err));
    this.kick();
  }

  /** Stops watching after a last publish, so nothing overwrites what the bridge appends at the end. */
  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    this.kick();
    await this.chain;
  }

  private kick(): void {
    // one publish waiting behind the running one reads the newest playlist: more would add nothing
    if (this.queued) return;
    this.queued = true;
    this.chain = this.chain
      .then(() => {
        this.queued = false;
        return this.publish();
      })
      .catch((err: unknown) => this.onError(err as Error));
  }

  /**
   * Stores the variant's playlists as they are on disk now (after the bridge has ended them), trying
   * `attempts` times: the last publish of a lesson must reach the bucket for viewers to see the end.
   */
  async storeFinal(attempts = 3): Promise<void> {
    if (!this.mirror) return;
    const viewer = await readFile(join(this.dir, VIEWER_PLAYLIST), 'utf8').catch(() => undefined);
    if (viewer === undefined) return;
    const own = this.source.stored
      ? await readFile(join(this.dir, this.source.file), 'utf8').catch(() => undefined)
      : undefined;
    for (let i = 1; ; i++) {
      try {
        return await this.store(viewer, own);
      } catch (err) {
        if (i >= attempts) throw err;
        await new Promise((r) => setTimeout(r, 500 * i));
      }
    }
  }

  private async publish(): Promise<void> {
    const text = await readFile(join(this.dir, this.source.file), 'utf8').catch(() => undefined);
    if (text === undefined) return; // ffmpeg has not written its first segment yet
    const tmp = join(this.dir, `.${VIEWER_PLAYLIST}.tmp`);
    const viewer = this.source.render(text);
    await writeFile(tmp, viewer);
    await rename(tmp, join(this.dir, VIEWER_PLAYLIST));
    await this.store(viewer, text);
  }

  /** The viewer playlist, and ffmpeg's own when it is public (the TV's whole-lesson list), to the bucket. */
  private async store(viewer: string, own: string | undefined): Promise<void> {
    if (!this.mirror) return;
    const stored = own === undefined ? undefined : this.source.stored?.(own);
    await this.mirror.to.publish(this.mirror.prefix, this.dir, [
      { name: VIEWER_PLAYLIST, text: viewer },
      ...(stored === undefined ? [] : [{ name: this.source.file, text: stored }]),
    ]);
  }
}
