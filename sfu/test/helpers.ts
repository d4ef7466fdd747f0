// Test glue for the live sfu: a real sfu app (real mediasoup workers, socket.io on a real port), socket.io
// clients that speak the /live contract, and RTP sources/sinks (ffmpeg → PlainTransport producers, UDP
// sockets behind PlainTransport consumers) because Node has no WebRTC.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import {
  LIVE_NAMESPACE,
  type Ack,
  type LiveClientEvents,
  type LiveEndedJob,
  type LiveEventName,
  type LiveReplies,
  type LiveServerEvents,
} from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { reserveRtcPorts, testLogger } from '@sky/devkit';
import { pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import type { ApiClient } from '../src/adapters/api-client.js';
import { createWorkerPool, type WorkerPool } from '../src/adapters/mediasoup.js';
import { createApp, type SfuApp } from '../src/app.js';
import type { BridgeFactory, Peer, Room } from '../src/services/room.js';

export const JWT_SECRET = 'test-secret-that-is-at-least-32-characters';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TestSfu {
  app: SfuApp;
  pool: WorkerPool;
  url: string;
  endedJobs: LiveEndedJob[];
  close(): Promise<void>;
}

export async function startSfu(opts: {
  api: ApiClient;
  workers?: number;
  /** mediasoup's RTC port range; by default a slice no other test process holds. */
  rtcPorts?: [number, number];
  consumerThreshold?: number;
  audienceCap?: number;
  announcedIp?: string;
  bridges?: BridgeFactory;
  liveEnded?: (job: LiveEndedJob) => Promise<void>;
  teacherGraceMs?: number;
}): Promise<TestSfu> {
  const logger = process.env['SFU_TEST_LOG']
    ? pino({ level: process.env['SFU_TEST_LOG'] })
    : testLogger('sfu', logOptions('sfu', 'info'));
  const [rtcMinPort, rtcMaxPort] = opts.rtcPorts ?? reserveRtcPorts();
  const pool = await createWorkerPool({ count: opts.workers ?? 1, rtcMinPort, rtcMaxPort }, logger);
  const tokens = createTokenIssuer(JWT_SECRET, 900);
  const endedJobs: LiveEndedJob[] = [];
  const app = createApp({
    logger,
    workers: pool,
    version: 'test',
    verify: (t) => tokens.verify(t),
    api: opts.api,
    live: {
      listenIp: '127.0.0.1',
      announcedIp: opts.announcedIp,
      consumerThreshold: opts.consumerThreshold ?? 400,
      audienceCap: opts.audienceCap ?? 2000,
      teacherGraceMs: opts.teacherGraceMs ?? 0,
    },
    bridges: opts.bridges,
    liveEnded: async (job) => {
      endedJobs.push(job);
      await opts.liveEnded?.(job);
    },
  });
  await app.http.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.http.server.address() as AddressInfo).port;
  return { app, pool, url: `http://127.0.0.1:${port}`, endedJobs, close: () => app.close() };
}

type ServerEvent = keyof LiveServerEvents;
type Payload<E extends ServerEvent> = Parameters<LiveServerEvents[E]>[0];

