import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { AppError } from './problem.js';
import { socketEdge, type SocketContext } from './socket.js';

const REQUESTS = { 'note:add': z.strictObject({ text: z.string().min(1) }) };
type Replies = { 'note:add': { length: number } };

/** A connection with just what the edge touches: `on`, and a way to deliver [event, ...args]. */
function connection() {
  const listeners = new Map<string, (...args: unknown[]) => void>();
  const socket = { on: (ev: string, fn: (...args: unknown[]) => void) => void listeners.set(ev, fn) };
  const logged: { level: string; msg: string }[] = [];
  const log = {
    debug: (_o: object, msg: string) => void logged.push({ level: 'debug', msg }),
    error: (_o: object, msg: string) => void logged.push({ level: 'error', msg }),
  };
  return { socket, listeners, logged, log };
}

const edge = socketEdge<typeof REQUESTS, Replies, SocketContext>({
  requests: REQUESTS,
  limits: { eventsPerSecond: 3, eventBytes: 40 },
  label: 'notes',
});

/** Runs one packet through a guard: the ack it got (if any) and whether the event went on. */
function pass(guard: ReturnType<typeof edge.guard>, event: unknown, ...payload: unknown[]) {
  let acked: unknown;
  let passed = false;
  guard([event, ...payload, (res: unknown) => (acked = res)], () => (passed = true));
  return { acked, passed };
}

test('the guard refuses unknown events, oversize payloads and floods with error acks', () => {
  const { log, logged } = connection();
  const guard = edge.guard(log);
  assert.deepEqual(pass(guard, 'note:add', { text: 'hi' }), { acked: undefined, passed: true });
  assert.equal(
    (pass(guard, 'note:drop', {}).acked as { error: { code: string } }).error.code,
    'VALIDATION_FAILED',
  );
  assert.equal(
    (pass(guard, 'note:add', { text: 'x'.repeat(50) }).acked as { error: { code: string } }).error.code,
    'PAYLOAD_TOO_LARGE',
  );
  // three a second: the fourth in a row is refused
  assert.deepEqual(pass(guard, 'note:add', { text: 'hi' }).acked, {
    ok: false,
    error: { code: 'RATE_LIMITED', message: 'at most 3 events a second' },
  });
  // no ack callback: dropped, with a debug line naming the namespace
  let passed = false;
  edge.guard(log)(['note:add', { text: 'hi' }], () => (passed = true));
  assert.equal(passed, false);
  assert.deepEqual(logged, [{ level: 'debug', msg: 'notes event without an ack dropped' }]);
});

test('bind validates, answers { ok, data }, maps AppError and logs anything else as INTERNAL', async () => {
  const { socket, listeners, logged, log } = connection();
  const ctx = { actor: { sub: 'u1' }, socket };
  const answers: unknown[] = [];
  const ack = (res: unknown) => answers.push(res);
  let fail: Error | undefined;
  edge.bind(
    ctx,
    'note:add',
    async (_ctx, req) => {
      if (fail) throw fail;
      return { length: req.text.length };
    },
    log,
  );
  const listener = listeners.get('note:add')!;
  // one event at a time: each ack arrives before the next event is sent
  const send = (...args: unknown[]) => {
    listener(...args);
    return new Promise((r) => setImmediate(r));
  };
  await send({ text: 'hello' }, ack);
  await send({ text: '', extra: 1 }, ack);
  await send(ack);
  fail = new AppError('FORBIDDEN', 'not yours');
  await send({ text: 'hi' }, ack);
  fail = new Error('disk on fire');
  await send({ text: 'hi' }, ack);
  assert.deepEqual(answers, [
    { ok: true, data: { length: 5 } },
    {
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        message: 'text: Too small: expected string to have >=1 characters; extra: unknown field',
      },
    },
    {
      ok: false,
      error: { code: 'VALIDATION_FAILED', message: 'payload: send one payload object and an ack callback' },
    },
    { ok: false, error: { code: 'FORBIDDEN', message: 'not yours' } },
    {
      ok: false,
      error: { code: 'INTERNAL', message: 'Something went wrong on our side; it has been logged.' },
    },
  ]);
  assert.deepEqual(logged, [
    { level: 'debug', msg: 'not yours' },
    { level: 'error', msg: 'notes event failed' },
  ]);
});
