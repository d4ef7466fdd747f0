import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lru } from './lru.js';

describe('Lru', () => {
  it('keeps at most max entries, dropping the least recently read or written', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    assert.equal(lru.get('a'), 1); // a is now the most recent
    lru.set('d', 4); // b goes
    assert.equal(lru.size, 3);
    assert.equal(lru.get('b'), undefined);
    lru.set('c', 30); // rewritten: most recent
    lru.set('e', 5); // a goes (read before d, c rewritten after)
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((k) => lru.get(k)),
      [undefined, undefined, 30, 4, 5],
    );
  });

  it('holds nothing with max 0, and nothing after clear', () => {
    const none = new Lru<string, number>(0);
    none.set('a', 1);
    assert.equal(none.get('a'), undefined);
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.clear();
    assert.equal(lru.size, 0);
    assert.equal(lru.get('a'), undefined);
  });
});
