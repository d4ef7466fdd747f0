import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIFramePlaylist, buildMasterPlaylist } from './master.js';

test('a master lists each variant with every attribute, audio-only last, I-frame playlists after', () => {
  const text = buildMasterPlaylist({
    version: 3,
    variants: [
      {
        uri: '720p/index.m3u8',
        bandwidth: 2_790_000.4,
        averageBandwidth: 2_610_000,
        codecs: ['avc1.640028', 'mp4a.40.2'],
        resolution: { width: 1280, height: 720 },
        frameRate: 30,
      },
      { uri: 'audio/index.m3u8', bandwidth: 70_000, averageBandwidth: 66_000, codecs: ['mp4a.40.2'] },
    ],
    iframes: [
      {
        uri: '720p/iframes.m3u8',
        bandwidth: 400_000,
        codecs: ['avc1.640028'],
        resolution: { width: 1280, height: 720 },
      },
    ],
  });
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=2790001,AVERAGE-BANDWIDTH=2610000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000',
      '720p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=70000,AVERAGE-BANDWIDTH=66000,CODECS="mp4a.40.2"',
      'audio/index.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.640028",RESOLUTION=1280x720,URI="720p/iframes.m3u8"',
      '',
    ].join('\n'),
  );
});

test('I-frame playlists use byte ranges', () => {
  const ip = buildIFramePlaylist([
    { segment: 'seg_00000.ts', offset: 564, length: 40_000, durationSec: 2 },
    { segment: 'seg_00000.ts', offset: 300_000, length: 38_000, durationSec: 2 },
  ]);
  assert.match(
    ip,
    /#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n/,
  );
  assert.match(ip, /#EXTINF:2.000,\n#EXT-X-BYTERANGE:40000@564\nseg_00000.ts\n/);
  assert.ok(ip.endsWith('#EXT-X-ENDLIST\n'));
});
