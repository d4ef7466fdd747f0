import assert from 'node:assert/strict';
import { test } from 'node:test';
import { avcCodec, parseAvc, parseMasterPlaylist, parseMediaPlaylist, strictestCodecs } from './hls.js';

test('avc1 codec strings from profile and level, and back', () => {
  assert.equal(avcCodec('High', 40), 'avc1.640028');
  assert.equal(avcCodec('Main', 31), 'avc1.4d401f');
  assert.equal(avcCodec('Constrained Baseline', 30), 'avc1.42e01e');
  assert.deepEqual(parseAvc('avc1.64001F'), { profileIdc: 0x64, constraints: 0, level: 31 });
  assert.equal(parseAvc('mp4a.40.2'), undefined);
});

test('the strictest codecs: the highest profile and the highest level of all, other codecs once', () => {
  // a Main 3.1 slate between High 4.0 lessons: a player must decode High 4.0
  assert.deepEqual(
    strictestCodecs([
      ['avc1.4d401f', 'mp4a.40.2'],
      ['avc1.640028', 'mp4a.40.2'],
    ]),
    ['avc1.640028', 'mp4a.40.2'],
  );
  // High 3.1 and Main 4.0: High at level 4.0
  assert.deepEqual(strictestCodecs([['avc1.64001f'], ['avc1.4d4028']]), ['avc1.640028']);
  assert.deepEqual(strictestCodecs([['avc1.42e01e'], ['avc1.4d401e']]), ['avc1.4d401e']);
  assert.deepEqual(strictestCodecs([]), []);
});

test('master playlists give every variant’s bandwidth, codecs and size; media playlists their segments', () => {
  const master = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-STREAM-INF:BANDWIDTH=3104000,AVERAGE-BANDWIDTH=2610000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000',
    '720p/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"',
    'audio/index.m3u8',
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.640028",URI="720p/iframes.m3u8"',
    '',
  ].join('\r\n');
  assert.deepEqual(parseMasterPlaylist(master), [
    {
      uri: '720p/index.m3u8',
      bandwidth: 3_104_000,
      averageBandwidth: 2_610_000,
      codecs: ['avc1.640028', 'mp4a.40.2'],
      width: 1280,
      height: 720,
    },
    { uri: 'audio/index.m3u8', bandwidth: 70_000, codecs: ['mp4a.40.2'] },
  ]);
  assert.deepEqual(
    parseMediaPlaylist(
      '#EXTM3U\n#EXTINF:6.000000,\nseg_00000.ts\n#EXTINF:1.98,\nseg_00001.ts\n#EXT-X-ENDLIST\n',
    ),
    [
      { uri: 'seg_00000.ts', durationSec: 6 },
      { uri: 'seg_00001.ts', durationSec: 1.98 },
    ],
  );
});
