// One continuous RTP stream per kind for the bridge's ffmpeg while the producer behind it changes (camera ↔
// screen, a teacher's reload, a worker death): each source's packets get the output's SSRC, payload type,
// and sequence numbers and timestamps that carry on from the last packet sent, so ffmpeg never sees a new
// stream and never restarts. Video switches only at a key frame of the new source (the old one is carried
// until then); while there is no source, a paused one or a silent one, the splicer sends filler (a black VP8
// key frame, Opus silence) on the same timeline, and its sender reports map that timeline to the wall clock
// so ffmpeg keeps audio and video in sync. Given the publisher's own sender reports (services/capture-sync.ts),
// each packet is placed by when it was captured, not when it arrived. Pure: the relay adapter
// (adapters/bridge-relay.ts) does the I/O.
import type { CaptureSync } from './capture-sync.js';

export type SpliceKind = 'audio' | 'video';

/** What ffmpeg is told it receives (the SDP) for one kind. */
export interface SpliceOutput {
  ssrc: number;
  payloadType: number;
  clockRate: number;
}

/** The filler: payloads of one frame (a packet each, in order) and how long a frame lasts. */
export interface SpliceFiller {
  payloads: readonly Buffer[];
  frameMs: number;
}

/** A video source that sends nothing for this long (a dead publisher) is replaced by filler. */
export const VIDEO_SILENT_MS = 2000;
/**
 * Audio comes every 20 ms, but a starved publisher delivers late, in bursts: only a gap this long counts as a
 * dead source (a pause or a close says so at once); ffmpeg's aresample fills shorter holes.
 */
export const AUDIO_SILENT_MS = 2000;
/** A fill() this late means this process was starved: packets may be waiting unread, the source is not dead. */
const LATE_FILL_MS = 200;

/** Opus's own silence frame (20 ms, CELT): what a muted WebRTC sender sends too. */
export const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
const RTP_HEADER = 12;
/**
 * Each span is kept where its least-delayed packets arrive on the splicer's clock: within SYNC_BAND_MS
 * behind it, over a window of SLEW_WINDOW_MS. A span is anchored at its first packet, which may itself have
 * come late (a burst, a starved moment): its later packets then look early, and audio and video, anchored
 * apart, would stay that far out of sync. Measured against the least delay of a whole window (not its
 * first packet), both kinds of one publisher settle on the same clock. A source that stamps frames by count
 * and fell behind (or ran ahead) is moved back towards it too. Each window moves a span at most SLEW_MS
 * forward, and backward never before the last packet sent: small steps ffmpeg fills or trims.
 * With the publisher's sender reports (a CaptureSync), a packet is placed by its capture time instead: at
 * the delay both kinds share, so a picture the sender's encoder held back lines up with its sound again.
 */
export const SYNC_BAND_MS = 30;
const SLEW_WINDOW_MS = 1000;
const SLEW_MS = 50;
const NTP_EPOCH_OFFSET_SEC = 2_208_988_800;

/** RTCP (payload types 192–223) shares the port with RTP when muxed. */
export function isRtcp(packet: Buffer): boolean {
  return packet.length >= 2 && packet[1]! >= 192 && packet[1]! <= 223;
}

interface RtpView {
  ssrc: number;
  seq: number;
  timestamp: number;
  payload: Buffer;
}

function parseRtp(packet: Buffer): RtpView | undefined {
  if (packet.length < RTP_HEADER || packet[0]! >> 6 !== 2 || isRtcp(packet)) return undefined;
  let offset = RTP_HEADER + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  const end = packet.length - padding;
  if (end <= offset) return undefined; // padding only (probation, bandwidth probes): nothing for ffmpeg
  return {
    ssrc: packet.readUInt32BE(8),
    seq: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    payload: packet.subarray(offset, end),
  };
}

