import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkReading, qualityOf, readReceive, readSendSample } from './stats';

/** An RTCStatsReport is a read-only Map of stats objects by id. */
const report = (entries: Record<string, unknown>[]): RTCStatsReport =>
  new Map(entries.map((e, i) => [String(i), e]));

test('network quality: good under 150 ms and 2 % loss, poor over 400 ms or 8 %, fair between', () => {
  assert.equal(qualityOf(undefined, undefined), 'unknown');
  assert.equal(qualityOf(20, 0), 'good');
  assert.equal(qualityOf(149, 1.9), 'good');
  assert.equal(qualityOf(150, 0), 'fair');
  assert.equal(qualityOf(20, 2), 'fair');
  assert.equal(qualityOf(401, 0), 'poor');
  assert.equal(qualityOf(20, 8.5), 'poor');
});

test('the sender reading sums every outbound stream and takes the RTT of the selected pair', () => {
  const at0 = readSendSample(
    report([
      { type: 'outbound-rtp', bytesSent: 1000, packetsSent: 10 },
      { type: 'outbound-rtp', bytesSent: 500, packetsSent: 5 },
      { type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: 0.05 },
      { type: 'candidate-pair', state: 'failed', currentRoundTripTime: 9 },
    ]),
    0,
  );
  assert.deepEqual(at0, { at: 0, bytesSent: 1500, packetsSent: 15, packetsLost: 0, rttMs: 50 });
  const at2 = readSendSample(
    report([
      { type: 'outbound-rtp', bytesSent: 251_500, packetsSent: 215 },
      { type: 'remote-inbound-rtp', packetsLost: 10, roundTripTime: 0.3 },
      { type: 'candidate-pair', nominated: true, currentRoundTripTime: 0.3 },
    ]),
    2000,
  );
  const r = networkReading(at0, at2);
  assert.equal(r.bitrateKbps, 1000); // 250 kB in 2 s
  assert.equal(r.rttMs, 300);
  assert.ok(Math.abs((r.lossPct ?? 0) - (100 * 10) / 210) < 1e-9);
  assert.equal(r.quality, 'fair');
  // the first sample alone has no rate yet
  assert.equal(networkReading(null, at0).bitrateKbps, undefined);
});

test('the receiver reading is the consumer’s own stream, never the bandwidth probe', () => {
  const stats = report([
    { type: 'inbound-rtp', ssrc: 1234, framesDecoded: 0, bytesReceived: 90_000 },
    {
      type: 'inbound-rtp',
      ssrc: 5555,
      framesDecoded: 42,
      bytesReceived: 1000,
      frameWidth: 640,
      frameHeight: 360,
    },
  ]);
  assert.equal(readReceive(stats, 5555)?.framesDecoded, 42);
  assert.equal(readReceive(stats, 5555)?.frameWidth, 640);
  assert.equal(readReceive(stats, undefined)?.framesDecoded, 42);
  assert.equal(readReceive(stats, 7777), null);
});
