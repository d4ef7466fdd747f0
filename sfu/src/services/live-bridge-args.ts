// Pure builders for the live HLS bridge: the SDP that tells ffmpeg where mediasoup sends RTP, the one
// ffmpeg command (decode once, encode the live ladder once, fan out with the tee muxer) and the masters.
import { LIVE_TV_LIST } from '@sky/contracts';
import { FFMPEG_PLAYLIST, initSegmentName } from './live-playlist.js';

/** One RTP stream mediasoup sends to ffmpeg over a PlainTransport (RTCP on port + 1). */
export interface RtpInput {
  kind: 'audio' | 'video';
  port: number;
  payloadType: number;
  /** e.g. 'VP8', 'H264', 'opus' */
  codecName: string;
  clockRate: number;
  channels?: number;
  /** fmtp parameters as mediasoup gives them (packetization-mode, profile-level-id …). */
  parameters?: Record<string, string | number>;
}

/** A rung of the live ladder: fixed output size (the input may change size when simulcast layers switch). */
export interface LiveRung {
  name: string;
  width: number;
  height: number;
  videoKbps: number;
  profile: 'high' | 'main';
  /** x264 level × 10 */
  level: number;
}

export const LIVE_LADDER: readonly LiveRung[] = [
  { name: '720p', width: 1280, height: 720, videoKbps: 1800, profile: 'high', level: 31 },
  { name: '360p', width: 640, height: 360, videoKbps: 600, profile: 'main', level: 30 },
];

export const LIVE_AUDIO = { kbps: 96, channels: 2, sampleRate: 48000 } as const;
/**
 * The sound follows its timestamps: aresample fills a hole with silence and trims an overlap once they and
 * its samples are more than one Opus frame (20 ms) apart. ffmpeg's own threshold (0.1 s) keeps every
 * smaller step as it is: the relay's steps (it moves a kind ≤ 50 ms at a time to where it was captured) and
 * the recording's joins then add up, the sound drifting up to 100 ms from the picture over a lesson.
 */
/**
 * x264 for the live ladder and its fillers (the recording's join copies both). zerolatency's sliced
 * threads make every frame wait for its slowest slice: on a host with a busy core, a slice waiting for that
 * core holds the whole ladder, and ffmpeg's reading of its input with it. Frame threads instead (about two
 * frames more delay, nothing for HLS), and superfast. Beside a busy core, 30 s of a 1280×720 screen through
 * both rungs (3 runs each): veryfast sliced 8.4–8.7 s, 9.4 s of CPU; veryfast frame threads 6.9–7.3 s;
 * superfast frame threads 5.2–5.4 s, 7.2 s of CPU.
 */
export const LIVE_X264 = [
  ...['-c:v', 'libx264', '-preset', 'superfast', '-tune', 'zerolatency'],
  ...['-x264-params', 'sliced-threads=0'],
] as const;
export const SOUND_ON_TIMESTAMPS = 'aresample=async=1:min_hard_comp=0.02';
export const LIVE_FPS = 25;

export interface LiveOutputPlan {
  /** Absolute folder of this lesson's live output: web/, tv/ and recording/ live below it. */
  dir: string;
  segmentSec: number;
  /** Segments kept in each sliding playlist. */
  listSize: number;
  /** 0 for the first ffmpeg of a lesson; a restart (a crash) appends to the playlists after a discontinuity. */
  run: number;
  /**
   * This run in the names of its segments and init segment: unique to the bridge (its start, ms, plus
   * `run`), in run order. Players and edges keep live segments as immutable, so a new bridge for the
   * lesson (an sfu restarted, the lesson live again) must never write a name an earlier one wrote.
   */
  runId: number;
  ladder: readonly LiveRung[];
}

/**
 * The bridge's two RTP inputs, the same for the whole lesson whatever the teacher publishes: the relay
 * (adapters/bridge-relay.ts) carries every camera and screen share as this VP8 stream and the mic as this
 * Opus one, and fills them (black, silence) while there is none.
 */
