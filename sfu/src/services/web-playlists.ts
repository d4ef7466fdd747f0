import { watch, type FSWatcher } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FFMPEG_PLAYLIST, runOfSegment, VIEWER_PLAYLIST, viewerPlaylist } from './live-playlist.js';

/**
 * Keeps one web variant's viewer playlist in step with ffmpeg's: republished (written aside, then renamed,
 * so a player never reads half a playlist) each time ffmpeg writes its own, which it does once a segment.
 */
export class WebPlaylistPublisher {
  /** Every run that has had a segment in this variant (for the discontinuity sequence). */
  private readonly runs = new Set<number>();
  private watcher: FSWatcher | undefined;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;

  constructor(
    private readonly dir: string,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, (_event, name) => {
      if (name === FFMPEG_PLAYLIST) this.kick();
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
    const text = await readFile(join(this.dir, FFMPEG_PLAYLIST), 'utf8').catch(() => undefined);
    if (text === undefined) return; // ffmpeg has not written its first segment yet
    for (const line of text.split('\n')) {
      const run = runOfSegment(line.trim());
      if (run !== undefined) this.runs.add(run);
    }
    const tmp = join(this.dir, `.${VIEWER_PLAYLIST}.tmp`);
    await writeFile(tmp, viewerPlaylist(text, this.runs));
    await rename(tmp, join(this.dir, VIEWER_PLAYLIST));
  }
}
