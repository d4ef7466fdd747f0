import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AskRequest, cleanText, PAIRING_PLAYBACK_STALE_SEC, playbackMoment, QuestionText } from './qa.js';

test('question text: NFC, controls and direction overrides out, spaces and blank lines collapsed', () => {
  assert.equal(cleanText('  cafe\u0301 '), 'café');
  assert.equal(cleanText('a\u0000b\u0007c'), 'a b c');
  assert.equal(cleanText('\u202Eevil\u202C\u200B'), 'evil');
  assert.equal(cleanText('一\r\n\r\n\r\n\r\n二\u2028三'), '一\n\n二\n三');
  assert.equal(cleanText('tab\tand   spaces \n next'), 'tab and spaces\nnext');
  // Emoji sequences keep their zero-width joiner; markup stays as typed.
  assert.equal(cleanText('👨\u200D👩\u200D👧'), '👨\u200D👩\u200D👧');
  assert.equal(cleanText('<b>1 < 2</b>'), '<b>1 < 2</b>');
});

test('question text: at most 500 characters as typed, never empty once cleaned', () => {
  assert.ok(QuestionText.safeParse('字'.repeat(500)).success);
  assert.ok(!QuestionText.safeParse('字'.repeat(501)).success);
  assert.ok(!QuestionText.safeParse(' \u200B\u0001\n ').success);
});

test('an ask gives a replay position or a live offset, not both; unknown keys are dropped', () => {
  const lessonId = 'a'.repeat(24);
  const r = AskRequest.safeParse({ lessonId, text: 'hi', position: 3, role: 'admin' });
  assert.ok(r.success);
  assert.deepEqual(r.data, { lessonId, text: 'hi', anonymous: false, position: 3 });
  const both = AskRequest.safeParse({ lessonId, text: 'hi', position: 3, liveOffset: 4 });
  assert.deepEqual(
    both.error?.issues.map((i) => i.path),
    [['liveOffset']],
  );
});

test('the moment on the TV: its last report moved on while it plays, held while paused, none when stale', () => {
  assert.deepEqual(playbackMoment(undefined), {});
  assert.deepEqual(playbackMoment({ position: 40, playing: true, ageSec: 2 }, 0.5), { position: 42.5 });
  assert.deepEqual(playbackMoment({ liveOffset: 600, playing: true, ageSec: 1 }), { liveOffset: 601 });
  assert.deepEqual(playbackMoment({ position: 40, playing: false, ageSec: 500 }, 9), { position: 40 });
  assert.deepEqual(
    playbackMoment({ position: 40, playing: true, ageSec: PAIRING_PLAYBACK_STALE_SEC + 1 }),
    {},
  );
  assert.deepEqual(playbackMoment({ position: 40, playing: true, ageSec: 0 }, -5), { position: 40 });
  assert.deepEqual(playbackMoment({ position: 86_399, playing: true, ageSec: 30 }), { position: 86_400 });
});