export const BRIDGE_VIDEO = { codecName: 'VP8', payloadType: 96, clockRate: 90000 } as const;
export const BRIDGE_AUDIO = { codecName: 'opus', payloadType: 111, clockRate: 48000, channels: 2 } as const;

export function bridgeInputs(ports: { video: number; audio: number }): RtpInput[] {
  return [
    { kind: 'video', port: ports.video, ...BRIDGE_VIDEO },
    { kind: 'audio', port: ports.audio, ...BRIDGE_AUDIO },
  ];
}

/** The filter graph: decode once, one fps conversion, then each rung letterboxed to its fixed size. */
export function liveVideoGraph(ladder: readonly LiveRung[], source = '0:v', fps = LIVE_FPS): string {
  const n = ladder.length;
  const head = `[${source}]fps=${fps},format=yuv420p${n > 1 ? `,split=${n}${ladder.map((_, i) => `[s${i}]`).join('')}` : '[s0]'}`;
  const rungs = ladder.map(
    (r, i) =>
      `[s${i}]scale=${r.width}:${r.height}:force_original_aspect_ratio=decrease,` +
      `pad=${r.width}:${r.height}:(ow-iw)/2:(oh-ih)/2,setsar=1[v${i}]`,
  );
  return [head, ...rungs].join(';');
}

