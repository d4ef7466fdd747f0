import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveSource } from '@sky/contracts';
import { bridgeSources } from './bridge-sources.js';

const teacher = (...sources: LiveSource[]) => ({
  producers: new Map(sources.map((source, i) => [`${source}-${i}`, { source, producer: source }])),
});

test('the screen share wins over the camera while it lasts; the mic is the audio', () => {
  assert.deepEqual(bridgeSources([teacher('camera', 'mic', 'screen')]), { video: 'screen', audio: 'mic' });
  assert.deepEqual(bridgeSources([teacher('camera', 'mic')]), { video: 'camera', audio: 'mic' });
  assert.deepEqual(bridgeSources([teacher('screen')]), { video: 'screen', audio: undefined });
});

test('nothing published: nothing for the bridge', () => {
  assert.deepEqual(bridgeSources([]), { video: undefined, audio: undefined });
  assert.deepEqual(bridgeSources([teacher()]), { video: undefined, audio: undefined });
});

test("with two teacher connections, one's screen share beats the other's camera; else the first wins", () => {
  const a = { producers: new Map([['c', { source: 'camera' as const, producer: 'camera of a' }]]) };
  const b = { producers: new Map([['s', { source: 'screen' as const, producer: 'screen of b' }]]) };
  const c = { producers: new Map([['c2', { source: 'camera' as const, producer: 'camera of c' }]]) };
  assert.equal(bridgeSources([a, b]).video, 'screen of b');
  assert.equal(bridgeSources([a, c]).video, 'camera of a');
});

test('a paused camera or screen is not on the stage (black fills in); a paused mic stays', () => {
  const paused = (source: LiveSource) => ({ source, producer: `${source} (paused)`, pausedBy: 'owner' });
  const live = (source: LiveSource) => ({ source, producer: source });
  const t = (...pps: { source: LiveSource; producer: string; pausedBy?: string }[]) => ({
    producers: new Map(pps.map((pp, i) => [String(i), pp])),
  });
  assert.deepEqual(bridgeSources([t(paused('camera'), live('mic'))]), { video: undefined, audio: 'mic' });
  assert.deepEqual(bridgeSources([t(live('camera'), paused('screen'), live('mic'))]), {
    video: 'camera',
    audio: 'mic',
  });
  assert.deepEqual(bridgeSources([t(live('camera'), paused('mic'))]), {
    video: 'camera',
    audio: 'mic (paused)',
  });
});
