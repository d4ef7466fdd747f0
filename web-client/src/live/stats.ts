// What the live pages read from WebRTC's getStats(): the sender's network quality, a receiver's frames.

/** `lost`: no connection to the live server (the client is reconnecting or moving to another node). */
export type Quality = 'good' | 'fair' | 'poor' | 'unknown' | 'lost';

export interface SendSample {
  at: number;
  bytesSent: number;
  packetsSent: number;
  packetsLost: number;
  rttMs: number | undefined;
}

export interface NetworkReading {
  quality: Quality;
  rttMs: number | undefined;
  bitrateKbps: number | undefined;
  lossPct: number | undefined;
}

type StatsEntry = Record<string, unknown> & { type: string };

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Totals over every outbound stream (simulcast layers, mic, screen) plus the selected pair's RTT. */
export function readSendSample(report: RTCStatsReport, at: number): SendSample {
  let bytesSent = 0;
  let packetsSent = 0;
  let packetsLost = 0;
  let rttMs: number | undefined;
  let remoteRtt: number | undefined;
  report.forEach((raw: StatsEntry) => {
    if (raw.type === 'outbound-rtp') {
      bytesSent += num(raw['bytesSent']) ?? 0;
      packetsSent += num(raw['packetsSent']) ?? 0;
    } else if (raw.type === 'remote-inbound-rtp') {
      packetsLost += Math.max(0, num(raw['packetsLost']) ?? 0);
      const r = num(raw['roundTripTime']);
      if (r !== undefined) remoteRtt = Math.max(remoteRtt ?? 0, r * 1000);
    } else if (raw.type === 'candidate-pair' && (raw['nominated'] === true || raw['state'] === 'succeeded')) {
      const r = num(raw['currentRoundTripTime']);
      if (r !== undefined) rttMs = r * 1000;
    }
  });
  return { at, bytesSent, packetsSent, packetsLost, rttMs: rttMs ?? remoteRtt };
}

/** good: RTT < 150 ms and loss < 2 %; poor: RTT > 400 ms or loss > 8 %; fair in between. */
export function qualityOf(rttMs: number | undefined, lossPct: number | undefined): Quality {
  if (rttMs === undefined && lossPct === undefined) return 'unknown';
  const rtt = rttMs ?? 0;
  const loss = lossPct ?? 0;
  if (rtt > 400 || loss > 8) return 'poor';
  if (rtt < 150 && loss < 2) return 'good';
  return 'fair';
}

/** The reading between two samples of the same sender. */
export function networkReading(prev: SendSample | null, cur: SendSample): NetworkReading {
  if (!prev || cur.at <= prev.at) {
    return {
      quality: qualityOf(cur.rttMs, undefined),
      rttMs: cur.rttMs,
      bitrateKbps: undefined,
      lossPct: undefined,
    };
  }
  const sec = (cur.at - prev.at) / 1000;
  const bitrateKbps = Math.max(0, ((cur.bytesSent - prev.bytesSent) * 8) / 1000 / sec);
  const sent = cur.packetsSent - prev.packetsSent;
  const lost = Math.max(0, cur.packetsLost - prev.packetsLost);
  const lossPct = sent > 0 ? (100 * lost) / (sent + lost) : undefined;
  return { quality: qualityOf(cur.rttMs, lossPct), rttMs: cur.rttMs, bitrateKbps, lossPct };
}

export interface ReceiveReading {
  framesDecoded: number;
  bytesReceived: number;
  frameWidth: number | undefined;
  frameHeight: number | undefined;
  framesPerSecond: number | undefined;
}

/**
 * The consumer's own inbound-rtp (by its SSRC: mediasoup's bandwidth probe shows up as a second
 * inbound-rtp, SSRC 1234, that never decodes).
 */
export function readReceive(report: RTCStatsReport, ssrc: number | undefined): ReceiveReading | null {
  let found: ReceiveReading | null = null;
  report.forEach((raw: StatsEntry) => {
    if (raw.type !== 'inbound-rtp') return;
    if (ssrc !== undefined && raw['ssrc'] !== ssrc) return;
    if (ssrc === undefined && raw['ssrc'] === 1234) return;
    found = {
      framesDecoded: num(raw['framesDecoded']) ?? 0,
      bytesReceived: num(raw['bytesReceived']) ?? 0,
      frameWidth: num(raw['frameWidth']),
      frameHeight: num(raw['frameHeight']),
      framesPerSecond: num(raw['framesPerSecond']),
    };
  });
  return found;
}
