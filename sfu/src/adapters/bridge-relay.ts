// The bridge's RTP relay: mediasoup → this process → ffmpeg, so that ffmpeg's inputs stay the same for
// the whole lesson. Per kind, a PlainTransport on the room's router sends the consumers of the teacher's
// producers to one UDP socket here; services/rtp-splice.ts makes one continuous stream of them (or filler)
// and this relay sends it, with sender reports, to ffmpeg's RTP and RTCP ports. A new producer (screen
// share, a reload) or a new router (a worker death) changes only what is consumed here. The producers' own
// sender reports (their 'sr' trace: the publisher's capture clock) keep audio and video in sync.
import { createSocket, type Socket } from 'node:dgram';
import type * as mediasoup from 'mediasoup';
import { CaptureSync, ntpToMs } from '../services/capture-sync.js';
import {
  RtpSplicer,
  SYNC_BAND_MS,
  type SpliceFiller,
  type SpliceKind,
  type SpliceOutput,
} from '../services/rtp-splice.js';

type Router = mediasoup.types.Router;
type Producer = mediasoup.types.Producer;

const TICK_MS = 20;
const REPORT_MS = 500;
/** mediasoup honours no more than this anyway; a browser encoder needs a moment to answer. */
const KEY_FRAME_EVERY_MS = 500;

export interface RelayKind {
  /** The codec consumed from mediasoup, as its mime type ('video/VP8', 'audio/opus'). */
  mimeType: string;
  output: SpliceOutput;
  filler: SpliceFiller;
  /** ffmpeg's RTP port for this kind (RTCP on port + 1). */
  port: number;
}

export interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What one kind carries (an SSRC or 'filler'), the consumer it wants (its producer and SSRC), counters. */
export type RelayKindState = { carrying: string; producerId?: string; ssrc?: string } & RtpSplicer['stats'];

interface Carried {
  producerId: string;
  consumer: mediasoup.types.Consumer;
  ssrc: number;
  /** Stops listening to the producer's sender reports. */
  unwatch: () => void;
}

/** One kind's path: the socket mediasoup sends to, the transport on the current router, the consumers. */
class Leg {
  readonly splicer: RtpSplicer;
  transport: mediasoup.types.PlainTransport | undefined;
  /** The consumer of the producer the bridge wants, and the one still carried until the switch. */
  current: Carried | undefined;
  previous: Carried | undefined;
  lastKeyFrameAt = 0;
  /** What was carried at the last tick: changes are logged. */
  logged: number | 'filler' | undefined;

  constructor(
    readonly kind: SpliceKind,
    readonly spec: RelayKind,
    readonly socket: Socket,
    sync: CaptureSync,
  ) {
    this.splicer = new RtpSplicer(kind, spec.output, spec.filler, sync);
  }
}

export class BridgeRelay {
  private readonly legs: Leg[];
  private router: Router | undefined;
  private readonly timer: NodeJS.Timeout;
  private lastReportAt = 0;
  /** The shared delay last logged. */
  private loggedDelay: number | undefined;
  private closed = false;

