import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AUDIO_SILENT_MS,
  isVp8KeyFrameStart,
  ivfFrames,
  OPUS_SILENCE,
  packetizeVp8,
  RtpSplicer,
  VIDEO_SILENT_MS,
} from './rtp-splice.js';
import { CaptureSync, ntpToMs } from './capture-sync.js';

const OUT = { ssrc: 0xabcdef01, payloadType: 96, clockRate: 90000 };
const KEY = Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a]); // S, partition 0; P=0: a key frame
const DELTA = Buffer.from([0x10, 0x01, 0x00, 0x00]); // P=1
const MIDDLE = Buffer.from([0x00, 0x42]); // not the start of a frame

function rtp(
  ssrc: number,
  seq: number,
  ts: number,
  payload: Buffer,
  opts: { marker?: boolean; pt?: number } = {},
) {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (opts.marker ? 0x80 : 0) | (opts.pt ?? 101);
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}
const head = (p: Buffer) => ({
  marker: (p[1]! & 0x80) !== 0,
  pt: p[1]! & 0x7f,
  seq: p.readUInt16BE(2),
  ts: p.readUInt32BE(4),
  ssrc: p.readUInt32BE(8),
});
const video = () => new RtpSplicer('video', OUT, { payloads: [KEY], frameMs: 40 });

test('a VP8 key frame start is told from a delta frame and a middle packet, with or without the extension byte', () => {
  assert.equal(isVp8KeyFrameStart(KEY), true);
  assert.equal(isVp8KeyFrameStart(DELTA), false);
  assert.equal(isVp8KeyFrameStart(MIDDLE), false);
  // X, I with a 15-bit picture id, L, T/K: 5 descriptor bytes before the payload header
  assert.equal(isVp8KeyFrameStart(Buffer.from([0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x00])), true);
  assert.equal(isVp8KeyFrameStart(Buffer.from([0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x01])), false);
  // a 7-bit picture id only
  assert.equal(isVp8KeyFrameStart(Buffer.from([0x90, 0x80, 0x05, 0x00])), true);
});

test('VP8 frames are cut into payloads with the start bit on the first; IVF frames are read back', () => {
  const frame = Buffer.alloc(2500, 7);
  const parts = packetizeVp8(frame, 1000);
  assert.deepEqual(
    parts.map((p) => [p[0], p.length]),
    [
      [0x10, 1001],
      [0x00, 1001],
      [0x00, 501],
    ],
  );
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(32, 6);
  const entry = (data: Buffer) => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(data.length, 0);
    return Buffer.concat([h, data]);
  };
  const ivf = Buffer.concat([header, entry(Buffer.from([1, 2, 3])), entry(Buffer.from([4]))]);
  assert.deepEqual(ivfFrames(ivf), [Buffer.from([1, 2, 3]), Buffer.from([4])]);
  assert.throws(() => ivfFrames(Buffer.alloc(40)), /not an IVF/);
});

test('a source is carried with the output SSRC and payload type, its own spacing kept', () => {
  const s = video();
  s.want(1111);
  assert.equal(s.takeKeyFrameRequest(), true, 'a new video source is asked for a key frame');
  assert.equal(s.takeKeyFrameRequest(), false);
  const a = s.push(rtp(1111, 500, 9000, KEY, { marker: true }), 10)!;
  const b = s.push(rtp(1111, 501, 12600, DELTA), 50)!;
  const c = s.push(rtp(1111, 502, 12600, MIDDLE, { marker: true }), 51)!;
  assert.deepEqual(head(a), { marker: true, pt: 96, seq: 0, ts: 0, ssrc: OUT.ssrc });
  assert.deepEqual(head(b), { marker: false, pt: 96, seq: 1, ts: 3600, ssrc: OUT.ssrc });
  assert.deepEqual(head(c), { marker: true, pt: 96, seq: 2, ts: 3600, ssrc: OUT.ssrc });
  assert.deepEqual(c.subarray(12), MIDDLE, 'the payload is untouched');
  assert.equal(s.push(rtp(2222, 1, 1, KEY), 52), undefined, 'an unwanted source is dropped');
  assert.deepEqual(s.fill(60), [], 'no filler while the source flows');
});

