import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AskRequest, cleanText, QuestionText } from './qa.js';

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
