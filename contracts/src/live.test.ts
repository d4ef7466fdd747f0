import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseSfuNode, SFU_DIRECTORY, type SfuNodeRecord } from './live.js';

const now = 1_000_000;
const node = (nodeId: string, load: number, capacity = 100, age = 0): SfuNodeRecord => ({
  nodeId,
  publicUrl: `http://${nodeId}`,
  internalUrl: `http://${nodeId}:internal`,
  load,
  capacity,
  beatAt: now - age,
});

test("a lesson's clients go to its origin while it has room: teacher and class on one node", () => {
  const nodes = [node('a', 90), node('b', 5), node('c', 40)];
  assert.equal(chooseSfuNode(nodes, 'a', now)?.nodeId, 'a');
});

test('past the origin’s capacity, the least-loaded other live node with room (an edge)', () => {
  const nodes = [node('a', 100), node('b', 60, 100), node('c', 150, 400), node('d', 99, 100)];
  // c: 150/400 is less loaded than b: 60/100
  assert.equal(chooseSfuNode(nodes, 'a', now)?.nodeId, 'c');
});

test('every node full: the origin anyway (its audience cap sends the rest to HLS)', () => {
  const nodes = [node('a', 100), node('b', 100)];
  assert.equal(chooseSfuNode(nodes, 'a', now)?.nodeId, 'a');
});

test('a node that stopped beating gets no clients; with no origin, the least-loaded live node opens the room', () => {
  const stale = SFU_DIRECTORY.staleMs + 1;
  const nodes = [node('a', 1, 100, stale), node('b', 50), node('c', 10)];
  assert.equal(chooseSfuNode(nodes, 'a', now)?.nodeId, 'c', 'the dead origin is skipped');
  assert.equal(chooseSfuNode(nodes, undefined, now)?.nodeId, 'c');
  assert.equal(chooseSfuNode([node('a', 0, 100, stale)], undefined, now), undefined, 'no live node: none');
});

test('a node the client could not reach is passed over while it still beats, unless it is the only one', () => {
  // b was the lesson's edge and has just died: its last beat is still fresh
  const nodes = [node('a', 10), node('b', 5)];
  assert.equal(chooseSfuNode(nodes, 'a', now, { unreachable: 'http://b' })?.nodeId, 'a');
  assert.equal(chooseSfuNode(nodes, undefined, now)?.nodeId, 'b');
  assert.equal(chooseSfuNode(nodes, undefined, now, { unreachable: 'http://b' })?.nodeId, 'a');
  // the origin itself unreachable: an edge takes the client
  assert.equal(chooseSfuNode(nodes, 'a', now, { unreachable: 'http://a' })?.nodeId, 'b');
  // nothing else beats: the one node still (the client may have met a blip)
  assert.equal(chooseSfuNode([node('a', 10)], 'a', now, { unreachable: 'http://a' })?.nodeId, 'a');
});

test('the teacher goes to the origin however loaded; past its capacity, students go to an edge', () => {
  const nodes = [node('a', 100), node('b', 5)];
  assert.equal(chooseSfuNode(nodes, 'a', now)?.nodeId, 'b');
  assert.equal(chooseSfuNode(nodes, 'a', now, { teaches: true })?.nodeId, 'a');
  // the origin dead (it beats no more): the teacher goes where a new origin will be
  const dead = [node('a', 1, 100, SFU_DIRECTORY.staleMs + 1), node('b', 5)];
  assert.equal(chooseSfuNode(dead, 'a', now, { teaches: true })?.nodeId, 'b');
});

test('every sfu directory key carries the same hash tag (one Redis Cluster slot), whatever the prefix', () => {
  // Redis Cluster hashes the part between the first `{` and the first `}` after it, when not empty
  const tag = (key: string) => {
    const open = key.indexOf('{');
    const close = key.indexOf('}', open + 1);
    return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : undefined;
  };
  for (const prefix of ['sky', '{sky}', 'test-1234']) {
    const keys = [
      SFU_DIRECTORY.nodes(prefix),
      SFU_DIRECTORY.node(prefix, 'sfu-a'),
      SFU_DIRECTORY.node(prefix, 'sfu-b'),
      SFU_DIRECTORY.lesson(prefix, '65f0c0ffee0000000000beef'),
    ];
    const tags = new Set(keys.map(tag));
    assert.equal(tags.size, 1, `${prefix}: ${keys.join(' ')}`);
    assert.ok([...tags][0], 'a non-empty tag');
  }
});
