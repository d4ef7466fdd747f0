import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHlsArgs } from './hls-args.js';
import { chooseLadder, type Probe } from './ladder.js';

const p720: Probe = {
  durationSec: 12,
  video: { width: 1280, height: 720, fps: 25 },
  audio: { channels: 2, sampleRate: 48000 },
};

test('the ladder never upscales and keeps a small source at its own size', () => {
  assert.deepEqual(
    chooseLadder(p720).map((r) => r.name),
    ['720p', '360p'],
  );
  assert.deepEqual(
    chooseLadder({ ...p720, video: { width: 640, height: 480, fps: 30 } }).map((r) => r.height),
    [360],
  );
  assert.deepEqual(
    chooseLadder({ ...p720, video: { width: 320, height: 241, fps: 30 } }).map((r) => r.height),
    [240],
  );
  assert.deepEqual(chooseLadder({ durationSec: 3, audio: { channels: 1, sampleRate: 44100 } }), []);
});

test('one ffmpeg: split/scale to every rung, aligned closed 2 s GOPs, one master playlist', () => {
  const cmd = buildHlsArgs('/in.mp4', '/out', p720, chooseLadder(p720), 'veryfast');
  const o = cmd.outputOptions;
  const at = (flag: string) => o[o.indexOf(flag) + 1];
  assert.equal(at('-filter_complex'), '[0:v]split=2[s0][s1];[s0]scale=-2:720[v0];[s1]scale=-2:360[v1]');
  assert.equal(at('-g'), '50');
  assert.equal(at('-keyint_min'), '50');
  assert.equal(at('-sc_threshold'), '0');
  assert.equal(at('-b:v:0'), '2500k');
  assert.equal(at('-b:v:1'), '600k');
  assert.equal(at('-var_stream_map'), 'v:0,a:0,name:720p v:1,a:1,name:360p');
  assert.equal(at('-master_pl_name'), 'master.m3u8');
  assert.equal(cmd.output, '/out/%v/index.m3u8');
  assert.equal(o.filter((x) => x === '-map').length, 4);
});

test('a silent source maps no audio', () => {
  const silent: Probe = { durationSec: 5, video: { width: 640, height: 360, fps: 30 } };
  const o = buildHlsArgs('/in.mp4', '/out', silent, chooseLadder(silent), 'veryfast').outputOptions;
  assert.ok(!o.includes('0:a:0'));
  assert.equal(o[o.indexOf('-var_stream_map') + 1], 'v:0,name:360p');
});
