// Malformed input is the client's mistake: a 400 (or 401) that says what is wrong, never a 500.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Problem } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
before(async () => {
  api = await startTestApi();
});
after(() => api.close());

test('a NUL byte in a public search is refused with the field, not a database error', async () => {
  for (const url of ['/api/public/lessons?q=%00', '/api/public/lessons?q=ab%00cd', '/api/lessons?q=%00']) {
    const res = await api.app.http.inject({
      url,
      headers: { authorization: `Bearer ${api.tokens.student}` },
    });
    assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
    assert.equal(res.json<Problem>().errors?.[0]?.path, 'querystring.q');
  }
});

test('a well-signed token whose subject is not a user id is refused as a bad token', async () => {
  const forged = createTokenIssuer('test-secret-that-is-at-least-32-characters', 600).sign({
    sub: 'not-an-object-id',
    role: 'student',
  });
  for (const url of ['/api/me', '/api/lessons', '/api/qa/lessons/aaaaaaaaaaaaaaaaaaaaaaaa/questions']) {
    const res = await api.app.http.inject({ url, headers: { authorization: `Bearer ${forged}` } });
    assert.ok(res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`);
  }
});