/** Quotes a value for a tee slave option list: the tee spec is unescaped twice (slave list, then options). */
function teeValue(v: string): string {
  return /[:,|\\'[\]]/.test(v) ? `\\'${v}\\'` : v;
}

function teeSlave(opts: Record<string, string>, target: string): string {
  const list = Object.entries(opts)
    .map(([k, v]) => `${k}=${teeValue(v)}`)
    .join(':');
  return `[${list}]${target}`;
}

/** The variant folders below web/ and tv/: one per rung. */
export function variantNames(plan: Pick<LiveOutputPlan, 'ladder'>): string[] {
  return plan.ladder.map((r) => r.name);
}

export function recordingPartName(run: number): string {
  return `part-${String(run).padStart(3, '0')}.ts`;
}

function hlsSlave(plan: LiveOutputPlan, select: string, type: 'fmp4' | 'mpegts', variantDir: string) {
  // omit_endlist: a restart for a new source must not tell players the lesson is over (LiveBridge.stop()
  // writes the ENDLIST itself)
  // TV keeps every segment of the lesson in its whole-lesson list: the gateway cuts the grade channel's
  // ticks from it (see @sky/contracts live-tv); the sfu publishes the sliding list players read
  const tv = type === 'mpegts';
  const flags = [
    ...(tv ? [] : ['delete_segments']),
    'program_date_time',
    'independent_segments',
    'append_list',
    'omit_endlist',
  ];
  if (plan.run > 0) flags.push('discont_start');
  const ext = type === 'fmp4' ? 'm4s' : 'ts';
  return teeSlave(
    {
      select,
      f: 'hls',
      hls_time: String(plan.segmentSec),
      hls_list_size: tv ? '0' : String(plan.listSize),
      // a late publish may show segments ffmpeg's list has dropped (webSource): their files stay a while
      ...(tv ? {} : { hls_delete_threshold: String(2 * plan.listSize) }),
      hls_flags: flags.join('+'),
      hls_segment_type: type,
      // an init segment per run: ffmpeg's own playlist gives every run the newest one (see live-playlist)
      ...(type === 'fmp4' ? { hls_fmp4_init_filename: initSegmentName(plan.runId) } : {}),
      hls_segment_filename: `${variantDir}/seg_${plan.runId}_%05d.${ext}`,
    },
    `${variantDir}/${tv ? LIVE_TV_LIST : FFMPEG_PLAYLIST}`,
  );
}

/**
 * The one live ffmpeg: RTP in (SDP), the ladder encoded once (LIVE_X264, a keyframe every
 * segment on every rung, AAC from Opus), and the tee muxer writing the same packets to fMP4 HLS for the web,
 * MPEG-TS HLS for set-top boxes and the recording part of this run (MPEG-TS of the top rung: it stays
 * readable when ffmpeg is killed, and carries the in-band SPS/PPS the tee leaves out of global headers).
 * The SDP's inputs are the relay's (bridgeInputs): always a video and an audio stream, whatever the
 * teacher shares. A source of another size mid-stream (camera ↔ screen) makes ffmpeg rebuild the graph;
 * every rung is letterboxed to its fixed size, so the encoders never notice.
 */
export function buildLiveArgs(sdpFile: string, plan: LiveOutputPlan): string[] {
  if (!plan.ladder[0]) throw new Error('buildLiveArgs needs at least one rung');
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    '-protocol_whitelist',
    'file,udp,rtp',
    '-fflags',
    '+genpts',
    // mediasoup forwards video from a key frame on (dimensions known at once); a short probe keeps the
    // playlists' PROGRAM-DATE-TIME (stamped when the muxer starts) close to the capture time
    '-analyzeduration',
    '1000000',
    '-reorder_queue_size',
    '64',
    // the relay never lets the input fall silent while the lesson runs; at the end, with the input cut, the
    // RTP read gives up after 2 s so that SIGINT ends ffmpeg cleanly (else it blocks until SIGKILL tears
    // the recording's last frame)
    '-listen_timeout',
    '2',
    '-i',
    sdpFile,
  ];
  const ladder = plan.ladder;
  args.push('-filter_complex', liveVideoGraph(ladder, '0:v'));
  ladder.forEach((_, i) => args.push('-map', `[v${i}]`));
  // audio that stops arriving for a while (RTP lost while ffmpeg was starved of CPU) is filled with silence
  // at its timestamps, so that the playlists and the recording never have a hole in the sound
  args.push('-map', '0:a:0', '-af', SOUND_ON_TIMESTAMPS);
  // a source of another size makes ffmpeg rebuild the graph, whose new fps filter does not fill the time
  // since the old one's last frame (the wait for the new source's key frame): the encoders' constant frame
  // rate does, with the last picture, so the output never has a hole
  args.push('-fps_mode', 'cfr');
  args.push(...LIVE_X264);
  ladder.forEach((r, i) => args.push(...rungRateArgs(r, `:v:${i}`)));
  args.push(...gopAndAudioArgs(plan.segmentSec));
  const selects = ladder.map((_, i) => `v:${i},a`);
  const names = variantNames(plan);
  const slaves: string[] = [];
  for (const [type, folder] of [
    ['fmp4', 'web'],
    ['mpegts', 'tv'],
  ] as const)
    selects.forEach((sel, i) => slaves.push(hlsSlave(plan, sel, type, `${plan.dir}/${folder}/${names[i]}`)));
  slaves.push(
    teeSlave({ select: selects[0]!, f: 'mpegts' }, `${plan.dir}/recording/${recordingPartName(plan.run)}`),
  );
  // a mic that sends nothing for a while must not hold the video back (and the reverse)
  args.push(
    '-max_muxing_queue_size',
    '1024',
    '-max_interleave_delta',
    '500000',
    '-f',
    'tee',
    slaves.join('|'),
  );
  return args;
}

/** A short ffmpeg run that only reports errors and writes over its output. */
const QUIET_OVERWRITE = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'] as const;

/** The relay's video filler: one black VP8 key frame (IVF on stdout), small to decode. */
export function buildStillFrameArgs(width = 640, height = 360): string[] {
  return [
    ...QUIET_OVERWRITE,
    '-f',
    'lavfi',
    '-i',
    `color=c=black:s=${width}x${height}:r=${LIVE_FPS}`,
    '-frames:v',
    '1',
    '-c:v',
    'libvpx',
    '-f',
    'ivf',
    'pipe:1',
  ];
}