test('a video switch waits for the new source key frame, carrying the old one meanwhile, and continues the timeline', () => {
  const s = video();
  s.want(1111);
  s.push(rtp(1111, 100, 1000, KEY, { marker: true }), 0);
  s.push(rtp(1111, 101, 4600, DELTA, { marker: true }), 40);
  s.want(2222);
  assert.equal(s.takeKeyFrameRequest(), true);
  assert.equal(s.push(rtp(2222, 7000, 50_000, DELTA, { marker: true }), 60), undefined, 'not from a delta');
  assert.equal(s.takeKeyFrameRequest(), true, 'asked again');
  const old = s.push(rtp(1111, 102, 8200, DELTA, { marker: true }), 80)!;
  assert.deepEqual([head(old).seq, head(old).ts], [2, 7200], 'the old source goes on until then');
  const first = s.push(rtp(2222, 7001, 53_600, KEY, { marker: true }), 100)!;
  // 20 ms after the old source's last packet: 1800 ticks of 90 kHz on
  assert.deepEqual([head(first).seq, head(first).ts, head(first).ssrc], [3, 7200 + 1800, OUT.ssrc]);
  assert.equal(s.carrying, 2222);
  assert.equal(s.push(rtp(1111, 103, 11_800, DELTA, { marker: true }), 110), undefined, 'the old is dropped');
  const next = s.push(rtp(2222, 7002, 57_200, DELTA, { marker: true }), 140)!;
  assert.deepEqual([head(next).seq, head(next).ts], [4, 9000 + 3600]);
  assert.equal(s.stats.switches, 2);
  assert.equal(s.stats.lastGapMs, 20, 'the picture stood still for 20 ms');
});

test('audio switches at the first packet of the new source', () => {
  const s = new RtpSplicer('audio', { ...OUT, clockRate: 48000 }, { payloads: [OPUS_SILENCE], frameMs: 20 });
  s.want(1);
  assert.equal(s.takeKeyFrameRequest(), false);
  s.push(rtp(1, 10, 0, Buffer.from([1])), 0);
  s.want(2);
  const p = s.push(rtp(2, 900, 123_456, Buffer.from([2])), 20)!;
  assert.deepEqual([head(p).seq, head(p).ts], [1, 960]);
});

test('no source: filler on the same timeline, in real time; the next source takes over at its key frame', () => {
  const s = video();
  s.want(1111);
  s.push(rtp(1111, 100, 1000, KEY, { marker: true }), 0);
  s.want(undefined); // closed or paused
  const filler = s.fill(100);
  // the span begins at 100 and its first frame is due at once
  assert.equal(filler.length, 1);
  assert.deepEqual(head(filler[0]!), { marker: true, pt: 96, seq: 1, ts: 9000, ssrc: OUT.ssrc });
  assert.deepEqual(filler[0]!.subarray(12), KEY);
  assert.equal(s.carrying, 'filler');
  const more = s.fill(221);
  assert.deepEqual(
    more.map((p) => [head(p).seq, head(p).ts]),
    [
      [2, 9000 + 3600],
      [3, 9000 + 7200],
      [4, 9000 + 10_800],
    ],
    'one frame every 40 ms, stamped on their own schedule',
  );
  s.want(3333);
  assert.equal(s.push(rtp(3333, 5, 77, DELTA, { marker: true }), 235), undefined);
  assert.equal(s.fill(262).length, 1, 'filler until the key frame');
  const first = s.push(rtp(3333, 6, 3677, KEY, { marker: true }), 270)!;
  assert.deepEqual([head(first).seq, head(first).ts], [6, 9000 + 14_400 + 900]);
  assert.deepEqual(s.fill(300), []);
  assert.equal(s.stats.fillerSpans, 1);
});

