import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTicketIssuer, createTokenIssuer } from './tokens.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';

test('a ticket opens only what it was made for, never stands in for an access token, and expires', async () => {
  const tickets = createTicketIssuer(SECRET, 1);
  const access = createTokenIssuer(SECRET, 900);
  const ticket = tickets.sign({ sub: 'u1', role: 'admin', use: 'queues' });
  const t = tickets.verify(ticket, 'queues');
  assert.deepEqual([t.sub, t.role, t.jti.length > 10], ['u1', 'admin', true]);
  assert.notEqual(
    tickets.verify(tickets.sign({ sub: 'u1', role: 'admin', use: 'queues' }), 'queues').jti,
    t.jti,
  );
  assert.throws(() => tickets.verify(ticket, 'other'), /not valid/);
  assert.throws(() => access.verify(ticket), /not valid/, 'a ticket is no access token');
  assert.throws(() => tickets.verify(access.sign({ sub: 'u1', role: 'admin' }), 'queues'), /not valid/);
  assert.throws(() => createTicketIssuer('another-secret-of-at-least-32-chars!!').verify(ticket, 'queues'));
  await new Promise((r) => setTimeout(r, 1100));
  assert.throws(() => tickets.verify(ticket, 'queues'), /expired/);
});
