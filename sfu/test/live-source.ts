// A stand-in teacher for the live bridge tests and bench (Node has no WebRTC): a test pattern (VP8,
// optionally with the wall clock burned in) and a sine (Opus) sent by ffmpeg as RTP into PlainTransport
// producers, exactly what a browser's camera and microphone become inside mediasoup.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as mediasoup from 'mediasoup';

export const LIVE_TEST_CODECS: mediasoup.types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

/** The wall clock burned into each frame: 24 white/black boxes, bit i of (epoch ms mod 2^24), in a strip. */
export const CLOCK_BITS = 24;
export const clockBox = (height: number, bit: number) => ({
  x: 8 + bit * 24,
  y: height - 36,
  size: 20,
});

/**
 * Frames are stamped with the wall clock when they leave the test pattern (RTCTIME, with -re that is the
 * capture instant), then retimed to a steady 25 fps for the encoder.
 */
export function clockFilter(height: number): string {
  const boxes = Array.from({ length: CLOCK_BITS }, (_, i) => {
    const b = clockBox(height, i);
    return `drawbox=x=${b.x}:y=${b.y}:w=${b.size}:h=${b.size}:color=white:t=fill:enable='eq(mod(floor(t*1000/${2 ** i}),2),1)'`;
  });
  return [
    'settb=1/1000',
    'setpts=RTCTIME/1000',
    `drawbox=x=0:y=${height - 40}:w=iw:h=28:color=black:t=fill`,
    ...boxes,
    'setpts=N*40',
  ].join(',');
}

/**
 * The A/V sync pattern (`sync`): a white picture and a loud tone together for the first SYNC_FLASH_SEC of
 * every SYNC_PERIOD_SEC of media time, the tone 20 dB quieter (still sound, not silence) otherwise; see
 * hls-probe's avSync.
 */
export const SYNC_PERIOD_SEC = 2;
export const SYNC_FLASH_SEC = 0.2;
const SYNC_ON = `lt(mod(t,${SYNC_PERIOD_SEC}),${SYNC_FLASH_SEC})`;

/** A camera's encoder: VP8 in real time, a key frame every second (ffmpeg cannot answer key frame requests). */
const VP8_ARGS = [
  '-c:v',
  'libvpx',
  '-deadline',
  'realtime',
  '-cpu-used',
  '8',
  // no look-ahead: a camera encoder sends each frame as soon as it is captured
  '-lag-in-frames',
  '0',
  '-auto-alt-ref',
  '0',
  '-b:v',
  '600k',
  '-g',
  '25',
  '-keyint_min',
  '25',
];
const OPUS_ARGS = ['-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k'];

/** The clip a stand-in teacher loops: whole sync periods, whole video frames and whole 20 ms Opus frames. */
const CLIP_SEC = 10;
const clips = new Map<string, Promise<string>>();

/** The encoded clip (WebM: VP8 and/or Opus) for these options, made once per machine and kept in tmp. */
export function clip(o: { size: string; video: boolean; audio: boolean; sync: boolean }): Promise<string> {
  const name = `sky-teacher-${o.size}-${o.video ? 'v' : ''}${o.audio ? 'a' : ''}${o.sync ? '-sync' : ''}-${CLIP_SEC}s.webm`;
  const dir = join(tmpdir(), 'sky-test-clips');
  const file = join(dir, name);
  let made = clips.get(file);
  if (!made) {
    made = (async () => {
      if (existsSync(file)) return file;
      mkdirSync(dir, { recursive: true });
      const part = `${file}.${process.pid}.part.webm`;
      const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
      if (o.video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${o.size}:rate=25:duration=${CLIP_SEC}`);
      if (o.audio)
        args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${CLIP_SEC}`);
      if (o.video) {
        args.push('-map', '0:v');
        if (o.sync) args.push('-vf', `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='${SYNC_ON}'`);
        args.push(...VP8_ARGS);
      }
      if (o.audio) {
        args.push('-map', `${o.video ? 1 : 0}:a`);
        if (o.sync) args.push('-af', `volume=eval=frame:volume='if(${SYNC_ON},1,0.1)'`);
        args.push(...OPUS_ARGS);
      }
      await promisify(execFile)('ffmpeg', [...args, part]);
      renameSync(part, file); // whole or not at all, for every test process of this machine
      return file;
    })();
    clips.set(file, made);
  }
  return made;
}

