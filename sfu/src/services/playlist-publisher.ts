import { watch, type FSWatcher } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIVE_TV_LIST, parseLiveTvList } from '@sky/contracts';
import {
  FFMPEG_PLAYLIST,
  runOfSegment,
  slidingTvPlaylist,
  VIEWER_PLAYLIST,
  viewerPlaylist,
} from './live-playlist.js';

/** What a variant's viewer playlist is made from: the file ffmpeg writes, and how. */
export interface PlaylistSource {
  file: string;
  render: (ffmpegText: string) => string;
}

/** A web (fMP4) variant: ffmpeg's sliding list, every run given its own init segment (viewerPlaylist). */
export function webSource(): PlaylistSource {
  /** Every run that has had a segment in this variant (for the discontinuity sequence). */
  const runs = new Set<number>();
  return {
    file: FFMPEG_PLAYLIST,
    render: (text) => {
      for (const line of text.split('\n')) {
        const run = runOfSegment(line.trim());
        if (run !== undefined) runs.add(run);
      }
      return viewerPlaylist(text, runs);
    },
  };
}

/** A TV (MPEG-TS) variant: the last `listSize` segments of the whole-lesson list. */
export function tvSource(listSize: number): PlaylistSource {
  return { file: LIVE_TV_LIST, render: (text) => slidingTvPlaylist(parseLiveTvList(text), listSize) };
}

/**
 * Keeps one variant's viewer playlist in step with ffmpeg's: republished (written aside, then renamed,
 * so a player never reads half a playlist) each time ffmpeg writes its own, which it does once a segment.
 */
export class PlaylistPublisher {
  private watcher: FSWatcher | undefined;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;

  constructor(
    private readonly dir: string,
    private readonly source: PlaylistSource,
    private readonly onError: (err: Error) => void,
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

  private async publish(): Promise<void> {
    const text = await readFile(join(this.dir, this.source.file), 'utf8').catch(() => undefined);
    if (text === undefined) return; // ffmpeg has not written its first segment yet
    const tmp = join(this.dir, `.${VIEWER_PLAYLIST}.tmp`);
    await writeFile(tmp, this.source.render(text));
    await rename(tmp, join(this.dir, VIEWER_PLAYLIST));
  }
}
