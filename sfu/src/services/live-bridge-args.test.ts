import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildConcatArgs,
  buildConcatList,
  partOutpoint,
  buildFillerArgs,
  buildLiveArgs,
  buildLiveMaster,
  buildSdp,
  buildStillFrameArgs,
  bridgeInputs,
  LIVE_LADDER,
  liveVideoGraph,
  recordingPartName,
  recordingTimeline,
  rungCodecs,
} from './live-bridge-args.js';

const plan = {
  dir: '/m/live/L1',
  segmentSec: 1,
  listSize: 8,
  run: 0,
  runId: 1764800000000,
  ladder: LIVE_LADDER,
};
const hls = (folder: string, rung: string, type: 'fmp4' | 'mpegts', run = 1764800000000, flags = '') =>
  `[select=\\'v:${rung === '720p' ? 0 : 1},a\\':f=hls:hls_time=1:` +
  // TV keeps the whole lesson (the gateway cuts channel ticks from it); the web slides and deletes
  (type === 'mpegts' ? 'hls_list_size=0:' : 'hls_list_size=8:hls_delete_threshold=16:') +
  `hls_flags=${type === 'mpegts' ? '' : 'delete_segments+'}program_date_time+independent_segments+append_list+omit_endlist${flags}:hls_segment_type=${type}:` +
  (type === 'fmp4' ? `hls_fmp4_init_filename=init_${run}.mp4:` : '') +
  `hls_segment_filename=/m/live/L1/${folder}/${rung}/seg_${run}_%05d.${type === 'fmp4' ? 'm4s' : 'ts'}]` +
  // ffmpeg's own playlists are not what players read: the sfu publishes a viewer playlist beside each
  `/m/live/L1/${folder}/${rung}/${type === 'fmp4' ? '.ffmpeg.m3u8' : 'lesson.m3u8'}`;

/** The live ladder's x264 (the fillers' too, so that the join copies both): frame threads, superfast. */
const X264 = [
  '-c:v',
  'libx264',
  '-preset',
  'superfast',
  '-tune',
  'zerolatency',
  '-x264-params',
  'sliced-threads=0',
];

test('the SDP tells ffmpeg where mediasoup sends each stream (RTCP on port + 1), with the codec parameters', () => {
  assert.equal(
    buildSdp(
      [
        { kind: 'video', port: 20000, payloadType: 101, codecName: 'VP8', clockRate: 90000 },
        {
          kind: 'audio',
          port: 20002,
          payloadType: 100,
          codecName: 'opus',
          clockRate: 48000,
          channels: 2,
          parameters: { minptime: 10, useinbandfec: 1 },
        },
      ],
      '127.0.0.1',
    ),
    [
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=sky-live-bridge',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=video 20000 RTP/AVP 101',
      'a=rtcp:20001',
      'a=rtpmap:101 VP8/90000',
      'a=recvonly',
      'm=audio 20002 RTP/AVP 100',
      'a=rtcp:20003',
      'a=rtpmap:100 opus/48000/2',
      'a=fmtp:100 minptime=10;useinbandfec=1',
      'a=recvonly',
      '',
    ].join('\n'),
  );
});

test('one ffmpeg: decode once, encode the ladder once, tee to web fMP4 HLS, TV MPEG-TS HLS and the recording', () => {
  assert.deepEqual(buildLiveArgs('/m/live/L1/input.sdp', plan), [
    ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp'],
    ...['-fflags', '+genpts', '-analyzeduration', '1000000', '-reorder_queue_size', '64'],
    ...['-listen_timeout', '2', '-i', '/m/live/L1/input.sdp'],
    '-filter_complex',
    '[0:v]fps=25,format=yuv420p,split=2[s0][s1];' +
      '[s0]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1[v0];' +
      '[s1]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1[v1]',
    ...['-map', '[v0]', '-map', '[v1]', '-map', '0:a:0', '-af', 'aresample=async=1:min_hard_comp=0.02'],
    ...['-fps_mode', 'cfr'],
    ...X264,
    ...[
      '-b:v:0',
      '1800k',
      '-maxrate:v:0',
      '1980k',
      '-bufsize:v:0',
      '1800k',
      '-profile:v:0',
      'high',
      '-level:v:0',
      '3.1',
    ],
    ...[
      '-b:v:1',
      '600k',
      '-maxrate:v:1',
      '660k',
      '-bufsize:v:1',
      '600k',
      '-profile:v:1',
      'main',
      '-level:v:1',
      '3.0',
    ],
    ...['-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*1)'],
    ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-ar', '48000'],
    ...['-max_muxing_queue_size', '1024', '-max_interleave_delta', '500000', '-f', 'tee'],
    [
      hls('web', '720p', 'fmp4'),
      hls('web', '360p', 'fmp4'),
      hls('tv', '720p', 'mpegts'),
      hls('tv', '360p', 'mpegts'),
      "[select=\\'v:0,a\\':f=mpegts]/m/live/L1/recording/part-000.ts",
    ].join('|'),
  ]);
});

