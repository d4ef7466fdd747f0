import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RELOCATE, relocateDelay } from './room-client';

test('asks for another node after 1.5 s, then backing off to 15 s, each ±25 %', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 7].map((n) => relocateDelay(n, 0.5)),
    [1500, 3000, 6000, 12_000, 15_000, 15_000],
  );
  assert.equal(relocateDelay(0, 0), 1125);
  assert.equal(relocateDelay(0, 1), 1875);
  assert.equal(relocateDelay(9, 1), 18_750);
  // the asks of one outage, at the latest: bounded
  let total = 0;
  for (let n = 0; n < RELOCATE.attempts; n++) total += relocateDelay(n, 1);
  assert.ok(total < 120_000, `the last ask comes ${total} ms after the drop at the latest`);
});
