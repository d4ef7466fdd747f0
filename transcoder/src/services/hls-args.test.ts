import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEncodeArgs, buildPackageArgs, planStoryboard, storyboardVtt } from './hls-args.js';
import { chooseLadder, type Probe } from './ladder.js';

const p1080: Probe = {
  durationSec: 60,
  video: { width: 1920, height: 1080, fps: 29.97 },
  audio: { channels: 2, sampleRate: 44100 },
};
const at = (o: string[], flag: string) => o[o.indexOf(flag) + 1];

test('the ladder never upscales and keeps a small source at its own size', () => {
  assert.deepEqual(
    chooseLadder(p1080).map((r) => r.name),
    ['1080p', '720p', '540p', '360p', '234p'],
  );
  assert.deepEqual(
    chooseLadder({ ...p1080, video: { width: 1280, height: 720, fps: 25 } }).map((r) => r.height),
    [720, 540, 360, 234],
  );
  assert.deepEqual(
    chooseLadder({ ...p1080, video: { width: 320, height: 181, fps: 30 } }).map((r) => r.height),
    [180],
  );
  assert.deepEqual(chooseLadder({ durationSec: 3, audio: { channels: 1, sampleRate: 44100 } }), []);
});

test('one encode: decode once, cascade each rung from the next larger, closed 2 s GOPs aligned across rungs', () => {
  const spec = buildEncodeArgs('/in.mp4', '/tmp/enc.mkv', p1080, chooseLadder(p1080), 'veryfast');
  assert.equal(spec.outputs.length, 1);
  const o = spec.outputs[0]!.options;
  assert.equal(
    at(o, '-filter_complex'),
    '[0:v]fps=30,scale=-2:1080:flags=bicubic,format=yuv420p,split=2[v0][c0];' +
      '[c0]scale=-2:720:flags=bicubic,split=2[v1][c1];[c1]scale=-2:540:flags=bicubic,split=2[v2][c2];' +
      '[c2]scale=-2:360:flags=bicubic,split=2[v3][c3];[c3]scale=-2:234:flags=bicubic[v4]',
  );
  assert.equal(at(o, '-g'), '60');
  assert.equal(at(o, '-keyint_min'), '60');
  assert.equal(at(o, '-sc_threshold'), '0');
  assert.equal(at(o, '-flags'), '+cgop');
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => [at(o, `-b:v:${i}`), at(o, `-profile:v:${i}`), at(o, `-level:v:${i}`)]),
    [
      ['4500k', 'high', '4.0'],
      ['2500k', 'high', '4.0'],
      ['1200k', 'main', '3.1'],
      ['600k', 'main', '3.0'],
      ['200k', 'main', '2.1'],
    ],
  );
  assert.equal(at(o, '-b:a:0'), '128k');
  assert.equal(at(o, '-b:a:1'), '64k');
  assert.equal(at(o, '-ar'), '48000');
  assert.equal(at(o, '-ac'), '2');
  assert.equal(o.filter((x) => x === '-map').length, 7);
  assert.equal(spec.outputs[0]!.target, '/tmp/enc.mkv');
});

test('two packagings by stream copy: fMP4 of every rung + audio-only, MPEG-TS of the rungs ≤ 720p', () => {
  const spec = buildPackageArgs('/tmp/enc.mkv', '/out', chooseLadder(p1080), true);
  const [web, tv] = spec.outputs;
  assert.ok(web && tv);
  assert.equal(at(web.options, '-c'), 'copy');
  assert.equal(at(web.options, '-hls_segment_type'), 'fmp4');
  assert.equal(at(web.options, '-hls_time'), '4');
  assert.equal(
    at(web.options, '-var_stream_map'),
    'v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:540p v:3,a:3,name:360p v:4,a:4,name:234p a:5,name:audio',
  );
  assert.equal(web.target, '/out/web/%v/index.m3u8');
  assert.equal(at(tv.options, '-c'), 'copy');
  assert.equal(at(tv.options, '-hls_segment_type'), 'mpegts');
  assert.equal(at(tv.options, '-hls_time'), '6');
  assert.equal(
    at(tv.options, '-var_stream_map'),
    'v:0,a:0,name:720p v:1,a:1,name:540p v:2,a:2,name:360p v:3,a:3,name:234p',
  );
  // the TV outputs take the intermediate's streams 1..4 (720p and below), never 1080p
  assert.deepEqual(
    tv.options.filter((x, i) => tv.options[i - 1] === '-map' && x.startsWith('0:v:')),
    ['0:v:1', '0:v:2', '0:v:3', '0:v:4'],
  );
});

test('a silent source maps no audio and has no audio-only rung', () => {
  const silent: Probe = { durationSec: 5, video: { width: 640, height: 360, fps: 30 } };
  const enc = buildEncodeArgs('/in.mp4', '/e.mkv', silent, chooseLadder(silent), 'veryfast').outputs[0]!
    .options;
  assert.ok(!enc.includes('0:a:0'));
  const web = buildPackageArgs('/e.mkv', '/o', chooseLadder(silent), false).outputs[0]!.options;
  assert.equal(at(web, '-var_stream_map'), 'v:0,name:360p v:1,name:234p');
});

test('storyboard: ≤ 100 thumbnails in a 10-column sprite, and WebVTT cues into it', () => {
  const sb = planStoryboard(p1080);
  assert.deepEqual(sb, { intervalSec: 2, width: 160, height: 90, columns: 10, rows: 3, count: 30 });
  const vtt = storyboardVtt(sb, 60).split('\n');
  assert.equal(vtt[0], 'WEBVTT');
  assert.equal(vtt[2], '00:00:00.000 --> 00:00:02.000');
  assert.equal(vtt[3], 'storyboard.jpg#xywh=0,0,160,90');
  assert.ok(vtt.includes('storyboard.jpg#xywh=160,180,160,90'));
  assert.equal(planStoryboard({ ...p1080, durationSec: 2700 }).count, 100);
});
