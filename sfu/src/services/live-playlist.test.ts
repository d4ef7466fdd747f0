import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLiveTvList } from '@sky/contracts';
import { runOfSegment, slidingTvPlaylist, viewerPlaylist } from './live-playlist.js';
import { tvSource, webSource } from './playlist-publisher.js';

/** What ffmpeg 5.1 writes after its second run appended to the first (seen on this machine). */
const FFMPEG_AFTER_RESTART = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-DISCONTINUITY
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_1.mp4"
#EXT-X-DISCONTINUITY
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:07.419+0000
seg_0_00002.m4s
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:08.419+0000
seg_0_00003.m4s
#EXT-X-DISCONTINUITY
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:09.634+0000
seg_1_00004.m4s
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:10.634+0000
seg_1_00005.m4s
`;

test('every run gets its own init segment after its discontinuity; the header holds no stray tags', () => {
  assert.equal(
    viewerPlaylist(FFMPEG_AFTER_RESTART, new Set([0, 1])),
    `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:07.419+0000
seg_0_00002.m4s
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:08.419+0000
seg_0_00003.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init_1.mp4"
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:09.634+0000
seg_1_00004.m4s
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T02:01:10.634+0000
seg_1_00005.m4s
`,
  );
});

test('once the older runs slid out, the discontinuity sequence counts them (a run without segments does not count)', () => {
  const later = FFMPEG_AFTER_RESTART.replace(/#EXTINF[^\n]*\n[^\n]*\nseg_0_\d+\.m4s\n/g, '')
    .replace('MEDIA-SEQUENCE:2', 'MEDIA-SEQUENCE:4')
    .replaceAll('seg_1_', 'seg_3_');
  const text = viewerPlaylist(later, new Set([0, 1, 3]));
  assert.match(text, /#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n/);
  assert.match(text, /#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI="init_3.mp4"\n#EXTINF/);
  assert.doesNotMatch(text, /#EXT-X-DISCONTINUITY\n/, 'no discontinuity before the first segment');
  assert.equal(text.match(/#EXT-X-MAP/g)?.length, 1);
});

test('the end of the lesson stays the last line; an empty playlist stays valid', () => {
  assert.match(
    viewerPlaylist(`${FFMPEG_AFTER_RESTART}#EXT-X-ENDLIST\n`, new Set([0, 1])),
    /seg_1_00005.m4s\n#EXT-X-ENDLIST\n$/,
  );
  assert.equal(
    viewerPlaylist(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n',
      new Set(),
    ),
    '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n',
  );
});

test('segment names give their run', () => {
  assert.equal(runOfSegment('seg_12_00031.m4s'), 12);
  assert.equal(runOfSegment('init_1.mp4'), undefined);
});

/** The whole-lesson TV list ffmpeg 5.1 writes after a restart (list size 0, seen on this machine). */
const TV_AFTER_RESTART = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-DISCONTINUITY
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-DISCONTINUITY
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:04.523+0000
seg_0_00000.ts
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:05.523+0000
seg_0_00001.ts
#EXTINF:0.520000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:06.523+0000
seg_0_00002.ts
#EXT-X-DISCONTINUITY
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:09.133+0000
seg_1_00003.ts
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:10.133+0000
seg_1_00004.ts
`;

test('the whole-lesson TV list parses with wall-clock starts and the restart’s discontinuity only', () => {
  const list = parseLiveTvList(TV_AFTER_RESTART);
  assert.equal(list.ended, false);
  assert.deepEqual(
    list.segments.map((s) => [s.uri, s.durationSec, s.pdtMs, s.discontinuity]),
    [
      ['seg_0_00000.ts', 1, Date.parse('2026-12-04T08:17:04.523Z'), false],
      ['seg_0_00001.ts', 1, Date.parse('2026-12-04T08:17:05.523Z'), false],
      ['seg_0_00002.ts', 0.52, Date.parse('2026-12-04T08:17:06.523Z'), false],
      ['seg_1_00003.ts', 1, Date.parse('2026-12-04T08:17:09.133Z'), true],
      ['seg_1_00004.ts', 1, Date.parse('2026-12-04T08:17:10.133Z'), false],
    ],
  );
  assert.equal(parseLiveTvList(`${TV_AFTER_RESTART}#EXT-X-ENDLIST\n`).ended, true);
});

