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

test('each zod issue says which rule the field broke, and its bound, for clients to translate', () => {
  const schema = z.strictObject({
    name: z.string().trim().min(1),
    username: z.string().min(3).max(8),
    password: z.string().min(8),
    age: z.number().int().min(6).max(18),
    tags: z.array(z.string()).max(2),
    email: z.email(),
    role: z.enum(['student', 'teacher']),
    grade: z.string(),
  });
  const r = schema.safeParse({
    name: '  ',
    username: 'averyverylongname',
    password: 'short',
    age: 40,
    tags: ['a', 'b', 'c'],
    email: 'nope',
    role: 'pirate',
    extra: true,
  });
  assert.ok(!r.success);
  const rules = Object.fromEntries(
    fieldErrorsFromIssues(r.error.issues, 'body').map((e) => [e.path, [e.rule, e.limit]]),
  );
  assert.deepEqual(rules, {
    'body.name': ['required', undefined],
    'body.username': ['too_long', 8],
    'body.password': ['too_short', 8],
    'body.age': ['too_big', 18],
    'body.tags': ['too_many', 2],
    'body.email': ['format', undefined],
    'body.role': ['one_of', undefined],
    'body.grade': ['required', undefined],
    'body.extra': ['unknown', undefined],
  });
});

test('fastify validation errors (zod through the type provider) carry the same rules', () => {
  // what fastify-type-provider-zod puts in error.validation: the issue's code as keyword, the rest as params
  const validation = [
    {
      keyword: 'too_small',
      instancePath: '/password',
      message: 'Too small',
      params: { origin: 'string', minimum: 8 },
    },
    {
      keyword: 'invalid_type',
      instancePath: '/title',
      message: 'Invalid input: expected string, received undefined',
      params: { expected: 'string' },
    },
    { keyword: 'unrecognized_keys', instancePath: '', message: 'Unrecognized key', params: { keys: ['x'] } },
  ];
  const p = problemFromError({ validation, validationContext: 'body' });
  assert.equal(p.code, 'VALIDATION_FAILED');
  assert.deepEqual(
    p.errors?.map((e) => [e.path, e.rule, e.limit]),
    [
      ['body.password', 'too_short', 8],
      ['body.title', 'required', undefined],
      ['body.x', 'unknown', undefined],
    ],
  );
});
