import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSecrets, TEST_PASSWORD } from './secrets-scan.js';

test('a log line with a password, a JWT, a refresh token or a credential in a URL is a finding', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2NjYifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const refresh = '3f1c2b6e-9a4d-4c1e-8f2a-0b1c2d3e4f5a.Qm9vb29vb29vb29vb29vb29vb29vb29vb29vb28';
  const log = [
    '{"msg":"incoming request","req":{"url":"/api/lessons?q=x"}}',
    `{"msg":"login","body":{"password":"${TEST_PASSWORD}"}}`,
    `{"msg":"verify","header":"Bearer ${jwt}"}`,
    `{"msg":"refresh","refreshToken":"${refresh}"}`,
    '{"req":{"url":"/channels.m3u?token=abcdefgh12345678"}}',
    '{"req":{"url":"/channels.m3u?token=[redacted]"}}',
  ].join('\n');
  assert.deepEqual(
    findSecrets(log).map((f) => [f.line, f.kind]),
    [
      [2, 'password'],
      [3, 'access token (JWT)'],
      [4, 'refresh token'],
      [5, 'credential in a URL'],
    ],
  );
});
