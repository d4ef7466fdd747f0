import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  avcCodec,
  parseMediaPlaylist,
  type MediaFailure,
  type TranscodeJob,
  type TranscodeResult,
} from '@sky/contracts';
import { checkKey, MediaNotFound, type MediaStorage } from '@sky/contracts/storage';
import { ProbeError, type Ffmpeg, type Progress } from '../adapters/ffmpeg.js';
import {
  buildEncodeArgs,
  buildPosterArgs,
  buildStoryboardArgs,
  buildPackageArgs,
  planStoryboard,
  storyboardVtt,
} from './hls-args.js';
import { chooseLadder, TV_MAX_HEIGHT, type Rung } from './ladder.js';
import {
  AAC_LC,
  buildIFramePlaylist,
  buildMasterPlaylist,
  type IFrameInfo,
  type KeyFrame,
  type VariantInfo,
} from './master.js';
import { tablesBefore } from './ts-packets.js';

/** A failure no retry can fix (the upload is not usable media); the code is shown translated to the teacher. */
export class PermanentFailure extends Error {
  constructor(
    readonly code: MediaFailure,
    message: string,
  ) {
    super(message);
  }
}

/** This process, as it signs its work folders: another host's or a live process's folder is never swept. */
const OWNER = `${hostname()}.${process.pid}`;

/** The masters, stored after every other file of a rendition: the web one, which marks it done, last. */
const MASTERS = ['tv/master.m3u8', 'web/master.m3u8'];

export class HlsService {
  /**
   * @param workRoot where attempts encode, one folder each (`<lesson>-<attempt>@<host>.<pid>`); with the local
   *   store keep it on the media folder's filesystem, so publishing is one rename.
   */
  constructor(
    private readonly ffmpeg: Ffmpeg,
    private readonly storage: MediaStorage,
    private readonly workRoot: string,
    private readonly preset: string,
  ) {}

  private key(rel: string): string {
    try {
      return checkKey(rel);
    } catch {
      throw new PermanentFailure('NOT_MEDIA', `path outside the media store: ${rel}`);
    }
  }

  /**
   * Work folders of this host's processes that died mid-job (a killed worker): removed. A live attempt's
   * folder, here or on another host sharing the root, is left alone, so a retry never deletes work in flight.
   */
  async sweepDeadAttempts(): Promise<string[]> {
    const host = hostname();
    const swept: string[] = [];
    for (const name of await readdir(this.workRoot).catch(() => [])) {
      const owner = name.slice(name.lastIndexOf('@') + 1);
      const dot = owner.lastIndexOf('.');
      if (name.lastIndexOf('@') < 0 || owner.slice(0, dot) !== host) continue;
      const pid = Number(owner.slice(dot + 1));
      if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
      await rm(join(this.workRoot, name), { recursive: true, force: true });
      swept.push(name);
    }
    return swept;
  }