test('a source that goes silent is covered by filler, also the old one while the new one has sent no key frame', () => {
  const s = video();
  s.want(1111);
  s.push(rtp(1111, 1, 0, KEY, { marker: true }), 0);
  for (let at = 20; at < VIDEO_SILENT_MS; at += 20) assert.deepEqual(s.fill(at), []);
  assert.equal(s.fill(VIDEO_SILENT_MS + 1).length, 1);
  // a starved process: its first fill() in a long while does not take unread packets for a dead source
  const starved = video();
  starved.want(1111);
  starved.push(rtp(1111, 1, 0, KEY, { marker: true }), 0);
  starved.fill(10);
  assert.deepEqual(starved.fill(VIDEO_SILENT_MS + 500), [], 'late: not silent yet');
  assert.ok(starved.push(rtp(1111, 2, 3600, DELTA, { marker: true }), VIDEO_SILENT_MS + 501));
  const t = video();
  t.want(1111);
  t.push(rtp(1111, 1, 0, KEY, { marker: true }), 0);
  t.want(2222);
  for (let at = 10; at < 3 * VIDEO_SILENT_MS; at += 40) {
    t.push(rtp(1111, 2 + at, at * 90, DELTA, { marker: true }), at);
    assert.deepEqual(t.fill(at), []);
  }
  assert.equal(t.carrying, 1111, 'the old source is carried as long as the new one sends no key frame');
  let filled = 0;
  for (let at = 3 * VIDEO_SILENT_MS; at <= 4 * VIDEO_SILENT_MS + 20; at += 20) filled += t.fill(at).length;
  assert.ok(filled > 0, 'until it goes silent');
  assert.equal(t.carrying, 'filler');
  const a = new RtpSplicer('audio', { ...OUT, clockRate: 48000 }, { payloads: [OPUS_SILENCE], frameMs: 20 });
  a.want(1);
  a.push(rtp(1, 1, 0, Buffer.from([1])), 0);
  for (let at = 20; at <= AUDIO_SILENT_MS; at += 20) assert.deepEqual(a.fill(at), []);
  assert.equal(a.fill(AUDIO_SILENT_MS + 10).length, 1);
});

test('sender reports give one linear clock for the whole life of the splicer: late or early packets never move it', () => {
  const s = video();
  assert.equal(s.senderReport(0, 0), undefined, 'nothing sent yet');
  s.want(1111);
  s.push(rtp(1111, 1, 0, KEY, { marker: true }), 1000);
  const wall = Date.UTC(2026, 0, 1, 8, 0, 0, 500);
  const sr = s.senderReport(1100, wall)!;
  assert.equal(sr.length, 28);
  assert.deepEqual([sr[0], sr[1], sr.readUInt16BE(2), sr.readUInt32BE(4)], [0x80, 200, 6, OUT.ssrc]);
  assert.equal(sr.readUInt32BE(8), Math.floor(wall / 1000) + 2_208_988_800);
  assert.equal(sr.readUInt32BE(12), 2 ** 31, 'half a second');
  assert.equal(sr.readUInt32BE(16), 9000, '100 ms after the first packet');
  const tsAt = (now: number) => s.senderReport(now, wall)!.readUInt32BE(16);
  s.push(rtp(1111, 2, 3600, DELTA, { marker: true }), 1340); // 300 ms late (a stalled process)
  s.push(rtp(1111, 3, 7200, DELTA, { marker: true }), 1060); // early
  for (let i = 0; i < 100; i++) s.push(rtp(1111, 4 + i, 10_800 + i * 3600, DELTA), 2120 + 40 * i); // 1 s late
  assert.equal(tsAt(1400), 36_000);
  assert.equal(tsAt(7000), 540_000);
});

