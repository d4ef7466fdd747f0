import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseSearch, searchKeys, searchPrefix } from './user-search.js';

const finds = (q: string, username: string, displayName: string) =>
  searchKeys(username, displayName).some((k) => searchPrefix(q).test(k));

test('an account is found by the start of its username, its parts, its name or a word of it, in any case', () => {
  assert.ok(finds('FAMILY.C', 'family.chen', '陈家'));
  assert.ok(finds('chen', 'family.chen', '陈家'));
  assert.ok(finds('li', 'teacher01', 'Li Wei'));
  assert.ok(finds('wei', 'teacher01', 'Li Wei'));
  assert.ok(finds('li w', 'teacher01', 'Li  Wei'));
  assert.ok(!finds('hen', 'family.chen', '陈家'), 'the middle of a word is not its start');
  assert.ok(!finds('ei', 'teacher01', 'Li Wei'));
});

test('a Chinese name is found from any of its characters; full-width letters read as plain ones', () => {
  assert.ok(finds('王', 'wxm', '王小明'));
  assert.ok(finds('小明', 'wxm', '王小明'));
  assert.ok(finds('明', 'wxm', '王小明'));
  assert.ok(!finds('小红', 'wxm', '王小明'));
  assert.ok(finds('同学17', 'p17', '页abc同学17'));
  assert.ok(finds('ＷＸＭ', 'wxm', '王小明'));
  assert.equal(normaliseSearch('  Ｌｉ   WEI '), 'li wei');
});

test('regex characters in a search are plain text, anchored at a key’s start', () => {
  assert.equal(searchPrefix('.*').source, '^\\.\\*');
  assert.ok(!finds('.*', 'anyone', 'Anyone'));
  assert.ok(finds('a.b', 'a.b', 'x'));
  assert.ok(!finds('a.b', 'axb', 'x'));
  assert.ok(finds('(x)', 'u1', '(x) y'));
});

test('keys are few and none is repeated or empty, however long the name', () => {
  const keys = searchKeys('a.b', '汉'.repeat(64));
  assert.ok(keys.length <= 24);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(keys.every((k) => k.length > 0));
  assert.deepEqual(searchKeys('ab', 'Ab'), ['ab']);
});
