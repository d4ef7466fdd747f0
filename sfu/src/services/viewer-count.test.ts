import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ViewerCount } from './viewer-count.js';

test('peers coming and going within a second make one viewerCount; none after stop', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let told = 0;
  const count = new ViewerCount(() => (told += 1), 1000);
  count.schedule();
  count.schedule();
  t.mock.timers.tick(999);
  assert.equal(told, 0);
  count.schedule();
  t.mock.timers.tick(1);
  assert.equal(told, 1);
  count.schedule();
  count.stop();
  t.mock.timers.tick(2000);
  count.schedule();
  t.mock.timers.tick(2000);
  assert.equal(told, 1);
});
