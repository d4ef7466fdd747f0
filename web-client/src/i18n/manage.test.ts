import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LESSON_REFUSALS } from '@sky/contracts';

const read = (lang: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, `manage.${lang}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
const keys = (o: unknown, at = ''): string[] =>
  typeof o === 'object' && o !== null
    ? Object.entries(o).flatMap(([k, v]) => keys(v, at ? `${at}.${k}` : k))
    : [at];

test('the manage strings say the same things in Chinese and English, and every contract refusal has one', () => {
  const zh = read('zh-CN');
  const en = read('en');
  assert.deepEqual(keys(zh).sort(), keys(en).sort());
  const all = new Set(keys(zh));
  for (const why of Object.keys(LESSON_REFUSALS))
    assert.ok(all.has(`lesson.refused.${why}`), `lesson.refused.${why}`);
  for (const text of keys(zh).map((k) => k.split('.').reduce<unknown>((o, p) => (o as never)[p], zh)))
    assert.match(String(text), /\p{Script=Han}/u, `${String(text)} is Chinese`);
});
