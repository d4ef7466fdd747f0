// Lip sync by the sender's own clock. A browser stamps audio and video on one capture clock and says how
// each RTP timestamp maps to it in its RTCP sender reports (RFC 3550 §6.4.1): that is how a WebRTC receiver
// keeps a speaker's lips on their voice. mediasoup's consumers write sender reports of their own, from when
// packets reached it, so the relay takes the publisher's reports from its producers (their 'sr' trace) and
// places audio and video at (capture time + one delay the two kinds share). Placing by arrival alone lets
// the sender's encoder queue or a starved moment put the picture 100–200 ms behind the sound. Pure: the relay
// adapter (adapters/bridge-relay.ts) feeds it, services/rtp-splice.ts uses it.
import type { SpliceKind } from './rtp-splice.js';

/** One RTP stream's last sender report: capture time (ms on the sender's clock) at an RTP timestamp. */
export interface SenderClock {
  ntpMs: number;
  rtpTs: number;
}

const NTP_EPOCH_OFFSET_SEC = 2_208_988_800;

/** An RTCP sender report's NTP time (seconds, 2^-32 fractions since 1900) in ms since 1970. */
export function ntpToMs(seconds: number, fraction: number): number {
  return (seconds - NTP_EPOCH_OFFSET_SEC) * 1000 + (fraction / 2 ** 32) * 1000;
}

/** A kind's delay (arrival − capture) is offered once a window; offers older than this no longer count. */
const OFFER_TTL_MS = 3000;
/**
 * A simulcast camera has a report per layer and each layer its own timestamp origin: of its mappings, the
 * one placing a packet within this of the shared delay is the consumer's (the others are seconds or hours
 * off).
 */
const LAYER_SPREAD_MS = 2000;

/**
 * The delay both kinds of one publisher are placed at: the larger of the two kinds' least delays, so the
 * later kind's packets are still on time. It moves only when it drifts more than `hysteresisMs`: a window's
 * least delay jitters, and every move is a step ffmpeg fills or trims.
 */
export class CaptureSync {
  /** carried SSRC (the relay's consumer) → RTP stream SSRC (a layer of its producer) → its last report */
  private readonly clocks = new Map<number, Map<number, SenderClock>>();
  private readonly offers: Partial<Record<SpliceKind, { least: number; at: number }>> = {};
  private shared: number | undefined;

  constructor(private readonly hysteresisMs: number) {}

  /** The delay (ms) packets are placed at after their capture, once a kind has offered one. */
  get delay(): number | undefined {
    return this.shared;
  }

  /** Each kind's least delay (ms) as last offered: what the shared delay follows (for logs). */
  get offered(): Partial<Record<SpliceKind, number>> {
    return Object.fromEntries(Object.entries(this.offers).map(([k, o]) => [k, o.least]));
  }

  /** A sender report of `stream`, one of the RTP streams behind the carried source `carried`. */
  report(carried: number, stream: number, clock: SenderClock): void {
    let streams = this.clocks.get(carried);
    if (!streams) this.clocks.set(carried, (streams = new Map<number, SenderClock>()));
    streams.set(stream, clock);
  }

  /** The carried source is gone. */
  forget(carried: number): void {
    this.clocks.delete(carried);
  }

  /**
   * When the packet of RTP timestamp `ts` of `carried` was captured (ms on its sender's clock), or
   * undefined: no report yet, or several layers and nothing yet to tell them apart by.
   */
  captureMs(carried: number, ts: number, clockRate: number, now: number): number | undefined {
    const streams = this.clocks.get(carried);
    if (!streams || streams.size === 0) return undefined;
    const at = (c: SenderClock) => c.ntpMs + (((ts - c.rtpTs) | 0) * 1000) / clockRate;
    if (streams.size === 1) return at(streams.values().next().value!);
    if (this.shared === undefined) return undefined;
    let best: number | undefined;
    let bestOff = LAYER_SPREAD_MS;
    for (const c of streams.values()) {
      const off = Math.abs(now - at(c) - this.shared);
      if (off <= bestOff) [best, bestOff] = [at(c), off];
    }
    return best;
  }

  /** A kind's least delay (arrival − capture, ms) over its last window. */
  offer(kind: SpliceKind, least: number, now: number): void {
    this.offers[kind] = { least, at: now };
    const fresh = Object.values(this.offers)
      .filter((o) => now - o.at <= OFFER_TTL_MS)
      .map((o) => o.least);
    const want = Math.max(...fresh);
    if (this.shared === undefined || Math.abs(want - this.shared) > this.hysteresisMs) this.shared = want;
  }
}
