import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIELD_RULES } from '@sky/contracts';

const read = (lang: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, `${lang}.json`), 'utf8')) as {
    fields: Record<string, string>;
    validation: Record<string, string>;
  };

test('every rule a field error can name (the password rules among them) is said in Chinese and English', () => {
  for (const lang of ['zh-CN', 'en']) {
    const { fields, validation } = read(lang);
    for (const rule of FIELD_RULES) assert.ok(validation[rule], `${lang}: validation.${rule}`);
    // the password forms' fields are named, not shown as their keys
    for (const field of ['password', 'newPassword', 'currentPassword'])
      assert.ok(fields[field], `${lang}: fields.${field}`);
  }
  assert.match(read('zh-CN').validation['common'] ?? '', /\p{Script=Han}/u);
});
