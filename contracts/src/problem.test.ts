import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { AppError, fieldErrorsFromIssues, problemFromError } from './problem.js';
import { parseConfig } from './config.js';

test('an AppError keeps its code, message and status', () => {
  const p = problemFromError(new AppError('FORBIDDEN', 'teachers only'), '/api/x');
  assert.equal(p.status, 403);
  assert.equal(p.code, 'FORBIDDEN');
  assert.equal(p.detail, 'teachers only');
  assert.equal(p.instance, '/api/x');
});

test('unknown errors never leak their message', () => {
  const p = problemFromError(new Error('ECONNREFUSED 10.0.0.3:27017 password=hunter2'));
  assert.equal(p.status, 500);
  assert.equal(p.code, 'INTERNAL');
  assert.ok(!p.detail.includes('hunter2'));
});

test('zod issues name every field, unknown keys one by one', () => {
  const schema = z.strictObject({ title: z.string().max(3), n: z.number() });
  const r = schema.safeParse({ title: 'toolong', n: 'x', extra: 1, other: 2 });
  assert.ok(!r.success);
  const paths = fieldErrorsFromIssues(r.error.issues, 'body')
    .map((e) => e.path)
    .sort();
  assert.deepEqual(paths, ['body.extra', 'body.n', 'body.other', 'body.title']);
});

test('a config error lists every problem at once', () => {
  const schema = z.object({ A: z.string(), B: z.coerce.number().int(), C: z.url() });
  assert.throws(
    () => parseConfig(schema, { B: 'x', C: 'nope' }),
    (err: Error) => {
      assert.match(err.message, /A:/);
      assert.match(err.message, /B:/);
      assert.match(err.message, /C:/);
      return true;
    },
  );
});
