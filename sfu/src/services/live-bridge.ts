// The live HLS bridge of one room: the teacher's video + mic → the RTP relay (adapters/bridge-relay.ts) →
// ONE ffmpeg that re-encodes once into a small ladder and writes live HLS (fMP4 for the web, MPEG-TS for
// set-top boxes) and the recording. Viewers never reach the teacher with key frame requests: only the relay
// asks, when it switches source and when ffmpeg (re)starts. ffmpeg's log: <dir>/.ffmpeg.log.
//
// Which video: the room passes the one it wants on the HLS stage — the screen share while it is active,
// else the camera (RoomService decides; the bridge bridges whatever `video` it gets). A change of source,
// a teacher's reload or a new router after a worker death changes only what the relay consumes: ffmpeg
// sees one continuous VP8 and one Opus stream for the whole lesson, black video and silence where the
// teacher sends none, so viewers see the picture change without a break. Only an ffmpeg that dies is
// restarted: its playlists continue after an EXT-X-DISCONTINUITY, each run writes its own recording part,
// and stop() joins the parts into one file on the lesson's clock, black video and silence filling the hole.
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { LIVE_TV_LIST, parseLiveTvList, type LiveTvSegment } from '@sky/contracts';
import type { MediaStorage } from '@sky/contracts/storage';
import { BridgeRelay } from '../adapters/bridge-relay.js';
import {
  createFfmpegLive,
  freeUdpPortPair,
  udpPortsBound,
  type FfmpegLive,
  type LiveProcess,
} from '../adapters/ffmpeg-live.js';
import type { BridgeProducer as Producer, BridgeRouter as Router } from '../adapters/room-media.js';
import {
  BRIDGE_AUDIO,
  BRIDGE_VIDEO,
  bridgeInputs,
  buildConcatArgs,
  buildConcatList,
  partOutpoint,
  buildFillerArgs,
  buildLiveArgs,
  buildLiveMaster,
  buildSdp,
  buildStillFrameArgs,
  LIVE_FPS,
  LIVE_LADDER,
  recordingPartName,
  recordingTimeline,
  variantNames,
  type LiveRung,
  type RecordedPart,
} from './live-bridge-args.js';
import { LiveMirror, type StoredSegment } from './live-mirror.js';
import { VIEWER_PLAYLIST } from './live-playlist.js';
import { PlaylistPublisher, tvSource, webSource } from './playlist-publisher.js';
import { ivfFrames, OPUS_SILENCE, packetizeVp8 } from './rtp-splice.js';

/** pino-compatible */
export interface BridgeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LiveBridgeDeps {
  mediaDir: string;
  ffmpegPath: string;
  log: BridgeLogger;
  /** Where the PlainTransports listen (RTC_LISTEN_IP); ffmpeg always runs on this host (127.0.0.1). */
  listenIp: string;
  /** Defaults to the ffprobe beside ffmpegPath. */
  ffprobePath?: string;
  /** Segment length of the live playlists (LIVE_HLS_SEGMENT_SEC, default 1). */
  segmentSec?: number;
  /** Segments kept in each sliding playlist (default 8). */
  listSize?: number;
  ladder?: readonly LiveRung[];
  /** Injected in tests; defaults to the real adapter. */
  ffmpeg?: FfmpegLive;
  /** The lesson's go-live (ms): the replay's 0 s, filled until the teacher's media first flows. */
  liveSince?: number | undefined;
  /**
   * The media store when it is not the local folder (S3): live playlists and segments are stored there
   * as they are made (the folder becomes ffmpeg's spool), and the joined recording at the end.
   */
  store?: MediaStorage | undefined;
  /** Each live segment made visible in `store`, with its lag: for logs and tests. */
  onSegmentStored?: (s: StoredSegment) => void;
}

export interface BridgeSources {
  video?: Producer | undefined;
  audio?: Producer | undefined;
}

