import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NewPassword, passwordRuleBroken } from './auth.js';

test('password rules: length, common and simple ones, the username, the one it replaces', () => {
  const cases: [string, Parameters<typeof passwordRuleBroken>[1], ReturnType<typeof passwordRuleBroken>][] = [
    ['correct horse battery', {}, null],
    ['短一点的中文密码也可以', {}, null],
    ['seven77', {}, 'short'],
    ['六个字的密码', {}, 'short'],
    ['x'.repeat(257), {}, 'long'],
    ['x'.repeat(256), {}, 'common'],
    ['aaaaaaaaaa', {}, 'common'],
    ['12345678', {}, 'common'],
    ['987654321', {}, 'common'],
    ['abcdefghij', {}, 'common'],
    ['88889999', {}, 'common'],
    ['PassWord123', {}, 'common'],
    ['woaini1314', {}, 'common'],
    ['my wang.li secret', { username: 'Wang.Li' }, 'username'],
    ['correct horse battery', { current: 'correct horse battery' }, 'same'],
    ['Correct horse battery', { current: 'correct horse battery' }, null],
  ];
  for (const [password, context, rule] of cases)
    assert.equal(passwordRuleBroken(password, context), rule, password.slice(0, 20));
  assert.equal(NewPassword.safeParse('correct horse battery').success, true);
  const refused = NewPassword.safeParse('1234567890');
  assert.equal(refused.success, false);
  assert.match(refused.error?.issues[0]?.message ?? '', /too common/);
});
