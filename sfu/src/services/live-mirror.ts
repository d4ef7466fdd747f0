// Live HLS into the media store (S3): ffmpeg still writes into the local folder, which becomes a spool, and
// every publish of a variant's playlists stores first each file they name that is not in the bucket yet
// (segments, init segments), then the playlists themselves (one PUT each, whole). A viewer who reads a
// playlist from the bucket therefore never meets a segment that is not there yet.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { liveCacheControl, mediaType, type MediaStorage } from '@sky/contracts/storage';

/** One segment made visible: its key, and how long after ffmpeg finished it the playlist naming it was stored. */
export interface StoredSegment {
  key: string;
  lagMs: number;
}

/** Files of one publish uploaded at once: a publish names one or two new ones, a first one a few more. */
const PARALLEL = 4;

/** The files a playlist names, in its order: segments (and variant playlists) and EXT-X-MAP init segments. */
export function playlistUris(text: string): string[] {
  const uris: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const map = /^#EXT-X-MAP:.*URI="([^"]+)"/.exec(line);
    if (map) uris.push(map[1]!);
    else if (!line.startsWith('#')) uris.push(line);
  }
  return [...new Set(uris)];
}

export class LiveMirror {
  /** Keys already in the bucket: each segment is stored once. */
  private readonly stored = new Set<string>();
  /** Playlists that name no segment (the masters) and failed to store: stored again at the next publish. */
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly store: MediaStorage,
    private readonly onStored?: (s: StoredSegment) => void,
  ) {}

  /**
   * Stores the playlists `texts` of the variant folder `localDir` at `prefix`, after every file they name.
   * Throws when any upload fails: the playlists are then not stored, and the next publish tries again.
   */
  async publish(prefix: string, localDir: string, texts: { name: string; text: string }[]): Promise<void> {
    await this.flushPending();
    const names = [...new Set(texts.flatMap((t) => playlistUris(t.text)))];
    const fresh = names.filter((n) => !this.stored.has(`${prefix}/${n}`));
    const finished: { key: string; at: number }[] = [];
    for (let i = 0; i < fresh.length; i += PARALLEL) {
      await Promise.all(
        fresh.slice(i, i + PARALLEL).map(async (name) => {
          const file = join(localDir, name);
          const key = `${prefix}/${name}`;
          const at = (await stat(file)).mtimeMs;
          await this.store.putFile(key, file, options(key));
          this.stored.add(key);
          finished.push({ key, at });
        }),
      );
    }
    for (const t of texts) await this.putText(`${prefix}/${t.name}`, t.text);
    const now = Date.now();
    // init segments are written when a run starts, long before they are first named: not a segment's lag
    for (const f of finished)
      if (/\.(m4s|ts)$/.test(f.key))
        this.onStored?.({ key: f.key, lagMs: Math.max(0, Math.round(now - f.at)) });
  }

  /** Keys an earlier bridge of the lesson stored: named by playlists, never uploaded from here. */
  adopt(keys: readonly string[]): void {
    for (const k of keys) this.stored.add(k);
  }

  /** A playlist naming no segment (a master): stored now, or at the next publish if this fails. */
  async putMaster(key: string, text: string): Promise<void> {
    this.pending.set(key, text);
    await this.flushPending();
  }

  private async flushPending(): Promise<void> {
    for (const [key, text] of this.pending) {
      await this.putText(key, text);
      this.pending.delete(key);
    }
  }

  private putText(key: string, text: string): Promise<void> {
    return this.store.putBytes(key, text, options(key));
  }
}

function options(key: string) {
  return { contentType: mediaType(key), cacheControl: liveCacheControl(key) };
}