export function buildSdp(inputs: RtpInput[], ip: string): string {
  const lines = ['v=0', `o=- 0 0 IN IP4 ${ip}`, 's=sky-live-bridge', `c=IN IP4 ${ip}`, 't=0 0'];
  for (const i of inputs) {
    const pt = i.payloadType;
    lines.push(`m=${i.kind} ${i.port} RTP/AVP ${pt}`, `a=rtcp:${i.port + 1}`);
    lines.push(`a=rtpmap:${pt} ${i.codecName}/${i.clockRate}${i.channels ? `/${i.channels}` : ''}`);
    const fmtp = Object.entries(i.parameters ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
    if (fmtp) lines.push(`a=fmtp:${pt} ${fmtp}`);
    lines.push('a=recvonly');
  }
  return lines.join('\n') + '\n';
}

/** A rung's rate control, profile and level, for the output stream `spec` (':v:0', or ':v' alone). */
function rungRateArgs(r: LiveRung, spec: string): string[] {
  return [
    `-b${spec}`,
    `${r.videoKbps}k`,
    `-maxrate${spec}`,
    `${Math.round(r.videoKbps * 1.1)}k`,
    `-bufsize${spec}`,
    `${r.videoKbps}k`,
    `-profile${spec}`,
    r.profile,
    `-level${spec}`,
    (r.level / 10).toFixed(1),
  ];
}

/** A key frame every segment on every rung, and the live AAC. */
function gopAndAudioArgs(segmentSec: number): string[] {
  const gop = String(LIVE_FPS * segmentSec);
  return [
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-force_key_frames',
    `expr:gte(t,n_forced*${segmentSec})`,
    '-c:a',
    'aac',
    '-b:a',
    `${LIVE_AUDIO.kbps}k`,
    '-ac',
    String(LIVE_AUDIO.channels),
    '-ar',
    String(LIVE_AUDIO.sampleRate),
  ];
}

/**
 * Black video and silence of `seconds`, encoded as the recording parts are (the top rung's size, x264
 * settings and key frames, the live AAC, MPEG-TS with video first): the concat list joins it between
 * parts with `-c copy` where no ffmpeg run recorded (a restart, a worker death).
 */
export function buildFillerArgs(
  seconds: number,
  rung: LiveRung,
  segmentSec: number,
  output: string,
): string[] {
  return [
    ...QUIET_OVERWRITE,
    '-f',
    'lavfi',
    '-i',
    `color=c=black:s=${rung.width}x${rung.height}:r=${LIVE_FPS}`,
    '-f',
    'lavfi',
    '-i',
    `anullsrc=channel_layout=stereo:sample_rate=${LIVE_AUDIO.sampleRate}`,
    '-t',
    seconds.toFixed(3),
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-vf',
    'format=yuv420p,setsar=1',
    ...LIVE_X264,
    ...rungRateArgs(rung, ':v'),
    ...gopAndAudioArgs(segmentSec),
    '-f',
    'mpegts',
    output,
  ];
}

/** One run's recording part as the replay places it. */
export interface RecordedPart {
  file: string;
  /** Wall clock (ms) when the run's media began to flow to ffmpeg. */
  startedAt: number;
  /** Seconds of media the part holds (up to its outpoint when its ffmpeg was killed). */
  durationSec: number;
  /** Where a killed run's part is cut (its last whole packet), in the file's own timestamps. */
  outpoint?: number | undefined;
}

export type RecordingEntry =
  { kind: 'part'; file: string; outpoint?: number | undefined } | { kind: 'gap'; seconds: number };

/** Shorter holes are left alone: less than two frames. */
export const RECORDING_GAP_MIN_SEC = 2 / LIVE_FPS;

/**
 * The replay's timeline: every part at its place on the lesson's wall clock, from `since` (the go-live;
 * the first part's start when not given) to `endAt` (the end), with a gap entry wherever no run recorded
 * (before the teacher's media first flowed, an ffmpeg restart, a worker death, nothing published), so
 * that the replay keeps the lesson's length and a question's live offset (seconds after go-live) finds
 * the same moment in it. A part longer than its wall-clock slot (an ffmpeg that ran behind and drained)
 * pushes the rest later instead of being cut.
 */
export function recordingTimeline(
  parts: readonly RecordedPart[],
  endAt: number,
  since?: number,
): RecordingEntry[] {
  const first = parts[0];
  if (!first) return [];
  const origin = Math.min(since ?? first.startedAt, first.startedAt);
  const out: RecordingEntry[] = [];
  let placed = 0;
  const fillTo = (at: number) => {
    const hole = (at - origin) / 1000 - placed;
    if (hole >= RECORDING_GAP_MIN_SEC) {
      out.push({ kind: 'gap', seconds: Number(hole.toFixed(3)) });
      placed += Number(hole.toFixed(3));
    }
  };
  for (const p of parts) {
    fillTo(p.startedAt);
    out.push({ kind: 'part', file: p.file, ...(p.outpoint !== undefined ? { outpoint: p.outpoint } : {}) });
    placed += p.durationSec;
  }
  fillTo(endAt);
  return out;
}

/** CODECS of a rung as HLS wants them (avc1.PPCCLL + AAC-LC). */
export function rungCodecs(r: LiveRung): string {
  const profile = r.profile === 'high' ? '6400' : '4d40';
  return `avc1.${profile}${r.level.toString(16).padStart(2, '0')},mp4a.40.2`;
}

/** The master playlist of web/ (fMP4, version 7) or tv/ (MPEG-TS, version 3): written once per lesson. */
export function buildLiveMaster(ladder: readonly LiveRung[], type: 'fmp4' | 'mpegts'): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${type === 'fmp4' ? 7 : 3}`];
  if (type === 'fmp4') lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const r of ladder)
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${Math.round((r.videoKbps + LIVE_AUDIO.kbps) * 1100)},` +
        `RESOLUTION=${r.width}x${r.height},FRAME-RATE=${LIVE_FPS.toFixed(3)},CODECS="${rungCodecs(r)}"`,
      `${r.name}/index.m3u8`,
    );
  return lines.join('\n') + '\n';
}