/** The first packet of a VP8 key frame (RFC 7741: S=1, partition 0, P=0 in the payload header). */
export function isVp8KeyFrameStart(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const d = payload[0]!;
  if (!(d & 0x10) || (d & 0x0f) !== 0) return false;
  let at = 1;
  if (d & 0x80) {
    const x = payload[at++];
    if (x === undefined) return false;
    if (x & 0x80) at += (payload[at] ?? 0) & 0x80 ? 2 : 1;
    if (x & 0x40) at += 1;
    if (x & 0x20 || x & 0x10) at += 1;
  }
  const header = payload[at];
  return header !== undefined && (header & 0x01) === 0;
}

/** A VP8 frame cut into RTP payloads of at most `max` bytes (descriptor: S on the first, partition 0). */
export function packetizeVp8(frame: Buffer, max = 1100): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < frame.length; at += max)
    out.push(Buffer.concat([Buffer.from([at === 0 ? 0x10 : 0x00]), frame.subarray(at, at + max)]));
  return out;
}

/** The frames of an IVF file (what `ffmpeg -f ivf` writes). */
export function ivfFrames(ivf: Buffer): Buffer[] {
  if (ivf.length < 32 || ivf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const frames: Buffer[] = [];
  for (let at = ivf.readUInt16LE(6); at + 12 <= ivf.length;) {
    const size = ivf.readUInt32LE(at);
    frames.push(ivf.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}

/** Where the output timeline stands: the last packet sent, and when (ms). */
interface Cursor {
  seq: number;
  timestamp: number;
  at: number;
}

/** A run of packets from one source (or the filler) placed on the output timeline. */
interface Span {
  source: number | 'filler';
  seqOffset: number;
  tsOffset: number;
  /** filler only: when it began, and frames sent so far */
  startedAt: number;
  frames: number;
  /**
   * How late (ms, + behind) its least-delayed packet was on the clock in the current window, and its least
   * delay after capture (arrival − capture, ms) when the sender's clock is known.
   */
  window: { from: number; least: number; leastDelay: number };
}

export class RtpSplicer {
  /** The source the bridge wants carried (undefined: none, or paused). */
  private wanted: number | undefined;
  private span: Span | undefined;
  private cursor: Cursor | undefined;
  /** When the carried source last sent a packet. */
  private lastInAt = 0;
  private keyFrameWanted = false;
  /** Filler packets sent in the current span (their sequence numbers). */
  private sentInSpan = 0;
  private lastFillAt: number | undefined;
  /**
   * When (ms) the output timeline was at 0: fixed at the first span, the sender reports say exactly this
   * linear clock for the whole life of the splicer. ffmpeg re-anchors its timestamps at every report, so a
   * mapping that moved (followed late or early packets) would make its timestamps jump, and a jump across
   * a rebuilt graph leaves a hole; each span is placed on this clock instead, at its first packet.
   */
  private zeroAt: number | undefined;
  /** The source timestamp of the last packet carried (a frame's packets share one). */
  private lastSourceTs: number | undefined;
  /**
   * Counters for logs and tests; `lastGapMs`: nothing sent between the last span and the newest one;
   * `byCapture`: packets placed by their capture time.
   */
  readonly stats = {
    switches: 0,
    fillerSpans: 0,
    dropped: 0,
    packets: 0,
    lastGapMs: 0,
    slewedMs: 0,
    byCapture: 0,
  };

  constructor(
    readonly kind: SpliceKind,
    private readonly output: SpliceOutput,
    private readonly filler: SpliceFiller,
    private readonly sync?: CaptureSync,
  ) {}

  /** The source now carried: an SSRC, 'filler', or undefined before the first packet. */
  get carrying(): number | 'filler' | undefined {
    return this.span?.source;
  }

  /** Asks once for a key frame of the wanted source (the adapter forwards it to mediasoup); resets. */
  takeKeyFrameRequest(): boolean {
    const want = this.keyFrameWanted;
    this.keyFrameWanted = false;
    return want;
  }

  /** The source to carry from now on (its SSRC), or none (gone or paused): filler until there is one. */
  want(ssrc: number | undefined): void {
    if (ssrc === this.wanted) return;
    this.wanted = ssrc;
    if (ssrc !== undefined && this.kind === 'video') this.keyFrameWanted = true;
  }

  /** An RTP packet from mediasoup → the packet for ffmpeg, or undefined (not carried). */
  push(packet: Buffer, now: number): Buffer | undefined {
    const rtp = parseRtp(packet);
    if (!rtp) return undefined;
    const carried = this.span?.source === rtp.ssrc;
    if (rtp.ssrc === this.wanted && !carried) {
      // video only starts on a key frame: the decoder holds the previous source's (or the filler's) frames
      if (this.kind === 'video' && !isVp8KeyFrameStart(rtp.payload)) {
        this.keyFrameWanted = true;
        this.stats.dropped++;
        return undefined;
      }
      this.begin(rtp.ssrc, rtp.seq, rtp.timestamp, now);
      this.stats.switches++;
    } else if (!carried) {
      this.stats.dropped++;
      return undefined;
    }
    // the old source is still carried until the new one's key frame (no frozen or black picture meanwhile),
    // unless it went silent (fill)
    const span = this.span!;
    this.lastInAt = now;
    if (span.source !== 'filler') this.slew(span, rtp.ssrc, rtp.timestamp, now);
    const seq = (rtp.seq + span.seqOffset) & 0xffff;
    const timestamp = (rtp.timestamp + span.tsOffset) >>> 0;
    this.advance(seq, timestamp, now);
    this.stats.packets++;
    const out = Buffer.from(packet);
    out[1] = (packet[1]! & 0x80) | this.output.payloadType;
    out.writeUInt16BE(seq, 2);
    out.writeUInt32BE(timestamp, 4);
    out.writeUInt32BE(this.output.ssrc, 8);
    return out;
  }

  /**
   * Filler packets due by `now` (call it every ~20 ms): while no source is carried — none wanted, the
   * wanted one has not started and no other is carried, or the carried one went silent.
   */
  fill(now: number): Buffer[] {
    const late = this.lastFillAt !== undefined && now - this.lastFillAt > LATE_FILL_MS;
    this.lastFillAt = now;
    if (!this.fillerDue(now, late)) return [];
    if (this.span?.source !== 'filler') {
      this.begin('filler', 0, 0, now);
      this.stats.fillerSpans++;
    }
    const span = this.span!;
    const out: Buffer[] = [];
    const ticksPerFrame = Math.round((this.filler.frameMs * this.output.clockRate) / 1000);
    while (span.startedAt + span.frames * this.filler.frameMs <= now) {
      const timestamp = (span.tsOffset + span.frames * ticksPerFrame) >>> 0;
      const payloads = this.filler.payloads;
      payloads.forEach((payload, i) => {
        const seq = (span.seqOffset + this.sentInSpan++) & 0xffff;
        const header = Buffer.alloc(RTP_HEADER);
        header[0] = 0x80;
        header[1] = (i === payloads.length - 1 ? 0x80 : 0) | this.output.payloadType;
        header.writeUInt16BE(seq, 2);
        header.writeUInt32BE(timestamp, 4);
        header.writeUInt32BE(this.output.ssrc, 8);
        out.push(Buffer.concat([header, payload]));
        this.advance(seq, timestamp, span.startedAt + span.frames * this.filler.frameMs);
      });
      span.frames++;
    }
    return out;
  }

  /** An RTCP sender report mapping the output timeline to the wall clock (`wallMs`), once anything was sent. */
  senderReport(now: number, wallMs: number): Buffer | undefined {
    if (this.zeroAt === undefined) return undefined;
    const timestamp = Math.round(((now - this.zeroAt) * this.output.clockRate) / 1000) >>> 0;
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(this.output.ssrc, 4);
    const seconds = Math.floor(wallMs / 1000);
    sr.writeUInt32BE((seconds + NTP_EPOCH_OFFSET_SEC) >>> 0, 8);
    sr.writeUInt32BE(Math.floor(((wallMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0, 12);
    sr.writeUInt32BE(timestamp, 16);
    sr.writeUInt32BE(this.stats.packets >>> 0, 20);
    return sr;
  }

  private fillerDue(now: number, late: boolean): boolean {
    const source = this.span?.source;
    if (source === 'filler' || source === undefined) {
      // a wanted source that has begun takes over in push(); until then the filler goes on
      return true;
    }
    if (this.wanted === undefined) return true; // gone or paused
    const silentMs = this.kind === 'video' ? VIDEO_SILENT_MS : AUDIO_SILENT_MS;
    return !late && now - this.lastInAt > silentMs;
  }

  /**
   * A new span: its first packet continues the output timeline — the next sequence number, and the
   * timestamp of `now` on the splicer's clock (at least 1 ms after the last one), so ffmpeg sees the real
   * pause and audio and video stay where they were captured.
   */
  private begin(source: number | 'filler', seq: number, timestamp: number, now: number): void {
    const rate = this.output.clockRate;
    const c = this.cursor;
    this.zeroAt ??= now;
    const nextSeq = c ? (c.seq + 1) & 0xffff : 0;
    const onClock = Math.round(((now - this.zeroAt) * rate) / 1000);
    const nextTs = c ? c.timestamp + Math.max((onClock - c.timestamp) | 0, rate / 1000) : onClock;
    this.stats.lastGapMs = c ? Math.round(now - c.at) : 0;
    this.span = {
      source,
      seqOffset: (nextSeq - seq) & 0xffff,
      tsOffset: (Math.round(nextTs) - timestamp) >>> 0,
      startedAt: now,
      frames: 0,
      window: { from: now, least: Infinity, leastDelay: Infinity },
    };
    this.sentInSpan = 0;
    if (source !== 'filler') this.lastInAt = now;
  }

  /** Keeps a span on the clock: see SYNC_BAND_MS. Only between frames, never inside one. */
  private slew(span: Span, ssrc: number, timestamp: number, now: number): void {
    const rate = this.output.clockRate;
    const out = (timestamp + span.tsOffset) >>> 0;
    const onClock = Math.round(((now - (this.zeroAt ?? now)) * rate) / 1000) >>> 0;
    const lateMs = (((onClock - out) | 0) * 1000) / rate;
    const w = span.window;
    w.least = Math.min(w.least, lateMs);
    const captured = this.sync?.captureMs(ssrc, timestamp, rate, now);
    if (captured !== undefined) {
      w.leastDelay = Math.min(w.leastDelay, now - captured);
      this.stats.byCapture++;
    }
    if (now - w.from < SLEW_WINDOW_MS || timestamp === this.lastSourceTs) {
      this.lastSourceTs = timestamp;
      return;
    }
    this.lastSourceTs = timestamp;
    let stepMs = 0;
    if (this.sync && captured !== undefined) {
      // by capture: where this packet belongs is its capture time plus the delay both kinds share, placed
      // like the least-delayed packet of the later kind (the middle of the band)
      this.sync.offer(this.kind, w.leastDelay, now);
      const belongsLateMs = now - captured - this.sync.delay! + SYNC_BAND_MS / 2;
      stepMs = lateMs - belongsLateMs;
      if (Math.abs(stepMs) < SYNC_BAND_MS / 10) stepMs = 0;
    } else if (w.least < 0 || w.least > SYNC_BAND_MS) {
      // by arrival, outside the band: aim for its middle
      stepMs = w.least - SYNC_BAND_MS / 2;
    }
    let step = Math.round((Math.max(-SLEW_MS, Math.min(SLEW_MS, stepMs)) * rate) / 1000);
    const c = this.cursor;
    // never back before the last packet sent: at most to just after it
    if (step < 0 && c) step = Math.max(step, ((c.timestamp - out) | 0) + Math.round(rate / 1000));
    if (step !== 0 && (step > 0 || !c || ((out + step - c.timestamp) | 0) > 0)) {
      span.tsOffset = (span.tsOffset + step) >>> 0;
      this.stats.slewedMs += Math.round((step * 1000) / rate);
    }
    span.window = { from: now, least: Infinity, leastDelay: Infinity };
  }

  private advance(seq: number, timestamp: number, at: number): void {
    // a late packet of the span (reordered) does not move the cursor back
    const c = this.cursor;
    if (c && (((seq - c.seq) << 16) >> 16 < 0 || ((timestamp - c.timestamp) | 0) < 0)) return;
    this.cursor = { seq, timestamp, at };
  }
}
