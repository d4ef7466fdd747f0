import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceApproveBody } from '@sky/contracts';
import { formatUserCode, newUserCode, normalizeUserCode, USER_CODE_ALPHABET } from './device.service.js';

test('user codes are 8 letters of the RFC 8628 §6.1 alphabet, every letter in use', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const code = newUserCode();
    assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
    for (const c of code) seen.add(c);
  }
  assert.equal(seen.size, USER_CODE_ALPHABET.length);
});

test('what the TV shows, typed back on a phone in any form, is the stored code', () => {
  const code = newUserCode();
  const shown = formatUserCode(code);
  assert.match(shown, /^[A-Z]{4}-[A-Z]{4}$/);
  for (const typed of [shown, shown.toLowerCase(), shown.replace('-', ' '), ` ${code.toLowerCase()} `]) {
    assert.equal(normalizeUserCode(typed), code);
    // The contract's body schema normalises the same way the service does.
    assert.equal(DeviceApproveBody.parse({ user_code: typed }).user_code, code);
  }
});
