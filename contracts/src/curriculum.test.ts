import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beijingToday, slotSpan } from './curriculum.js';

test('a slot airs from its start to its end, Beijing time whatever the machine’s zone', () => {
  assert.deepEqual(slotSpan({ date: '2026-12-04', start: '14:00', end: '14:30' }), {
    start: Date.parse('2026-12-04T06:00:00Z'),
    end: Date.parse('2026-12-04T06:30:00Z'),
  });
});

test('a slot that runs past midnight ends on the next day', () => {
  assert.deepEqual(slotSpan({ date: '2026-12-04', start: '23:50', end: '00:20' }), {
    start: Date.parse('2026-12-04T15:50:00Z'),
    end: Date.parse('2026-12-04T16:20:00Z'),
  });
  // one ending at midnight itself too
  assert.equal(
    slotSpan({ date: '2026-12-04', start: '23:30', end: '00:00' }).end,
    Date.parse('2026-12-05T00:00:00+08:00'),
  );
  assert.equal(beijingToday(Date.parse('2026-12-04T16:05:00Z')), '2026-12-05', 'which is Beijing’s next day');
});