test('a restarted ffmpeg appends after a discontinuity, with its own segment names and recording part', () => {
  const args = buildLiveArgs('/m/live/L1/input.sdp', {
    ...plan,
    run: 2,
    runId: 1764800000002,
    segmentSec: 2,
  });
  const tee = args.at(-1)!;
  assert.ok(tee.includes('hls_time=2:'));
  assert.ok(tee.includes('+append_list+omit_endlist+discont_start:'));
  assert.ok(tee.includes('/m/live/L1/tv/360p/seg_1764800000002_%05d.ts]'));
  assert.ok(tee.includes('hls_fmp4_init_filename=init_1764800000002.mp4:'));
  assert.ok(tee.endsWith('/m/live/L1/recording/part-002.ts'));
  assert.equal(args[args.indexOf('-g') + 1], '50', 'a keyframe starts every 2 s segment');
  assert.equal(args[args.indexOf('-force_key_frames') + 1], 'expr:gte(t,n_forced*2)');
  assert.equal(recordingPartName(12), 'part-012.ts');
});

test('the relay is the only input: VP8 and Opus on fixed payload types, whatever the teacher shares', () => {
  assert.deepEqual(bridgeInputs({ video: 20000, audio: 20002 }), [
    { kind: 'video', port: 20000, codecName: 'VP8', payloadType: 96, clockRate: 90000 },
    { kind: 'audio', port: 20002, codecName: 'opus', payloadType: 111, clockRate: 48000, channels: 2 },
  ]);
  const args = buildLiveArgs('/in.sdp', plan);
  assert.equal(args.filter((a) => a === '-i').length, 1, 'no filler input: the relay fills');
  assert.throws(() => buildLiveArgs('/in.sdp', { ...plan, ladder: [] }), /at least one rung/);
});

test('the relay video filler: one black VP8 key frame as IVF on stdout', () => {
  assert.deepEqual(buildStillFrameArgs(), [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'color=c=black:s=640x360:r=25'],
    ...['-frames:v', '1', '-c:v', 'libvpx', '-f', 'ivf', 'pipe:1'],
  ]);
});

test('a single-rung ladder needs no split', () => {
  assert.equal(
    liveVideoGraph([LIVE_LADDER[1]!]),
    '[0:v]fps=25,format=yuv420p[s0];[s0]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1[v0]',
  );
});

test('masters: every rung with bandwidth, resolution and codecs; fMP4 v7 for the web, v3 for set-top boxes', () => {
  assert.equal(rungCodecs(LIVE_LADDER[0]!), 'avc1.64001f,mp4a.40.2');
  assert.equal(
    buildLiveMaster(LIVE_LADDER, 'fmp4'),
    [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=2085600,RESOLUTION=1280x720,FRAME-RATE=25.000,CODECS="avc1.64001f,mp4a.40.2"',
      '720p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=765600,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS="avc1.4d401e,mp4a.40.2"',
      '360p/index.m3u8',
      '',
    ].join('\n'),
  );
  assert.match(buildLiveMaster(LIVE_LADDER, 'mpegts'), /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF/);
});