const FFMPEG_HOST = '127.0.0.1';
const BIND_TIMEOUT_MS = 10_000;
const DRAIN_MAX_MS = 20_000;
/** The relay's output SSRCs: ffmpeg's one stream per kind. */
const OUT_SSRC = { video: 0x5c1a55e5, audio: 0x5c1a55e6 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LiveBridge {
  readonly paths: { web: string; tv: string };
  /** How many times ffmpeg was started (restarts after a crash included): for health and tests. */
  runs = 0;
  /** When this bridge was made (ms): the base of its runs' file names (LiveOutputPlan.runId). */
  private readonly startedAt = Date.now();
  private readonly rel: string;
  private readonly dir: string;
  private readonly ffmpeg: FfmpegLive;
  private router: Router;
  /** From the teacher's first media to the end: ffmpeg's inputs, whatever the teacher publishes. */
  private relay: BridgeRelay | undefined;
  private ports = { video: 0, audio: 0 };
  private proc: LiveProcess | undefined;
  private intentional = false;
  private stopped = false;
  private chain: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | undefined;
  private crashes: number[] = [];
  /** Runs whose ffmpeg was killed: their recording part ends in a torn packet. */
  private readonly crashedRuns = new Set<number>();

  /** Wall clock (ms) when each run's media began to flow: where its part sits in the replay. */
  private readonly runStartedAt: number[] = [];
  /** When stop() cut the input: the replay's end on the lesson's clock. */
  private stoppedAt: number | undefined;
  /** The viewers' web playlists, one per rung (ffmpeg's own give every run the newest init segment). */
  private publishers: PlaylistPublisher[] = [];
  private readonly mirror: LiveMirror | undefined;
  /**
   * Per TV rung, the segments an earlier bridge of this lesson stored before its host died (read from the
   * store when this one starts): the lesson's list keeps them, and the replay is made from them too.
   */
  private earlier = new Map<string, LiveTvSegment[]>();

  constructor(
    readonly lessonId: string,
    router: Router,
    private readonly deps: LiveBridgeDeps,
  ) {
    if (!/^[\w-]+$/.test(lessonId)) throw new Error(`unsafe lesson id for a folder name: ${lessonId}`);
    this.router = router;
    this.rel = `live/${lessonId}`;
    this.dir = join(deps.mediaDir, this.rel);
    this.paths = { web: `${this.rel}/web/master.m3u8`, tv: `${this.rel}/tv/master.m3u8` };
    this.mirror = deps.store ? new LiveMirror(deps.store, deps.onSegmentStored) : undefined;
    this.ffmpeg =
      deps.ffmpeg ??
      createFfmpegLive({
        ffmpeg: deps.ffmpegPath,
        ...(deps.ffprobePath ? { ffprobe: deps.ffprobePath } : {}),
      });
  }

  /** The replay's 0 s: the go-live when known, else when the lesson's media first flowed to ffmpeg. */
  get recordingSince(): number | undefined {
    const first = this.runStartedAt.find((t) => t !== undefined);
    return first === undefined ? undefined : Math.min(this.deps.liveSince ?? first, first);
  }

  /** The running ffmpeg's pid (undefined while idle): tests kill it to prove the restart. */
  get ffmpegPid(): number | undefined {
    return this.proc?.pid;
  }

  /** What the relay carries now (a producer's SSRC or 'filler'), with its counters: for logs and tests. */
  get relayState(): ReturnType<BridgeRelay['state']> | undefined {
    return this.relay?.state();
  }

  /**
   * Called whenever the teacher's producers change, or with a NEW router after a worker restart. The first
   * media starts the relay and ffmpeg; after that only the relay follows (black and silence while none).
   */
  update(sources: BridgeSources, router?: Router): Promise<void> {
    return this.serial(async () => {
      if (this.stopped) return;
      if (router) this.router = router;
      const want = {
        video: live(sources.video) ? sources.video : undefined,
        audio: live(sources.audio) ? sources.audio : undefined,
      };
      if (!this.relay) {
        if (!want.video && !want.audio) return;
        try {
          this.relay = await this.openRelay();
          await this.relay.follow(want, this.router);
          await this.startFfmpeg();
        } catch (err) {
          this.deps.log.error(
            { lessonId: this.lessonId, err: (err as Error).message },
            'live bridge could not start',
          );
          await this.teardown();
          throw err;
        }
      } else await this.relay.follow(want, this.router);
      this.deps.log.info(
        { lessonId: this.lessonId, video: want.video?.id, audio: want.audio?.id },
        want.video || want.audio ? 'live bridge follows' : 'live bridge fills: no teacher media',
      );
    });
  }

  /**
   * Stops ffmpeg, joins the recording parts; returns the recording's key in the media store (or null): with
   * a `store` the recording is stored there before stop() answers, so the replay's transcoder finds it.
   */
  stop(): Promise<{ recording: string | null; durationSec: number }> {
    return this.serial(async () => {
      if (this.stopped) return { recording: null, durationSec: 0 };
      this.stopped = true;
      this.stoppedAt = Date.now();
      await this.teardown(true);
      await this.endPlaylists();
      const done = await this.finaliseRecording();
      if (done.recording && this.deps.store) {
        const t0 = Date.now();
        // a failure here must not lose the lesson's end: the api still copies it when it shares the folder
        await this.deps.store.putFile(done.recording, join(this.deps.mediaDir, done.recording)).then(
          () =>
            this.deps.log.info(
              { lessonId: this.lessonId, key: done.recording, ms: Date.now() - t0 },
              'live recording stored',
            ),
          (err: unknown) =>
            this.deps.log.error(
              { lessonId: this.lessonId, key: done.recording, err: (err as Error).message },
              'live recording not stored',
            ),
        );
      }
      return done;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /** ffmpeg's two input ports, and the relay feeding them (its filler: a black key frame, Opus silence). */
  private async openRelay(): Promise<BridgeRelay> {
    const still = ivfFrames(await this.ffmpeg.capture(buildStillFrameArgs()))[0];
    if (!still) throw new Error('ffmpeg made no VP8 filler frame');
    const video = await freeUdpPortPair(FFMPEG_HOST);
    let audio = video;
    while (Math.abs(audio - video) < 2) audio = await freeUdpPortPair(FFMPEG_HOST);
    this.ports = { video, audio };
    return BridgeRelay.open(
      {
        video: {
          mimeType: `video/${BRIDGE_VIDEO.codecName}`,
          output: { ssrc: OUT_SSRC.video, ...BRIDGE_VIDEO },
          filler: { payloads: packetizeVp8(still), frameMs: 1000 / LIVE_FPS },
          port: video,
        },
        audio: {
          mimeType: `audio/${BRIDGE_AUDIO.codecName}`,
          output: { ssrc: OUT_SSRC.audio, ...BRIDGE_AUDIO },
          filler: { payloads: [OPUS_SILENCE], frameMs: 20 },
          port: audio,
        },
      },
      { host: FFMPEG_HOST, listenIp: this.deps.listenIp, log: this.deps.log },
    );
  }

  private plan() {
    return {
      dir: this.dir,
      segmentSec: this.deps.segmentSec ?? 1,
      listSize: this.deps.listSize ?? 8,
      run: this.runs,
      runId: this.startedAt + this.runs,
      ladder: this.deps.ladder ?? LIVE_LADDER,
    };
  }

  private async startFfmpeg(): Promise<void> {
    const plan = this.plan();
    if (this.runs === 0) await rm(this.dir, { recursive: true, force: true });
    const names = variantNames(plan);
    for (const folder of ['web', 'tv'])
      for (const n of names) await mkdir(join(this.dir, folder, n), { recursive: true });
    await mkdir(join(this.dir, 'recording'), { recursive: true });
    const masters = {
      web: buildLiveMaster(plan.ladder, 'fmp4'),
      tv: buildLiveMaster(plan.ladder, 'mpegts'),
    };
    await writeFile(join(this.dir, 'web', 'master.m3u8'), masters.web);
    if (this.publishers.length === 0) {
      const listSize = plan.listSize;
      this.earlier = await this.earlierSegments(names);
      this.publishers = (['web', 'tv'] as const).flatMap((folder) =>
        names.map(
          (n) =>
            new PlaylistPublisher(
              join(this.dir, folder, n),
              folder === 'web' ? webSource(listSize) : tvSource(listSize, this.earlier.get(n)),
              (err) =>
                this.deps.log.warn(
                  { lessonId: this.lessonId, folder, rung: n, err: err.message },
                  'live viewer playlist not published',
                ),
              this.mirror ? { to: this.mirror, prefix: `${this.rel}/${folder}/${n}` } : undefined,
            ),
        ),
      );
      for (const p of this.publishers) p.start();
    }
    await writeFile(join(this.dir, 'tv', 'master.m3u8'), masters.tv);
    if (this.mirror && this.runs === 0) {
      // the same every run; one that fails now is stored again before the next playlist
      for (const folder of ['web', 'tv'] as const)
        await this.mirror
          .putMaster(`${this.rel}/${folder}/master.m3u8`, masters[folder])
          .catch((err: unknown) =>
            this.deps.log.warn(
              { lessonId: this.lessonId, folder, err: (err as Error).message },
              'live master not stored yet',
            ),
          );
    }
    // dot files: the media store is served at /media, which refuses dotfiles (ports, args, logs stay private)
    const sdpFile = join(this.dir, '.input.sdp');
    await writeFile(sdpFile, buildSdp(bridgeInputs(this.ports), FFMPEG_HOST));

    const args = buildLiveArgs(sdpFile, plan);
    const runIndex = this.runs;
    this.runs += 1;
    this.intentional = false;
    const proc = this.ffmpeg.start(args, join(this.dir, '.ffmpeg.log'));
    this.proc = proc;
    void proc.exited.then(({ code, signal }) => this.onExit(proc, runIndex, code, signal));

    // RTP sent before ffmpeg listens is lost, and VP8 cannot be decoded before a key frame
    const { video, audio } = this.ports;
    const deadline = Date.now() + BIND_TIMEOUT_MS;
    while (!udpPortsBound([video, video + 1, audio, audio + 1])) {
      if (this.proc !== proc) return; // died while starting: onExit restarts it
      if (Date.now() > deadline) throw new Error('ffmpeg did not bind its RTP ports within 10 s');
      await sleep(50);
    }
    this.relay?.keyFrame();
    this.runStartedAt[runIndex] = Date.now();
    this.deps.log.info(
      { lessonId: this.lessonId, pid: proc.pid, run: this.runs, ports: this.ports },
      'live bridge ffmpeg started',
    );
  }

  private onExit(proc: LiveProcess, run: number, code: number | null, signal: string | null): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    if (this.intentional || this.stopped) return;
    this.crashedRuns.add(run);
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < 60_000), now];
    // back off when it keeps dying (a broken input): 0.5 s, 1 s, 2 s … up to 10 s
    const delay = Math.min(10_000, 500 * 2 ** (this.crashes.length - 1));
    this.deps.log.error(
      { lessonId: this.lessonId, code, signal, restartInMs: delay },
      'live bridge ffmpeg died; restarting',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.serial(async () => {
        if (this.stopped || this.proc || !this.relay) return;
        await this.startFfmpeg();
      }).catch((err: unknown) =>
        this.deps.log.error(
          { lessonId: this.lessonId, err: (err as Error).message },
          'live bridge restart failed',
        ),
      );
    }, delay);
  }

  /**
   * Stops ffmpeg and the relay. At the end of the lesson (`drain`) the input is cut first and ffmpeg gets
   * to encode what it still holds: on a busy machine it runs behind real time, and SIGINT would drop that
   * backlog from the recording. Done when the recording part stops growing (1 s), at most DRAIN_MAX_MS.
   */
  private async teardown(drain = false): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const proc = this.proc;
    this.relay?.close();
    this.relay = undefined;
    if (proc && drain) {
      const part = join(this.dir, 'recording', recordingPartName(this.runs - 1));
      const size = () =>
        stat(part).then(
          (st) => st.size,
          () => 0,
        );
      const deadline = Date.now() + DRAIN_MAX_MS;
      let last = await size();
      let still = 0;
      while (this.proc === proc && still < 2 && Date.now() < deadline) {
        await sleep(500);
        const now = await size();
        still = now === last ? still + 1 : 0;
        last = now;
      }
    }
    if (proc) {
      this.intentional = true;
      await proc.stop();
      this.proc = undefined;
    }
  }

  /**
   * What an earlier bridge of this lesson left in the store, rung by rung: a lesson moved to this host
   * when its sfu died keeps its TV list and its replay whole, but for the segments not stored yet.
   */
  private async earlierSegments(names: string[]): Promise<Map<string, LiveTvSegment[]>> {
    const out = new Map<string, LiveTvSegment[]>();
    const store = this.deps.store;
    if (!store || !this.mirror) return out;
    for (const n of names) {
      const prefix = `${this.rel}/tv/${n}`;
      const got = await store.get(`${prefix}/${LIVE_TV_LIST}`).catch((err: unknown) => {
        this.deps.log.warn(
          { lessonId: this.lessonId, rung: n, err: (err as Error).message },
          'earlier live list unreadable',
        );
        return undefined;
      });
      if (!got) continue;
      const list = parseLiveTvList((await bytesOf(got.body)).toString('utf8'));
      // an ended list is a finished lesson's, not one this bridge continues
      if (list.ended || list.segments.length === 0) continue;
      out.set(n, list.segments);
      this.mirror.adopt(list.segments.map((s) => `${prefix}/${s.uri}`));
    }
    if (out.size > 0)
      this.deps.log.info(
        { lessonId: this.lessonId, segments: [...out.values()].map((s) => s.length) },
        'live bridge continues an earlier bridge of this lesson',
      );
    return out;
  }

  /**
   * The earlier bridge's top rung as recording parts, one per run (its segments are the same packets as
   * its recording part): fetched from the store and joined by bytes, MPEG-TS being made to be cut so.
   */
  private async earlierParts(recDir: string): Promise<RecordedPart[]> {
    const top = (this.deps.ladder ?? LIVE_LADDER)[0]!.name;
    const segments = this.earlier.get(top) ?? [];
    const store = this.deps.store;
    if (!store || segments.length === 0) return [];
    const runs: LiveTvSegment[][] = [];
    for (const s of segments) {
      if (s.discontinuity || runs.length === 0) runs.push([]);
      runs.at(-1)!.push(s);
    }
    const parts: RecordedPart[] = [];
    for (const [i, run] of runs.entries()) {
      const file = join(recDir, `earlier-${String(i).padStart(3, '0')}.ts`);
      await writeFile(file, '');
      let missing = 0;
      for (const s of run) {
        const got = await store.get(`${this.rel}/tv/${top}/${s.uri}`);
        if (!got) {
          missing++;
          continue;
        }
        await appendFile(file, await bytesOf(got.body));
      }
      const span = await this.ffmpeg.span(file);
      if (!span) continue;
      const lastVideo = await this.ffmpeg.lastPacketTime(file, 'v:0');
      const outpoint = partOutpoint(lastVideo, false);
      parts.push({
        file,
        startedAt: run[0]!.pdtMs,
        durationSec: outpoint !== undefined ? outpoint - span.startSec : span.durationSec,
        outpoint,
      });
      if (missing > 0)
        this.deps.log.warn({ lessonId: this.lessonId, run: i, missing }, 'earlier live segments missing');
    }
    return parts;
  }

  /** Players stop waiting for segments once the playlists say the lesson is over. */
  private async endPlaylists(): Promise<void> {
    if (this.runs === 0) return;
    await Promise.all(this.publishers.map((p) => p.close()));
    // the viewer playlists, and the TV's whole-lesson lists the channels are cut from
    const files = ['web', 'tv'].flatMap((folder) =>
      variantNames({ ladder: this.deps.ladder ?? LIVE_LADDER }).flatMap((name) => [
        join(this.dir, folder, name, VIEWER_PLAYLIST),
        ...(folder === 'tv' ? [join(this.dir, folder, name, LIVE_TV_LIST)] : []),
      ]),
    );
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined && !text.includes('#EXT-X-ENDLIST')) await appendFile(file, '#EXT-X-ENDLIST\n');
    }
    if (!this.mirror) return;
    const stored = await Promise.allSettled(this.publishers.map((p) => p.storeFinal()));
    for (const r of stored)
      if (r.status === 'rejected')
        this.deps.log.error(
          { lessonId: this.lessonId, err: (r.reason as Error).message },
          'live playlist end not stored',
        );
  }

  /**
   * Joins the runs' parts into one recording on the lesson's clock: where no run recorded (a restart, a
   * worker death, no media), black video and silence of that length (recordingTimeline).
   */
  private async finaliseRecording(): Promise<{ recording: string | null; durationSec: number }> {
    const recDir = join(this.dir, 'recording');
    const parts: RecordedPart[] = await this.earlierParts(recDir);
    for (let run = 0; run < this.runs; run++) {
      const file = join(recDir, recordingPartName(run));
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      const startedAt = this.runStartedAt[run];
      // an ffmpeg that died before its first packets leaves (almost) nothing
      if (size < 4096 || startedAt === undefined) continue;
      const span = await this.ffmpeg.span(file);
      if (!span) continue;
      // every part ends where its picture ends: a killed ffmpeg's last packet is torn (left out), and an
      // ffmpeg stopped while behind real time holds its streams to different points (see partOutpoint)
      const lastVideo = await this.ffmpeg.lastPacketTime(file, 'v:0');
      const outpoint = partOutpoint(lastVideo, this.crashedRuns.has(run));
      const durationSec = outpoint !== undefined ? outpoint - span.startSec : span.durationSec;
      parts.push({ file, startedAt, durationSec, outpoint });
    }
    if (parts.length === 0) return { recording: null, durationSec: 0 };
    const timeline = recordingTimeline(parts, this.stoppedAt ?? Date.now(), this.deps.liveSince);
    const top = (this.deps.ladder ?? LIVE_LADDER)[0]!;
    const entries: { file: string; outpoint?: number | undefined }[] = [];
    const gaps: number[] = [];
    for (const e of timeline) {
      if (e.kind === 'part') {
        entries.push({ file: e.file, outpoint: e.outpoint });
        continue;
      }
      const file = join(recDir, `filler-${String(gaps.length).padStart(3, '0')}.ts`);
      await this.ffmpeg.run(buildFillerArgs(e.seconds, top, this.deps.segmentSec ?? 1, file));
      entries.push({ file });
      gaps.push(e.seconds);
    }
    const listFile = join(recDir, '.parts.txt');
    await writeFile(listFile, buildConcatList(entries));
    const out = join(recDir, 'recording.mp4');
    await this.ffmpeg.run(buildConcatArgs(listFile, out));
    const durationSec = await this.ffmpeg.durationSec(out);
    this.deps.log.info(
      {
        lessonId: this.lessonId,
        parts: parts.length,
        filledSec: gaps,
        durationSec,
        wallSec: this.stoppedAt ? (this.stoppedAt - this.recordingSince!) / 1000 : undefined,
      },
      'live recording finalised',
    );
    return { recording: `${this.rel}/recording/recording.mp4`, durationSec };
  }
}

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function live(p: Producer | undefined): p is Producer {
  return p !== undefined && !p.closed;
}
