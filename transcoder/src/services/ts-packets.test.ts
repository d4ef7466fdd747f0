import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patProgramMapPids, tablesBefore, TS_PACKET } from './ts-packets.js';

/** A TS packet of `pid`, payload unit start set, `payload` after the 4-byte header, stuffed with 0xff. */
function packet(pid: number, payload: number[] = []): number[] {
  const p = new Array<number>(TS_PACKET).fill(0xff);
  p.splice(0, 4 + payload.length, 0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10, ...payload);
  return p.slice(0, TS_PACKET);
}
/** A PAT naming program 1 at PMT PID 0x1000 (pointer field, section header, one entry, CRC bytes). */
const pat = () =>
  packet(0, [0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0, 0, 0, 0]);
const pmt = () => packet(0x1000, [0x00, 0x02]);
const video = () => packet(0x100);
const audio = () => packet(0x101);

test('a PAT names its PMT PIDs', () => {
  assert.deepEqual(patProgramMapPids(Uint8Array.from(pat()), 0), [0x1000]);
  assert.deepEqual(patProgramMapPids(Uint8Array.from(video()), 0), []);
});

test('an I-frame range starts at the PAT and PMT before its keyframe, else at the keyframe', () => {
  // SDT, PAT, PMT, key | audio, video | PAT, PMT, key
  const ts = Uint8Array.from([
    ...packet(0x11),
    ...pat(),
    ...pmt(),
    ...video(),
    ...audio(),
    ...video(),
    ...pat(),
    ...pmt(),
    ...video(),
  ]);
  assert.equal(tablesBefore(ts, 3 * TS_PACKET), 1 * TS_PACKET);
  assert.equal(tablesBefore(ts, 8 * TS_PACKET), 6 * TS_PACKET);
  // a keyframe with no PMT between the last PAT and itself, and one with no PAT at all
  const noPmt = Uint8Array.from([...pat(), ...audio(), ...video()]);
  assert.equal(tablesBefore(noPmt, 2 * TS_PACKET), 2 * TS_PACKET);
  const bare = Uint8Array.from([...audio(), ...video()]);
  assert.equal(tablesBefore(bare, TS_PACKET), TS_PACKET);
});