test('the sliding TV playlist numbers segments by their place in the lesson and counts the discontinuities it slid past', () => {
  const list = parseLiveTvList(TV_AFTER_RESTART);
  assert.equal(
    slidingTvPlaylist(list, 3),
    `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXTINF:0.520000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:06.523+00:00
seg_0_00002.ts
#EXT-X-DISCONTINUITY
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:09.133+00:00
seg_1_00003.ts
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:17:10.133+00:00
seg_1_00004.ts
`,
  );
  // once the restart's segment is the first, its tag is dropped and counted in the sequence
  assert.match(slidingTvPlaylist(list, 2), /MEDIA-SEQUENCE:3\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXTINF/);
  assert.match(slidingTvPlaylist({ ...list, ended: true }, 2), /seg_1_00004.ts\n#EXT-X-ENDLIST\n$/);
});

test('a TV playlist published late keeps the segments an earlier one showed for a moment only', () => {
  // the whole-lesson list of 20 one-second segments
  const list = {
    segments: Array.from({ length: 20 }, (_, i) => ({
      uri: `seg_1_${String(i).padStart(5, '0')}.ts`,
      durationSec: 1,
      pdtMs: Date.UTC(2026, 11, 6, 0, 0, i),
      discontinuity: false,
    })),
    ended: false,
  };
  const uris = (text: string) => text.split('\n').filter((l) => l.startsWith('seg_'));
  const at = (n: number) => list.segments.slice(n).map((s) => s.uri);
  assert.deepEqual(uris(slidingTvPlaylist(list, 6, 8)), at(8));
  assert.match(slidingTvPlaylist(list, 6, 8), /#EXT-X-MEDIA-SEQUENCE:8\n/);
  assert.deepEqual(uris(slidingTvPlaylist(list, 6)), at(14));
  // the publisher's TV source: ffmpeg's whole list read at 8 segments, 9, then (late) 20
  const ffmpegList = (n: number) =>
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n' +
    list.segments
      .slice(0, n)
      .map(
        (s) =>
          `#EXTINF:1.000000,\n#EXT-X-PROGRAM-DATE-TIME:${new Date(s.pdtMs).toISOString().replace('Z', '+0000')}\n${s.uri}\n`,
      )
      .join('');
  const source = tvSource(6);
  // (the first lists all 8: none was shown before)
  assert.deepEqual(uris(source.render(ffmpegList(8), 0)), at(0).slice(0, 8));
  assert.deepEqual(uris(source.render(ffmpegList(9), 5000)), at(3).slice(0, 6));
  // seg 8 was shown 0.3 s before: it stays, with the eleven after it
  assert.deepEqual(uris(source.render(ffmpegList(20), 5300)), at(8));
  assert.deepEqual(uris(source.render(ffmpegList(20), 8400)), at(14));
});

test('a web playlist published late keeps the segments an earlier one showed for a moment only', () => {
  const seg = (n: number) => `seg_7_${String(n).padStart(5, '0')}.m4s`;
  // ffmpeg's sliding list of 6 from `first` on, as it writes it
  const ffmpegList = (first: number) =>
    `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:${first}\n` +
    '#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI="init_7.mp4"\n' +
    Array.from(
      { length: 6 },
      (_, i) =>
        `#EXTINF:1.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:${String(first + i).padStart(2, '0')}.000+0000\n${seg(first + i)}\n`,
    ).join('');
  const uris = (text: string) => text.split('\n').filter((l) => l.startsWith('seg_'));
  const source = webSource(6);
  source.render(ffmpegList(6), 0);
  assert.deepEqual(uris(source.render(ffmpegList(7), 5000)), [7, 8, 9, 10, 11, 12].map(seg));
  // the bucket was slow: the next publish comes 0.3 s later, six segments on; seg 12 stays (shown 0.3 s)
  const late = source.render(ffmpegList(13), 5300);
  assert.deepEqual(uris(late), [12, 13, 14, 15, 16, 17, 18].map(seg));
  assert.match(late, /#EXT-X-MEDIA-SEQUENCE:12\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n/);
  assert.match(
    late,
    /#EXT-X-MAP:URI="init_7.mp4"\n#EXTINF:1.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:12/,
  );
  // three seconds on, the usual window again
  assert.deepEqual(uris(source.render(ffmpegList(14), 8400)), [14, 15, 16, 17, 18, 19].map(seg));
});
