import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROLES } from './roles.js';
import { ownsLesson } from './access.js';

test('a lesson is owned by its own teacher and by admins, by nobody else', () => {
  const lesson = { teacherId: 't1' };
  for (const role of ROLES) {
    assert.equal(ownsLesson({ sub: 't1', role }, lesson), role === 'teacher' || role === 'admin', role);
    assert.equal(ownsLesson({ sub: 'other', role }, lesson), role === 'admin', `${role}, not the teacher`);
  }
});
