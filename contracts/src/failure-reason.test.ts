import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutServerPaths } from './failure-reason.js';
import { TranscodeResult } from './jobs.js';

test('failure reasons keep the cause and lose every server path', () => {
  const cases: [string, string][] = [
    [
      'not a readable media file (/tmp/sky-media-x/uploads/65f0/abc.mp4: Invalid data found when processing input)',
      'not a readable media file (Invalid data found when processing input)',
    ],
    [
      'transcoding failed: ffmpeg failed: exited with code 1 (/media/.tmp/l-1/web/720p/init.mp4: No space left on device)',
      'transcoding failed: ffmpeg failed: exited with code 1 (No space left on device)',
    ],
    [
      "EACCES: permission denied, open '/srv/media/lessons/a/b/poster.jpg'",
      "EACCES: permission denied, open 'poster.jpg'",
    ],
    ['could not open C:\\media\\uploads\\x.mp4 for reading', 'could not open x.mp4 for reading'],
    [
      'the file does not decode (Error while decoding stream #0:0: Invalid data)',
      'the file does not decode (Error while decoding stream #0:0: Invalid data)',
    ],
    [
      'h264 1/2 of the frames, see https://ffmpeg.org/faq.html',
      'h264 1/2 of the frames, see https://ffmpeg.org/faq.html',
    ],
    ['the file is empty', 'the file is empty'],
  ];
  for (const [raw, shown] of cases) assert.equal(withoutServerPaths(raw), shown);
});

test('a failed transcode result loses server paths on the wire, whoever made it', () => {
  const result = TranscodeResult.parse({
    outcome: 'failed',
    lessonId: 'l1',
    code: 'NOT_MEDIA',
    reason: 'not a readable media file (/media/uploads/l1/abc.mp4: moov atom not found)',
  });
  assert.equal(
    result.outcome === 'failed' && result.reason,
    'not a readable media file (moov atom not found)',
  );
});
