import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMinutes, minutesBetween } from './week';

test('a slot’s length, also when it runs past midnight', () => {
  assert.equal(minutesBetween('08:30', '08:50'), 20);
  assert.equal(minutesBetween('23:50', '00:20'), 30);
  assert.equal(addMinutes('23:50', minutesBetween('23:50', '00:20')), '00:20');
});
