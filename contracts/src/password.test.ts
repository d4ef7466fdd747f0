import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateUserBody, NewPassword, PASSWORD_FIELD_RULES, passwordRuleBroken } from './auth.js';
import { FIELD_RULES } from './errors.js';
import { fieldErrorsFromIssues } from './problem.js';

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

test('a broken password rule reaches the field error as a rule and limit clients translate', () => {
  for (const { rule } of Object.values(PASSWORD_FIELD_RULES)) assert.ok(FIELD_RULES.includes(rule), rule);
  const fieldOf = (password: string) => {
    const r = NewPassword.safeParse(password);
    assert.ok(!r.success, password);
    return fieldErrorsFromIssues(r.error.issues, 'body.newPassword');
  };
  assert.deepEqual(fieldOf('short'), [
    { path: 'body.newPassword', message: 'at least 8 characters', rule: 'too_short', limit: 8 },
  ]);
  assert.deepEqual(fieldOf('x'.repeat(257)), [
    { path: 'body.newPassword', message: 'at most 256 characters', rule: 'too_long', limit: 256 },
  ]);
  assert.equal(fieldOf('password123')[0]?.rule, 'common');
  const account = CreateUserBody.safeParse({
    username: 'lin.xiao',
    password: 'lin.xiao.2024',
    displayName: '林晓',
    role: 'teacher',
  });
  assert.ok(!account.success);
  assert.deepEqual(
    fieldErrorsFromIssues(account.error.issues, 'body').map((f) => [f.path, f.rule]),
    [['body.password', 'contains_username']],
  );
});