  /**
   * Source → one encode → web (fMP4) and TV (MPEG-TS v3) HLS, poster and storyboard, at `job.outputDir`.
   * The attempt works in a folder of its own (the source is fetched there when the store is remote) and
   * publishes through the store, masters last, so a reader never sees half a lesson; a re-run after
   * success is a no-op.
   */
  async package(
    job: TranscodeJob,
    attempt: string,
    onProgress?: (p: EncodeProgress) => void,
  ): Promise<TranscodeResult> {
    const sourceKey = this.key(job.source);
    const outputKey = this.key(job.outputDir);
    await this.sweepDeadAttempts();
    const work = join(this.workRoot, `${job.lessonId}-${attempt}@${OWNER}`);
    await mkdir(work, { recursive: true });
    try {
      let source: string;
      try {
        source = await this.storage.localCopy(sourceKey, work);
      } catch (err) {
        if (err instanceof MediaNotFound)
          throw new PermanentFailure('NOT_MEDIA', 'the upload is not in the store');
        throw err;
      }
      let probe;
      try {
        probe = await this.ffmpeg.probe(source);
      } catch (err) {
        if (err instanceof ProbeError)
          throw new PermanentFailure('NOT_MEDIA', `not a readable media file (${err.message})`);
        throw err;
      }
      if (!probe.video && !probe.audio)
        throw new PermanentFailure('NO_STREAMS', 'the file has no video or audio stream');
      if (!(probe.durationSec > 0)) throw new PermanentFailure('NO_DURATION', 'the file has no duration');
      const hasVideo = probe.video !== undefined;
      const result: TranscodeResult = {
        outcome: 'ready',
        lessonId: job.lessonId,
        master: `${job.outputDir}/web/master.m3u8`,
        tvMaster: `${job.outputDir}/tv/master.m3u8`,
        ...(hasVideo
          ? { poster: `${job.outputDir}/poster.jpg`, storyboard: `${job.outputDir}/storyboard.vtt` }
          : {}),
        durationSec: probe.durationSec,
      };
      if (await this.storage.head(`${outputKey}/web/master.m3u8`)) return result;

      const out = join(work, 'out');
      await mkdir(out, { recursive: true });
      const ladder = chooseLadder(probe);
      const intermediate = join(work, 'encoded.mkv');
      const t0 = performance.now();
      const duration = probe.durationSec;
      await this.ffmpeg.run(
        buildEncodeArgs(source, intermediate, probe, ladder, this.preset),
        (p: Progress) => {
          const done = timemarkSec(p.timemark);
          const elapsed = (performance.now() - t0) / 1000;
          onProgress?.({
            // the encode is ~95 % of the work; packaging and images follow
            percent: Math.min(95, (done / duration) * 95),
            fps: p.fps,
            speed: elapsed > 0 ? done / elapsed : 0,
          });
        },
      );
      // Packaging only copies; the images decode the small rung and one GOP: all three at once.
      const sb = planStoryboard(probe);
      await Promise.all([
        this.ffmpeg.run(buildPackageArgs(intermediate, out, ladder, probe.audio !== undefined)),
        ...(hasVideo
          ? [
              this.ffmpeg.run(buildStoryboardArgs(intermediate, out, ladder, sb)),
              this.ffmpeg.run(buildPosterArgs(intermediate, out, probe)),
              writeFile(join(out, 'storyboard.vtt'), storyboardVtt(sb, probe.durationSec)),
            ]
          : []),
      ]);
      await rm(intermediate);
      await this.writeMasters(out, ladder, probe.audio !== undefined);
      await this.storage.publish(outputKey, out, { last: MASTERS });
      return result;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Masters measured from what was written: peak and average bitrate, codecs, resolution, frame rate. */
  private async writeMasters(dir: string, ladder: Rung[], hasAudio: boolean): Promise<void> {
    const audio = hasAudio ? [AAC_LC] : [];
    const webNames = [...ladder.map((r) => r.name), ...(hasAudio ? ['audio'] : [])];
    const tvRungs = ladder.filter((r) => r.height <= TV_MAX_HEIGHT);
    const tvNames =
      ladder.length === 0 ? ['audio'] : (tvRungs.length ? tvRungs : ladder.slice(-1)).map((r) => r.name);
    // Every rung is measured at once: each probe is a short single-threaded process.
    const [web, tv] = await Promise.all([
      Promise.all(webNames.map((n) => this.variant(join(dir, 'web'), n, audio))),
      Promise.all(tvNames.map((n) => this.variant(join(dir, 'tv'), n, audio))),
    ]);
    const iframes = await Promise.all(
      tvNames.flatMap((name, i) => (name === 'audio' ? [] : [this.iframes(join(dir, 'tv'), name, tv[i]!)])),
    );
    await writeFile(join(dir, 'web', 'master.m3u8'), buildMasterPlaylist({ version: 7, variants: web }));
    await writeFile(
      join(dir, 'tv', 'master.m3u8'),
      buildMasterPlaylist({ version: 3, variants: tv, iframes }),
    );
  }

  private async variant(root: string, name: string, audioCodecs: string[]): Promise<VariantInfo> {
    const playlist = join(root, name, 'index.m3u8');
    const segments = parseMediaPlaylist(await readFile(playlist, 'utf8'));
    let total = 0;
    let duration = 0;
    let peak = 0;
    for (const s of segments) {
      const bytes = (await stat(join(root, name, s.uri))).size;
      total += bytes;
      duration += s.durationSec;
      if (s.durationSec > 0.5) peak = Math.max(peak, (bytes * 8) / s.durationSec);
    }
    const average = duration > 0 ? (total * 8) / duration : 0;
    const info = name === 'audio' ? undefined : await this.ffmpeg.videoInfo(playlist);
    return {
      uri: `${name}/index.m3u8`,
      bandwidth: Math.max(peak, average),
      averageBandwidth: average,
      codecs: [...(info ? [avcCodec(info.profile, info.level)] : []), ...audioCodecs],
      ...(info ? { resolution: { width: info.width, height: info.height }, frameRate: info.fps } : {}),
    };
  }

  /**
   * One I-frame playlist per TV rung: every keyframe's byte range, from the PAT and PMT before it (so a
   * player can start decoding at it) up to the next video packet.
   */
  private async iframes(root: string, name: string, v: VariantInfo): Promise<IFrameInfo> {
    const segments = parseMediaPlaylist(await readFile(join(root, name, 'index.m3u8'), 'utf8'));
    const files = segments.map((seg) => join(root, name, seg.uri));
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    // One probe over the byte-concatenated segments (TS allows it); positions map back by cumulative size.
    const all = await this.ffmpeg.videoPackets(files.length === 1 ? files[0]! : `concat:${files.join('|')}`);
    const bases: number[] = [];
    sizes.reduce((acc, size) => (bases.push(acc), acc + size), 0);
    const frames: KeyFrame[] = [];
    let start = 0;
    for (const [k, s] of segments.entries()) {
      const base = bases[k]!;
      const size = sizes[k]!;
      const packets = all
        .filter((p) => p.pos >= base && p.pos < base + size)
        .map((p) => ({ ...p, pos: p.pos - base }));
      const t0 = packets[0]?.ptsSec ?? 0;
      const bytes = packets.some((p) => p.key) ? await readFile(files[k]!) : undefined;
      packets.forEach((p, i) => {
        if (!p.key || !bytes) return;
        const next = packets.slice(i + 1).find((q) => q.pos > p.pos);
        const nextKey = packets.slice(i + 1).find((q) => q.key);
        const at = start + (p.ptsSec - t0);
        const until = nextKey ? start + (nextKey.ptsSec - t0) : start + s.durationSec;
        const offset = tablesBefore(bytes, p.pos);
        frames.push({
          segment: s.uri,
          offset,
          length: (next?.pos ?? size) - offset,
          durationSec: Math.max(0.04, until - at),
        });
      });
      start += s.durationSec;
    }
    await writeFile(join(root, name, 'iframes.m3u8'), buildIFramePlaylist(frames));
    const peak = Math.max(0, ...frames.map((f) => (f.length * 8) / f.durationSec));
    return {
      uri: `${name}/iframes.m3u8`,
      bandwidth: peak,
      codecs: v.codecs.filter((c) => c.startsWith('avc1')),
      resolution: v.resolution ?? { width: 0, height: 0 },
    };
  }
}

export interface EncodeProgress {
  percent: number;
  fps: number;
  /** × real time */
  speed: number;
}

/** ffmpeg's `HH:MM:SS.cc` → seconds. */
export function timemarkSec(mark: string): number {
  const [h, m, sec] = mark.split(':').map(Number);
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (sec ?? 0) || 0;
}

/** A process of this host that still runs (EPERM: it runs as someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
