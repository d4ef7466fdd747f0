import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PEERS,
  STAFF,
  decodeCursor,
  encodeCursor,
  eventFor,
  toQuestion,
  type Change,
  type Snapshot,
} from './qa.view.js';
import type { QuestionRecord } from '../adapters/qa.repository.js';

const q: Snapshot = {
  id: 'b'.repeat(24),
  lessonId: 'a'.repeat(24),
  authorId: 'c'.repeat(24),
  authorName: '小明',
  anonymous: true,
  text: '为什么？',
  votes: 2,
  answeredOnAir: false,
  pinned: false,
  hidden: false,
  deleted: false,
  createdAt: '2026-03-01T08:00:00.000Z',
};
const author = { userId: q.authorId, staff: false };
const peer = { userId: 'd'.repeat(24), staff: false };

test('anonymous questions: peers get no name and no id; staff and the author get both', () => {
  assert.equal(toQuestion(q, peer, 1).author, null);
  assert.equal(toQuestion(q, peer, 1).authorId, undefined);
  assert.equal(toQuestion(q, PEERS, 1).author, null);
  assert.equal(toQuestion(q, STAFF, 1).author, '小明');
  assert.equal(toQuestion(q, STAFF, 1).authorId, q.authorId);
  assert.equal(toQuestion(q, author, 1).authorId, q.authorId);
  assert.equal(toQuestion({ ...q, anonymous: false }, peer, 1).author, '小明');
});

test('hiding: peers lose the question and get it back; staff and the author follow it as an update', () => {
  const hide: Change = {
    kind: 'updated',
    change: 'hide',
    hiddenBefore: false,
    q: { ...q, hidden: true, hiddenReason: 'spam' },
  };
  const unhide: Change = { kind: 'updated', change: 'hide', hiddenBefore: true, q };
  const vote: Change = { kind: 'updated', change: 'votes', hiddenBefore: true, q: { ...q, hidden: true } };
  assert.equal(eventFor(hide, peer, 5)?.type, 'question:deleted');
  assert.equal(eventFor(unhide, peer, 6)?.type, 'question:new');
  assert.equal(eventFor(vote, peer, 7), null);
  const forStaff = eventFor(hide, STAFF, 5);
  assert.equal(forStaff?.type, 'question:updated');
  assert.equal(forStaff?.type === 'question:updated' && forStaff.question.hiddenReason, 'spam');
  const forAuthor = eventFor(hide, author, 5);
  assert.equal(forAuthor?.type === 'question:updated' && forAuthor.question.hiddenReason, undefined);
  assert.equal(
    eventFor({ kind: 'deleted', hiddenBefore: true, q: { ...q, hidden: true, deleted: true } }, peer, 8),
    null,
  );
  assert.equal(
    eventFor({ kind: 'deleted', hiddenBefore: false, q: { ...q, deleted: true } }, peer, 8)?.type,
    'question:deleted',
  );
});

test('cursors belong to one order and refuse anything else', () => {
  const last = { id: 'e'.repeat(24), pinned: true, votes: 3 } as QuestionRecord;
  assert.deepEqual(decodeCursor('top', encodeCursor('top', last)), { pinned: true, votes: 3, id: last.id });
  assert.deepEqual(decodeCursor('new', encodeCursor('new', last)), { id: last.id });
  assert.throws(() => decodeCursor('votes', encodeCursor('new', last)), /cursor/);
  assert.throws(() => decodeCursor('new', 'bm9wZQ'), /cursor/);
});