/**
 * The concat demuxer list joining the recording parts of every ffmpeg run. A part whose ffmpeg was killed
 * ends in a torn packet: `outpoint` (its last packet's time) leaves that packet out.
 */
export function buildConcatList(parts: { file: string; outpoint?: number | undefined }[]): string {
  return (
    parts
      .map(
        (p) =>
          `file '${p.file.replace(/'/g, "'\\''")}'` +
          (p.outpoint !== undefined ? `\noutpoint ${p.outpoint.toFixed(6)}` : ''),
      )
      .join('\n') + '\n'
  );
}

/**
 * Where a recording part is cut, in its own timestamps: at the end of its picture. A killed run's last
 * packet is torn, so it stops before it. A run stopped while behind real time (a starved machine) holds
 * its two streams to different points, the sound most often seconds short (its packets wait in ffmpeg's
 * socket while the video's overflow and are dropped): the join fills the sound's end with silence
 * (buildConcatArgs), and sound past the picture's end is left out, so the next part starts with both.
 */
export function partOutpoint(lastVideoSec: number | undefined, crashed: boolean): number | undefined {
  if (lastVideoSec === undefined) return undefined;
  return crashed ? lastVideoSec : lastVideoSec + 1 / LIVE_FPS;
}

/**
 * The recording joined: the video copied, the sound encoded again through aresample so that every hole
 * in it (a part's end the run never recorded) is silence at its time, never a jump; and padded with
 * silence to the picture's end (a stopped run's last ~0.1 s of sound is still in its encoder), where the
 * file ends.
 */
export function buildConcatArgs(listFile: string, output: string): string[] {
  return [
    ...QUIET_OVERWRITE,
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listFile,
    '-map',
    '0:v:0',
    '-map',
    '0:a:0',
    '-c:v',
    'copy',
    '-af',
    `${SOUND_ON_TIMESTAMPS},apad`,
    // ends where the picture ends: -shortest alone lets the muxer's queue run the sound ~0.1 s past it
    '-shortest',
    '-fflags',
    '+shortest',
    '-max_interleave_delta',
    '100M',
    '-c:a',
    'aac',
    '-b:a',
    `${LIVE_AUDIO.kbps}k`,
    '-ac',
    String(LIVE_AUDIO.channels),
    '-ar',
    String(LIVE_AUDIO.sampleRate),
    '-movflags',
    '+faststart',
    output,
  ];
}
