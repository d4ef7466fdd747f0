/**
 * MPEG-TS packets, just enough to start an I-frame byte range where a decoder can start: at the PAT and
 * PMT that precede the keyframe (a decoder knows no stream of a transport stream before it has read both).
 */
export const TS_PACKET = 188;
const SYNC = 0x47;

const pidAt = (ts: Uint8Array, at: number) => ((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!;
const unitStart = (ts: Uint8Array, at: number) => (ts[at + 1]! & 0x40) !== 0;

/** The PMT PIDs a PAT packet names (program 0, the network PID, is not one). */
export function patProgramMapPids(ts: Uint8Array, at: number): number[] {
  if (ts[at] !== SYNC || pidAt(ts, at) !== 0 || !unitStart(ts, at)) return [];
  const control = (ts[at + 3]! >> 4) & 0x3;
  let p = at + 4;
  if (control === 2 || control === 3) p += 1 + ts[p]!;
  if (control === 2) return [];
  const section = p + 1 + ts[p]!; // pointer_field
  if (ts[section] !== 0x00) return []; // table_id: program_association_section
  const length = ((ts[section + 1]! & 0x0f) << 8) | ts[section + 2]!;
  const end = Math.min(section + 3 + length - 4, at + TS_PACKET); // before the CRC
  const pids: number[] = [];
  for (let e = section + 8; e + 4 <= end; e += 4) {
    const program = (ts[e]! << 8) | ts[e + 1]!;
    if (program !== 0) pids.push(((ts[e + 2]! & 0x1f) << 8) | ts[e + 3]!);
  }
  return pids;
}

/**
 * Where the I-frame range of the keyframe whose first packet is at `keyAt` should start: the last PAT
 * before it that is followed, before the keyframe, by a PMT it names (ffmpeg writes both just ahead of
 * every keyframe). Without such tables in the segment, the keyframe itself.
 */
export function tablesBefore(ts: Uint8Array, keyAt: number): number {
  for (let at = keyAt - TS_PACKET; at >= 0; at -= TS_PACKET) {
    if (ts[at] !== SYNC || pidAt(ts, at) !== 0) continue;
    const pmts = patProgramMapPids(ts, at);
    for (let q = at + TS_PACKET; q < keyAt; q += TS_PACKET) {
      if (pmts.includes(pidAt(ts, q)) && unitStart(ts, q)) return at;
    }
    return keyAt;
  }
  return keyAt;
}
