import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classSize } from './audience';
import type { RemoteMedia } from './room-client';

const remote = (userId: string, role: 'teacher' | 'student', kind: 'audio' | 'video') =>
  ({ userId, role, kind }) as RemoteMedia;

test('the studio counts the class without its own seat', () => {
  assert.equal(classSize({ viewerCount: 3, role: 'teacher', userId: 't', remotes: [] }), 2);
  // a student on stage sends media: still one seat each
  assert.equal(
    classSize({
      viewerCount: 3,
      role: 'teacher',
      userId: 't',
      remotes: [remote('s1', 'student', 'audio'), remote('s1', 'student', 'video')],
    }),
    2,
  );
  // the count arrives a second after the join: never below zero meanwhile
  assert.equal(classSize({ viewerCount: 0, role: 'teacher', userId: 't', remotes: [] }), 0);
});

test('a student counts the class without the teacher whose camera and voice they receive', () => {
  const teacher = [remote('t', 'teacher', 'video'), remote('t', 'teacher', 'audio')];
  assert.equal(classSize({ viewerCount: 3, role: 'student', userId: 's1', remotes: teacher }), 2);
  assert.equal(classSize({ viewerCount: 2, role: 'student', userId: 's1', remotes: [] }), 2);
});