export interface FakeTeacher {
  video?: mediasoup.types.Producer;
  audio?: mediasoup.types.Producer;
  ffmpeg: ChildProcess;
  stop(): Promise<void>;
}

const VIDEO_SSRC = 22_222_222;
const AUDIO_SSRC = 11_111_111;

/**
 * `clock`: burn the wall clock (ms) into the picture, for glass-to-glass latency measurements; `sync`: the
 * A/V sync pattern; otherwise a moving test pattern and a steady tone.
 */
export async function startFakeTeacher(
  router: mediasoup.types.Router,
  opts: { video?: boolean; audio?: boolean; clock?: boolean; sync?: boolean; size?: string } = {},
): Promise<FakeTeacher> {
  const wantVideo = opts.video ?? true;
  const wantAudio = opts.audio ?? true;
  const transport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: false,
    comedia: true,
  });
  const audioTransport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: false,
    comedia: true,
  });
  const video = wantVideo
    ? await transport.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 102, clockRate: 90000 }],
          encodings: [{ ssrc: VIDEO_SSRC }],
        },
      })
    : undefined;
  const audio = wantAudio
    ? await audioTransport.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 101, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: AUDIO_SSRC }],
        },
      })
    : undefined;

  const size = opts.size ?? '640x360';
  // No RTCP: ffmpeg stamps a sender report's RTP time from its own send clock (the time since its first
  // report), not from when the media was captured as a browser does, and the bridge relay places audio and
  // video by the publisher's reports (services/capture-sync.ts). The only publisher in production is the
  // web client; a starved stand-in's reports put its sound 270 ms off its picture in the recording.
  const RTP_OUT = ['-f', 'rtp', '-rtpflags', 'skip_rtcp'];
  const videoUrl = `rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple!.localPort}&pkt_size=1200`;
  const audioUrl = `rtp://127.0.0.1:${audioTransport.tuple.localPort}?rtcpport=${audioTransport.rtcpTuple!.localPort}&pkt_size=1200`;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (opts.clock) {
    // the wall clock is drawn live: the encoder runs here, as a teacher's browser would
    if (wantVideo) args.push('-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`);
    if (wantAudio) args.push('-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
    if (wantVideo) {
      args.push('-map', '0:v', '-vf', clockFilter(Number(size.split('x')[1])), ...VP8_ARGS);
      args.push(...RTP_OUT, '-ssrc', String(VIDEO_SSRC), '-payload_type', '102', videoUrl);
    }
    if (wantAudio) {
      args.push('-map', `${wantVideo ? 1 : 0}:a`, ...OPUS_ARGS);
      args.push(...RTP_OUT, '-ssrc', String(AUDIO_SSRC), '-payload_type', '101', audioUrl);
    }
  } else {
    // A teacher's browser encodes on the teacher's computer, not on the server under test: the clip is
    // encoded once and sent as it is (-c copy), so a busy test machine cannot starve the teacher's encoder
    // (a starved one sent 4–12 audio packets a second instead of 50, and the recording rightly had holes).
    const file = await clip({ size, video: wantVideo, audio: wantAudio, sync: opts.sync ?? false });
    args.push('-re', '-stream_loop', '-1', '-i', file);
    if (wantVideo)
      args.push(
        '-map',
        '0:v',
        '-c:v',
        'copy',
        ...RTP_OUT,
        '-ssrc',
        String(VIDEO_SSRC),
        '-payload_type',
        '102',
        videoUrl,
      );
    if (wantAudio)
      args.push(
        '-map',
        '0:a',
        '-c:a',
        'copy',
        ...RTP_OUT,
        '-ssrc',
        String(AUDIO_SSRC),
        '-payload_type',
        '101',
        audioUrl,
      );
  }
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
  return {
    ...(video ? { video } : {}),
    ...(audio ? { audio } : {}),
    ffmpeg,
    async stop() {
      if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
      await exited;
      transport.close();
      audioTransport.close();
    },
  };
}