  private constructor(
    legs: Leg[],
    private readonly sync: CaptureSync,
    private readonly out: Socket,
    private readonly opts: { host: string; listenIp: string; log: RelayLogger },
  ) {
    this.legs = legs;
    for (const leg of legs) leg.socket.on('message', (msg) => this.onPacket(leg, msg));
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Binds the relay's sockets on `host`; filler flows to ffmpeg from the first tick. */
  static async open(
    kinds: Record<SpliceKind, RelayKind>,
    opts: { host: string; listenIp: string; log: RelayLogger },
  ): Promise<BridgeRelay> {
    const bind = async () => {
      const s = createSocket('udp4');
      // a datagram to ffmpeg while it restarts is refused: nothing to do about it here
      s.on('error', () => undefined);
      await new Promise<void>((resolve) => s.bind(0, opts.host, resolve));
      return s;
    };
    const sync = new CaptureSync(SYNC_BAND_MS / 2);
    const legs = [
      new Leg('video', kinds.video, await bind(), sync),
      new Leg('audio', kinds.audio, await bind(), sync),
    ];
    return new BridgeRelay(legs, sync, await bind(), opts);
  }

  /** How each kind stands: for logs and tests. */
  state(): Record<SpliceKind, RelayKindState> {
    const of = (leg: Leg) => ({
      carrying: String(leg.splicer.carrying ?? 'nothing'),
      ...(leg.current ? { producerId: leg.current.producerId, ssrc: String(leg.current.ssrc) } : {}),
      ...leg.splicer.stats,
    });
    return { video: of(this.legs[0]!), audio: of(this.legs[1]!) };
  }

  /**
   * Carries these producers from now on (undefined, closed or of another codec: filler), consumed on
   * `router` (a new one after a worker death: the old transports went with the old one).
   */
  async follow(sources: { [K in SpliceKind]?: Producer | undefined }, router: Router): Promise<void> {
    if (this.closed) return;
    if (router !== this.router) {
      for (const leg of this.legs) {
        leg.transport?.close();
        leg.transport = undefined;
        this.drop(leg, 'current');
        this.drop(leg, 'previous');
      }
      this.router = router;
    }
    // one kind that cannot be consumed (its producer closed meanwhile) does not hold the other back
    const results = await Promise.allSettled(
      this.legs.map((leg) => this.followOne(leg, sources[leg.kind], router)),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** A new ffmpeg listens: it cannot decode before a key frame. */
  keyFrame(): void {
    for (const leg of this.legs) if (leg.kind === 'video') this.askKeyFrame(leg, true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const leg of this.legs) {
      leg.transport?.close();
      leg.socket.close();
    }
    this.out.close();
  }

  private async followOne(leg: Leg, producer: Producer | undefined, router: Router): Promise<void> {
    const live = producer && !producer.closed ? producer : undefined;
    if (live?.id === leg.current?.producerId) return;
    const codecs = (router.rtpCapabilities.codecs ?? []).filter(
      (c) => c.mimeType.toLowerCase() === leg.spec.mimeType.toLowerCase(),
    );
    // only the one codec ffmpeg was told about, no RTX, no header extensions
    const rtpCapabilities = { codecs, headerExtensions: [] };
    let next: Carried | undefined;
    if (live && router.canConsume({ producerId: live.id, rtpCapabilities })) {
      const transport = await this.transportOn(leg, router);
      const consumer = await transport.consume({ producerId: live.id, rtpCapabilities, paused: true });
      const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
      if (ssrc === undefined) throw new Error(`the bridge's consumer of ${live.id} has no SSRC`);
      next = { producerId: live.id, consumer, ssrc, unwatch: await this.watchClock(live, ssrc) };
      // a paused camera or mic: filler until it resumes (the video then from its next key frame). A closed
      // producer waits for the room's next follow(): another source, or none (filler then)
      const paused = () => {
        if (leg.current?.consumer === consumer) leg.splicer.want(consumer.producerPaused ? undefined : ssrc);
      };
      consumer.on('producerpause', paused);
      consumer.on('producerresume', paused);
    } else if (live) {
      this.opts.log.warn(
        { producerId: live.id, codec: leg.spec.mimeType },
        'live bridge relay: producer not in the bridge codec, filler instead',
      );
    }
    // the old consumer stays until the new source's key frame has taken over (tick closes it)
    if (leg.previous) this.drop(leg, 'previous');
    leg.previous = leg.current;
    leg.current = next;
    leg.splicer.want(next && !next.consumer.producerPaused ? next.ssrc : undefined);
    if (next) {
      await next.consumer.resume();
      this.askKeyFrame(leg, true);
    }
    if (!next || leg.previous?.consumer.closed) this.drop(leg, 'previous');
  }

  private async transportOn(leg: Leg, router: Router): Promise<mediasoup.types.PlainTransport> {
    if (leg.transport && !leg.transport.closed) return leg.transport;
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: this.opts.listenIp },
      rtcpMux: true,
      comedia: false,
    });
    const address = leg.socket.address();
    await transport.connect({ ip: address.address, port: address.port });
    leg.transport = transport;
    return transport;
  }

