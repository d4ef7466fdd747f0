import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseLayers } from './layers.js';

test('explicit layers win and are clamped to the layers there are', () => {
  assert.deepEqual(chooseLayers({ spatialLayer: 1, temporalLayer: 2 }), {
    spatialLayer: 1,
    temporalLayer: 2,
  });
  assert.deepEqual(chooseLayers({ spatialLayer: 2, viewport: { width: 100, height: 60 } }), {
    spatialLayer: 2,
  });
  assert.deepEqual(chooseLayers({ spatialLayer: 2 }, 2), { spatialLayer: 1 });
});

test('a small window gets the small layer, a full-screen one the top layer', () => {
  assert.equal(chooseLayers({ viewport: { width: 320, height: 180 } }).spatialLayer, 0);
  assert.equal(chooseLayers({ viewport: { width: 640, height: 360 } }).spatialLayer, 1);
  assert.equal(chooseLayers({ viewport: { width: 1280, height: 720 } }).spatialLayer, 2);
  assert.equal(chooseLayers({ viewport: { width: 3840, height: 2160 } }).spatialLayer, 2);
  // a tall, narrow box is limited by its width (16:9 picture)
  assert.equal(chooseLayers({ viewport: { width: 300, height: 1000 } }).spatialLayer, 0);
});

test('bandwidth caps the layer; below the lowest layer only the base frame rate is sent', () => {
  assert.equal(chooseLayers({ viewport: { width: 1920, height: 1080 }, bandwidthKbps: 700 }).spatialLayer, 1);
  assert.equal(chooseLayers({ bandwidthKbps: 5000 }).spatialLayer, 2);
  assert.deepEqual(chooseLayers({ bandwidthKbps: 100 }), { spatialLayer: 0, temporalLayer: 0 });
});