test('a new span starts where its first packet arrives on that clock, never before the last packet sent', () => {
  const s = video();
  s.want(1111);
  s.push(rtp(1111, 1, 0, KEY, { marker: true }), 0);
  // a source that ran ahead of the clock (it caught up after a late start): 1 s of media in 0.5 s
  for (let i = 1; i <= 25; i++) s.push(rtp(1111, 1 + i, i * 3600, DELTA, { marker: true }), i * 20);
  s.want(2222);
  const first = s.push(rtp(2222, 1, 5, KEY, { marker: true }), 600)!;
  assert.equal(head(first).ts, 90_000 + 90, 'just after the last packet, not back at 600 ms');
  s.want(3333);
  const later = s.push(rtp(3333, 1, 5, KEY, { marker: true }), 3000)!;
  assert.equal(head(later).ts, 270_000, 'at 3 s on the clock: the pause is kept');
});

test('a source whose timestamps fall behind the clock (or run ahead) is moved towards it, 50 ms a second at most', () => {
  const behind = video();
  behind.want(1111);
  // stamped by frame count and starved: 20 ms of media every 40 ms
  let last = 0;
  for (let i = 0; i <= 125; i++) {
    const p = behind.push(rtp(1111, i, i * 1800, i === 0 ? KEY : DELTA, { marker: true }), i * 40)!;
    assert.ok(i === 0 || ((head(p).ts - last) | 0) > 0, 'always forward');
    last = head(p).ts;
  }
  // 2.5 s behind after 5 s without the slew; windows 2..5 each moved it 50 ms
  assert.equal(behind.stats.slewedMs, 200);
  const ahead = video();
  ahead.want(2222);
  for (let i = 0; i <= 125; i++)
    ahead.push(rtp(2222, i, i * 7200, i === 0 ? KEY : DELTA, { marker: true }), i * 40);
  // every window, the first too (its packets were early on the first one's clock)
  assert.equal(ahead.stats.slewedMs, -250);
  const onTime = video();
  onTime.want(3333);
  for (let i = 0; i <= 125; i++)
    onTime.push(rtp(3333, i, i * 3600, i === 0 ? KEY : DELTA, { marker: true }), i * 40);
  assert.equal(onTime.stats.slewedMs, 0);
});

test("a publisher's audio and video anchored apart (a late first packet) settle on one clock: in sync within 30 ms", () => {
  const AOUT = { ssrc: 0x12345678, payloadType: 111, clockRate: 48000 };
  const a = new RtpSplicer('audio', AOUT, { payloads: [OPUS_SILENCE], frameMs: 20 });
  const v = video();
  a.want(1111);
  v.want(2222);
  // captured together from t=0; this publisher's packets take 10 ms to arrive, but the first audio packet
  // came 120 ms late (a burst) and the first video packet 15 ms late
  const audioAt = (i: number) => (i === 0 ? 120 : 10 + i * 20);
  const videoAt = (i: number) => (i === 0 ? 15 : 10 + i * 40);
  const outMs = { audio: [] as number[], video: [] as number[] };
  for (let t = 0; t <= 8000; t += 20) {
    const i = t / 20;
    const pa = a.push(rtp(1111, i, i * 960, Buffer.from([0xfc, 0xff])), audioAt(i));
    if (pa) outMs.audio[i] = head(pa).ts / 48;
    if (i % 2 === 0) {
      const j = i / 2;
      const pv = v.push(rtp(2222, j, j * 3600, j === 0 ? KEY : DELTA, { marker: true }), videoAt(j));
      if (pv) outMs.video[j] = head(pv).ts / 90;
    }
  }
  // what was captured together at 7 s goes out with timestamps (on each kind's clock since its first packet)
  const zero = { audio: 120, video: 15 }; // each splicer's clock began at its first packet
  const audio7 = outMs.audio[350]! + zero.audio;
  const video7 = outMs.video[175]! + zero.video;
  assert.ok(Math.abs(audio7 - video7) <= 30, `A/V ${(audio7 - video7).toFixed(1)} ms apart`);
  // unsettled, they would be 105 ms apart
  assert.ok(a.stats.slewedMs < 0 && Math.abs(v.stats.slewedMs) <= 20, JSON.stringify([a.stats, v.stats]));
});