test('recording parts join with concat at their picture’s end; the sound is filled where a part fell short', () => {
  assert.equal(
    buildConcatList([{ file: "/m/it's/part-000.ts", outpoint: 12.5 }, { file: '/m/part-001.ts' }]),
    "file '/m/it'\\''s/part-000.ts'\noutpoint 12.500000\nfile '/m/part-001.ts'\n",
  );
  // a crashed part stops at its last whole packet (the last one is torn); a stopped one after its last frame
  assert.equal(partOutpoint(12.5, true), 12.5);
  assert.equal(partOutpoint(12.5, false), 12.54);
  assert.equal(partOutpoint(undefined, false), undefined);
  assert.deepEqual(buildConcatArgs('/m/parts.txt', '/m/recording.mp4'), [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0'],
    ...['-i', '/m/parts.txt', '-map', '0:v:0', '-map', '0:a:0', '-c:v', 'copy'],
    ...[
      '-af',
      'aresample=async=1:min_hard_comp=0.02,apad',
      '-shortest',
      '-fflags',
      '+shortest',
      '-max_interleave_delta',
      '100M',
    ],
    ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-ar', '48000'],
    ...['-movflags', '+faststart', '/m/recording.mp4'],
  ]);
});

test('a filler is black video and silence encoded as the recording parts are, so concat copies it in', () => {
  assert.deepEqual(buildFillerArgs(2.5, LIVE_LADDER[0]!, 1, '/m/live/L1/recording/filler-000.ts'), [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'color=c=black:s=1280x720:r=25'],
    ...['-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000'],
    ...['-t', '2.500', '-map', '0:v', '-map', '1:a', '-vf', 'format=yuv420p,setsar=1'],
    ...X264,
    ...[
      '-b:v',
      '1800k',
      '-maxrate:v',
      '1980k',
      '-bufsize:v',
      '1800k',
      '-profile:v',
      'high',
      '-level:v',
      '3.1',
    ],
    ...['-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*1)'],
    ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-ar', '48000'],
    ...['-f', 'mpegts', '/m/live/L1/recording/filler-000.ts'],
  ]);
  // the live encoder's top rung has the very same settings
  const live = buildLiveArgs('/m/in.sdp', plan).join(' ');
  assert.match(
    live,
    / -b:v:0 1800k -maxrate:v:0 1980k -bufsize:v:0 1800k -profile:v:0 high -level:v:0 3\.1 /,
  );
});

test('the replay keeps the lesson’s clock: holes between runs and at the end are filled, a late part pushes on', () => {
  const t0 = 1_000_000;
  assert.deepEqual(recordingTimeline([], t0), []);
  // 10 s recorded, a 2.5 s restart, 20 s recorded (cut at its last packet: killed), a 4 s worker death,
  // 5 s recorded, then the teacher published nothing for 3 s before ending
  assert.deepEqual(
    recordingTimeline(
      [
        { file: 'a', startedAt: t0, durationSec: 10 },
        { file: 'b', startedAt: t0 + 12_500, durationSec: 20, outpoint: 21.4 },
        { file: 'c', startedAt: t0 + 36_500, durationSec: 5 },
      ],
      t0 + 44_500,
    ),
    [
      { kind: 'part', file: 'a' },
      { kind: 'gap', seconds: 2.5 },
      { kind: 'part', file: 'b', outpoint: 21.4 },
      { kind: 'gap', seconds: 4 },
      { kind: 'part', file: 'c' },
      { kind: 'gap', seconds: 3 },
    ],
  );
  // from the go-live: the seconds before the teacher's media first flowed are filled too (a question asked
  // 30 s after go-live is 30 s into the replay); a `since` after the first part changes nothing
  assert.deepEqual(
    recordingTimeline([{ file: 'a', startedAt: t0, durationSec: 10 }], t0 + 10_000, t0 - 4_000),
    [
      { kind: 'gap', seconds: 4 },
      { kind: 'part', file: 'a' },
    ],
  );
  assert.deepEqual(recordingTimeline([{ file: 'a', startedAt: t0, durationSec: 10 }], t0 + 10_000, t0 + 1), [
    { kind: 'part', file: 'a' },
  ]);
  // less than two frames is left alone; a part longer than its slot (an ffmpeg that ran behind) is kept
  // whole and the next one follows it
  assert.deepEqual(
    recordingTimeline(
      [
        { file: 'a', startedAt: t0, durationSec: 10.97 },
        { file: 'b', startedAt: t0 + 11_000, durationSec: 6 },
        { file: 'c', startedAt: t0 + 16_000, durationSec: 1 },
      ],
      t0 + 18_000,
    ),
    [
      { kind: 'part', file: 'a' },
      { kind: 'part', file: 'b' },
      { kind: 'part', file: 'c' },
    ],
  );
});