  /** The producer's sender reports, under the SSRC its consumer here carries (`ssrc`). */
  private async watchClock(producer: Producer, ssrc: number): Promise<() => void> {
    const onTrace = (t: mediasoup.types.ProducerTraceEventData) => {
      const sr =
        t.type === 'sr'
          ? (t.info as { ssrc?: number; ntpSec?: number; ntpFrac?: number; rtpTs?: number })
          : undefined;
      if (
        sr?.ssrc === undefined ||
        sr.ntpSec === undefined ||
        sr.ntpFrac === undefined ||
        sr.rtpTs === undefined
      )
        return;
      this.sync.report(ssrc, sr.ssrc, { ntpMs: ntpToMs(sr.ntpSec, sr.ntpFrac), rtpTs: sr.rtpTs });
    };
    producer.on('trace', onTrace);
    // a producer closed meanwhile: its consumer goes too, and the room follows another source
    await producer.enableTraceEvent(['sr']).catch(() => undefined);
    return () => {
      producer.off('trace', onTrace);
      this.sync.forget(ssrc);
    };
  }

  private drop(leg: Leg, which: 'current' | 'previous'): void {
    const c = leg[which];
    if (c && !c.consumer.closed) c.consumer.close();
    c?.unwatch();
    leg[which] = undefined;
  }

  private onPacket(leg: Leg, msg: Buffer): void {
    const out = leg.splicer.push(msg, performance.now());
    if (out) this.out.send(out, leg.spec.port, this.opts.host);
  }

  private askKeyFrame(leg: Leg, now: boolean): void {
    const c = leg.current;
    const at = performance.now();
    if (!c || c.consumer.closed || (!now && at - leg.lastKeyFrameAt < KEY_FRAME_EVERY_MS)) return;
    leg.lastKeyFrameAt = at;
    c.consumer.requestKeyFrame().catch(() => undefined);
  }

  private tick(): void {
    const now = performance.now();
    const report = now - this.lastReportAt >= REPORT_MS;
    if (report) this.lastReportAt = now;
    if (this.sync.delay !== this.loggedDelay) {
      // on the wall clock (this process's clock is performance.now()): the delays after the sender's
      // capture, as far as the two machines' clocks agree; the kinds' difference is what moves one of them
      const wall = (ms: number | undefined) =>
        ms === undefined ? undefined : Math.round(ms + performance.timeOrigin);
      this.loggedDelay = this.sync.delay;
      const offered = this.sync.offered;
      this.opts.log.info(
        { delayMs: wall(this.sync.delay), audioMs: wall(offered.audio), videoMs: wall(offered.video) },
        'live bridge relay places media at capture + delay',
      );
    }
    for (const leg of this.legs) {
      for (const p of leg.splicer.fill(now)) this.out.send(p, leg.spec.port, this.opts.host);
      if (leg.splicer.takeKeyFrameRequest()) this.askKeyFrame(leg, false);
      const carrying = leg.splicer.carrying;
      if (carrying !== leg.logged) {
        leg.logged = carrying;
        this.opts.log.info(
          { kind: leg.kind, carrying, producerId: leg.current?.producerId, ...leg.splicer.stats },
          carrying === 'filler' ? 'live bridge relay fills' : 'live bridge relay carries a source',
        );
      }
      // the switch is done (or given up): the old consumer is no longer needed
      if (leg.previous && leg.splicer.carrying !== leg.previous.ssrc) this.drop(leg, 'previous');
      const sr = report ? leg.splicer.senderReport(now, performance.timeOrigin + now) : undefined;
      if (sr) this.out.send(sr, leg.spec.port + 1, this.opts.host);
    }
  }
}