/** A /live client: `request` sends an event and resolves with its ack; every server event is recorded. */
export interface LiveClient {
  socket: Socket<LiveServerEvents, LiveClientEvents>;
  request<K extends LiveEventName>(event: K, payload: unknown): Promise<Ack<LiveReplies[K]>>;
  /** Like request, but throws unless the ack is ok. */
  ok<K extends LiveEventName>(event: K, payload: unknown): Promise<LiveReplies[K]>;
  /** Sends anything, for malformed-input tests. */
  raw(event: string, ...args: unknown[]): Promise<unknown>;
  events: { event: ServerEvent; payload: unknown; at: number }[];
  /** The first event of that name (after `since`) matching `test`, waiting up to `timeoutMs`. */
  next<E extends ServerEvent>(
    event: E,
    test?: (p: Payload<E>) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<Payload<E>>;
  close(): void;
}

export async function liveClient(url: string, token: string): Promise<LiveClient> {
  const socket: Socket<LiveServerEvents, LiveClientEvents> = connect(url + LIVE_NAMESPACE, {
    auth: { token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  const events: LiveClient['events'] = [];
  socket.onAny((event: ServerEvent, payload: unknown) => events.push({ event, payload, at: Date.now() }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  // as the browser's client: room.end answers once the recording is finalised (ffmpeg drains its backlog,
  // up to 20 s on a loaded machine), everything else within 10 s
  const raw = (event: string, ...args: unknown[]) =>
    (
      socket.timeout(event === 'room.end' ? 60_000 : 10_000) as unknown as {
        emitWithAck(e: string, ...a: unknown[]): Promise<unknown>;
      }
    ).emitWithAck(event, ...args);
  const request = async <K extends LiveEventName>(event: K, payload: unknown) =>
    (await raw(event, payload)) as Ack<LiveReplies[K]>;
  return {
    socket,
    events,
    raw,
    request,
    async ok(event, payload) {
      const res = await request(event, payload);
      if (!res.ok) throw new Error(`${event}: ${res.error.code} ${res.error.message}`);
      return res.data;
    },
    async next(event, test = () => true, timeoutMs = 5000, since = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find((e) => e.event === event && e.at >= since && test(e.payload as never));
        if (hit) return hit.payload as never;
        if (Date.now() > deadline) throw new Error(`no ${event} within ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    close: () => void socket.close(),
  };
}

/** The in-process side of a peer that joined over a socket (to hang PlainTransports on it). */
export function peerOf(sfu: TestSfu, lessonId: string, peerId: string): { room: Room; peer: Peer } {
  const room = sfu.app.rooms.room(lessonId);
  const peer = room?.peers.get(peerId);
  if (!room || !peer) throw new Error(`no peer ${peerId} in room ${lessonId}`);
  return { room, peer };
}

const VIDEO_PT = 102;
const AUDIO_PT = 101;

/**
 * A teacher's camera (VP8 test pattern) and microphone (Opus sine) from ffmpeg into PlainTransport producers
 * made through the room layer (the same `Room.produce` a socket's produce reaches). `source`: what the video
 * is published as (a screen share: 'screen').
 */
export async function produceFromFfmpeg(
  room: Room,
  peer: Peer,
  opts: {
    video?: boolean;
    audio?: boolean;
    videoKbps?: number;
    size?: string;
    source?: 'camera' | 'screen';
  } = {},
): Promise<{ videoId?: string; audioId?: string; ffmpeg: ChildProcess; stop(): Promise<void> }> {
  const wantVideo = opts.video ?? true;
  const wantAudio = opts.audio ?? true;
  // One PlainTransport per stream: ffmpeg sends each from its own port, and comedia locks onto the first.
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  const out: { videoId?: string; audioId?: string } = {};
  const transports: { close(): void }[] = [];
  if (wantVideo) args.push('-re', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '640x360'}:rate=25`);
  if (wantAudio) args.push('-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (wantVideo) {
    const t = await room.createPlainTransport(peer, 'send', { comedia: true, rtcpMux: false });
    transports.push(t);
    const ssrc = 22_222_222;
    const { producerId } = await room.produce(peer, {
      transportId: t.id,
      kind: 'video',
      source: opts.source ?? 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
    });
    out.videoId = producerId;
    const kbps = opts.videoKbps ?? 600;
    args.push(
      '-map',
      '0:v',
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-b:v',
      `${kbps}k`,
      '-minrate',
      `${kbps}k`,
      '-maxrate',
      `${kbps}k`,
      '-g',
      '25',
      '-f',
      'rtp',
      '-ssrc',
      String(ssrc),
      '-payload_type',
      String(VIDEO_PT),
      `rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple!.localPort}&pkt_size=1200`,
    );
  }
  if (wantAudio) {
    const t = await room.createPlainTransport(peer, 'send', { comedia: true, rtcpMux: false });
    transports.push(t);
    const ssrc = 11_111_111;
    const { producerId } = await room.produce(peer, {
      transportId: t.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
      },
    });
    out.audioId = producerId;
    args.push(
      '-map',
      `${wantVideo ? 1 : 0}:a`,
      '-c:a',
      'libopus',
      '-b:a',
      '64k',
      '-f',
      'rtp',
      '-ssrc',
      String(ssrc),
      '-payload_type',
      String(AUDIO_PT),
      `rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple!.localPort}&pkt_size=1200`,
    );
  }
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
  return {
    ...out,
    ffmpeg,
    async stop() {
      if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
      await exited;
    },
  };
}

/** A viewer's receive side in Node: a PlainTransport consumer per producer, RTP counted by a UDP socket. */
export interface RtpSink {
  udp: UdpSocket;
  transportId: string;
  /** RTP packets received per payload type. */
  packets: Map<number, number>;
  bytes: number;
  total(): number;
  consume(producerId: string): Promise<string>;
  close(): void;
}

export async function rtpSink(room: Room, peer: Peer): Promise<RtpSink> {
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const transport = await room.createPlainTransport(peer, 'recv', { rtcpMux: true });
  await transport.connect({ ip: '127.0.0.1', port: udp.address().port });
  const sink: RtpSink = {
    udp,
    transportId: transport.id,
    packets: new Map(),
    bytes: 0,
    total: () => [...sink.packets.values()].reduce((a, b) => a + b, 0),
    async consume(producerId) {
      const info = await room.consume(peer, {
        transportId: transport.id,
        producerId,
        rtpCapabilities: room.routerRtpCapabilities,
      });
      await room.setConsumerPaused(peer, info.id, false);
      return info.id;
    },
    close: () => udp.close(),
  };
  udp.on('message', (msg) => {
    const pt = msg[1]! & 0x7f;
    // RTCP (SR/RR/SDES/BYE/FB: 200–206) shares the port (rtcp-mux); count media only.
    if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80 || (msg[1]! >= 200 && msg[1]! <= 206)) return;
    sink.packets.set(pt, (sink.packets.get(pt) ?? 0) + 1);
    sink.bytes += msg.length;
  });
  return sink;
}

/** Polls until `ok` or throws after `timeoutMs`. */
export async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<number> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - start;
}
