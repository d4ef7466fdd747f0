import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freeRouter, whenFull } from './router-placement.js';

const r = (workerIndex: number, consumers: number) => ({ workerIndex, consumers });

test('a viewer goes to the first router under the threshold, the origin first', () => {
  const origin = r(0, 1);
  const edge = r(1, 0);
  assert.equal(freeRouter([origin, edge], 2), origin);
  assert.equal(freeRouter([r(0, 2), edge], 2), edge);
  assert.equal(freeRouter([r(0, 2), r(1, 5)], 2), undefined);
  assert.equal(freeRouter([], 2), undefined);
});

test('all full: grow onto a worker the room is not on yet, else the router with the fewest consumers', () => {
  const routers = [r(0, 4), r(1, 3), r(2, 3)];
  assert.equal(whenFull(routers, 3), 'grow');
  assert.equal(whenFull(routers, 0), routers[1], 'fewest consumers; the first of equals');
  const only = r(0, 2);
  assert.equal(whenFull([only], 0), only, 'one worker: the room stays on it');
});