/**
 * A publisher captures audio and video together from t=0; its audio arrives 10 ms after capture, its picture
 * 160 ms after (the sender's encoder held it back). Returns how far apart (ms) what was captured together at
 * 7 s goes out, on the wall clock each splicer's sender reports give it.
 */
function captureSkew(sync: CaptureSync | undefined, layers: number): { skewMs: number; byCapture: number } {
  const AOUT = { ssrc: 0x12345678, payloadType: 111, clockRate: 48000 };
  const a = new RtpSplicer('audio', AOUT, { payloads: [OPUS_SILENCE], frameMs: 20 }, sync);
  const v = new RtpSplicer('video', OUT, { payloads: [KEY], frameMs: 40 }, sync);
  a.want(1111);
  v.want(2222);
  const senderEpochMs = ntpToMs(3_970_000_000, 2 ** 31); // the sender's clock at capture t=0
  const VIDEO_TS0 = 123_456;
  const report = (t: number) => {
    sync?.report(1111, 0xa0, { ntpMs: senderEpochMs + t, rtpTs: t * 48 });
    // a simulcast camera: each layer its own timestamp origin; the consumer carries layer 0's timestamps
    for (let l = 0; l < layers; l++)
      sync?.report(2222, 0xb0 + l, {
        ntpMs: senderEpochMs + t,
        rtpTs: (VIDEO_TS0 + l * 987_654_321 + t * 90) >>> 0,
      });
  };
  const outMs = { audio: [] as number[], video: [] as number[] };
  for (let t = 0; t <= 8000; t += 20) {
    if (t % 1000 === 500) report(t - 100);
    const i = t / 20;
    const pa = a.push(rtp(1111, i, i * 960, Buffer.from([0xfc, 0xff])), t + 10);
    if (pa) outMs.audio[i] = head(pa).ts / 48;
    if (i % 2 === 0) {
      const j = i / 2;
      const pv = v.push(rtp(2222, j, VIDEO_TS0 + j * 3600, j === 0 ? KEY : DELTA, { marker: true }), t + 160);
      if (pv) outMs.video[j] = head(pv).ts / 90;
    }
  }
  const zero = { audio: 10, video: 160 }; // each splicer's clock began at its first packet
  return {
    skewMs: outMs.video[175]! + zero.video - (outMs.audio[350]! + zero.audio),
    byCapture: a.stats.byCapture + v.stats.byCapture,
  };
}

test("by the sender's reports, a picture its encoder held back 150 ms is put back on its sound: within 30 ms", () => {
  const byArrival = captureSkew(undefined, 1);
  assert.ok(Math.abs(byArrival.skewMs - 150) <= 30, `by arrival ${byArrival.skewMs.toFixed(1)} ms`);
  assert.equal(byArrival.byCapture, 0);
  for (const layers of [1, 3]) {
    const byCapture = captureSkew(new CaptureSync(15), layers);
    assert.ok(
      Math.abs(byCapture.skewMs) <= 30,
      `${layers} layer(s): A/V ${byCapture.skewMs.toFixed(1)} ms apart`,
    );
    assert.ok(byCapture.byCapture > 500, JSON.stringify(byCapture));
  }
});

test('RTCP, padding-only and malformed packets are not carried; sequence numbers and timestamps wrap', () => {
  const s = video();
  s.want(1111);
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  assert.equal(s.push(sr, 0), undefined);
  assert.equal(s.push(Buffer.alloc(5), 0), undefined);
  const padded = rtp(1111, 1, 0, Buffer.from([0, 0, 0, 4]));
  padded[0] = 0xa0;
  assert.equal(s.push(padded, 0), undefined);
  s.push(rtp(1111, 0xffff, 0xffffffff, KEY, { marker: true }), 0);
  const p = s.push(rtp(1111, 0, 3599, DELTA, { marker: true }), 40)!;
  assert.deepEqual([head(p).seq, head(p).ts], [1, 3600]);
});
