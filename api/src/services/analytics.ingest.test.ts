import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Beacon } from '@sky/contracts';
import { analyticsKeys } from '../adapters/analytics.redis.js';
import { shardParts } from './analytics.ingest.js';

const beat = (viewer: number, i: number): Beacon =>
  Beacon.parse({
    type: 'heartbeat',
    eventId: `event-${viewer}-${i}`,
    viewerId: `viewer-${String(viewer).padStart(4, '0')}`,
    sessionId: `session-${viewer}`,
    lessonId: 'lesson-1',
    platform: 'web',
    at: 1_700_000_000_000,
    position: 10,
    watchedSec: 10,
  });

describe('shardParts', () => {
  it('keeps a one-viewer batch as received, in its viewer’s shard', () => {
    const keys = analyticsKeys('t', 4);
    const events = [beat(7, 1), beat(7, 2)];
    const raw = JSON.stringify({ events });
    const parts = shardParts(events, raw, keys);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.shard, keys.shardOf(events[0]!.viewerId));
    assert.equal(parts[0]!.json, raw, 'the body as received, not written out again');
    assert.deepEqual(
      parts[0]!.ids.map((e) => e.eventId),
      ['event-7-1', 'event-7-2'],
    );
  });

  it('splits a batch of many viewers by shard: each event once, in order, the first event’s shard first', () => {
    const keys = analyticsKeys('t', 4);
    const events = Array.from({ length: 40 }, (_, i) => beat(i % 10, i));
    const parts = shardParts(events, JSON.stringify({ events }), keys);
    assert.ok(parts.length > 1, 'ten viewers fall on more than one of four shards');
    assert.equal(parts[0]!.shard, keys.shardOf(events[0]!.viewerId));
    const seen: string[] = [];
    for (const p of parts) {
      const stored = (JSON.parse(p.json) as { events: Beacon[] }).events;
      assert.deepEqual(
        stored.map((e) => e.eventId),
        p.ids.map((e) => e.eventId),
      );
      for (const e of stored) {
        assert.equal(keys.shardOf(e.viewerId), p.shard);
        seen.push(e.eventId);
      }
    }
    assert.deepEqual([...seen].sort(), events.map((e) => e.eventId).sort());
    for (const p of parts) {
      const order = p.ids.map((e) => events.findIndex((x) => x.eventId === e.eventId));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      );
    }
  });

  it('with one shard, a sendBeacon batch (its token left out) is written out without it', () => {
    const keys = analyticsKeys('t', 1);
    const events = [beat(1, 1)];
    const parts = shardParts(events, undefined, keys);
    assert.deepEqual(JSON.parse(parts[0]!.json), { events });
  });
});
