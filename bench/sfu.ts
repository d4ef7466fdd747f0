// npm run bench -- sfu: what the room layer costs the mediasoup worker. One ffmpeg "teacher" (testsrc VP8
// ~1 Mbps + Opus) feeds, through a relay in this process, two producers on two workers: one inside a live
// room (RoomService → Room.produce / createPlainTransport / consume / resume: the code path a viewer's
// consume takes), one in a bare mediasoup script (router, PlainTransport, produce, consume). N consumers
// (half video, half audio: N/2 viewers) each on its own PlainTransport send to UDP sinks in a child process
// that counts packets per consumer. Trials alternate room/bare/bare/room per N; each measures the worker's
// CPU from /proc/<pid>/stat over a fixed window and checks that every consumer delivered the stream.
// → bench/results/sfu.json with per-N figures and room_layer_cpu_ratio (target ≤ 1.1).
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, type AccessClaims, type LiveInfo } from '@sky/contracts';
import * as mediasoup from 'mediasoup';
import { pino } from 'pino';
import { createWorkerPool, MEDIA_CODECS } from '../sfu/src/adapters/mediasoup.js';
import type { Peer, Room } from '../sfu/src/services/room.js';
import { RoomService } from '../sfu/src/services/room.service.js';

const SINK_SOCKETS = 8;

// ---------------------------------------------------------------------------------------------------------
interface Sink {
  ports: number[];
  counts(): Promise<{ counts: Map<number, number>; bytes: number }>;
  close(): void;
}

async function startSink(): Promise<Sink> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--sink'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = await new Promise<number[]>((resolve) =>
    child.once('message', (m: { ports: number[] }) => resolve(m.ports)),
  );
  return {
    ports,
    counts: () =>
      new Promise((resolve) => {
        child.once('message', (m: { counts: [number, number][]; bytes: number }) =>
          resolve({ counts: new Map(m.counts), bytes: m.bytes }),
        );
        child.send({ type: 'counts' });
      }),
    close: () => {
      child.send({ type: 'exit' });
    },
  };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ": field 3 is state; utime and stime are fields 14 and 15 of the full line
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VIDEO_SSRC = 22_222_222;
const AUDIO_SSRC = 11_111_111;
const VIDEO_RTP = {
  codecs: [{ mimeType: 'video/VP8', payloadType: 102, clockRate: 90000 }],
  encodings: [{ ssrc: VIDEO_SSRC }],
};
const AUDIO_RTP = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 101, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: AUDIO_SSRC }],
};

/** Where the relay sends the teacher's RTP for one mode. */
interface Inlet {
  video: { port: number };
  audio: { port: number };
}

/** One mode under test: builds N consumers on sinks, tears them down. */
interface Mode {
  name: 'room' | 'bare';
  pid(): number;
  inlet: Inlet;
  addConsumers(n: number, sinkPorts: number[]): Promise<number[]>;
  /** Source packets the producers received (for the delivery check). */
  producerPackets(): Promise<{ video: number; audio: number }>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

async function roomMode(lessonId: string): Promise<Mode> {
  const pool = await createWorkerPool({ count: 1, rtcMinPort: 45000, rtcMaxPort: 45999 }, silent);
  const teacherId = 'teacher-bench';
  const info: LiveInfo = {
    lessonId,
    state: 'live',
    teacherId,
    startedAt: new Date().toISOString(),
    sfuUrl: 'http://127.0.0.1',
    hls: { web: '', tv: '' },
  };
  const rooms = new RoomService({
    pool,
    log: silent,
    api: {
      liveInfo: async () => info,
      me: () => Promise.reject(new AppError('NOT_FOUND', 'no names in the bench')),
    },
    listenIp: '127.0.0.1',
    consumerThreshold: 100_000,
    audienceCap: 100_000,
    teacherGraceMs: 0,
    liveEnded: async () => undefined,
  });
  const actor = (sub: string, role: AccessClaims['role']): AccessClaims => ({ sub, role, typ: 'access' });
  const noop = () => undefined;
  const { room, peer: teacher } = await rooms.join(actor(teacherId, 'teacher'), 'token', lessonId, noop);
  const vt = await room.createPlainTransport(teacher, 'send', { comedia: true, rtcpMux: true });
  const at = await room.createPlainTransport(teacher, 'send', { comedia: true, rtcpMux: true });
  const video = await room.produce(teacher, {
    transportId: vt.id,
    kind: 'video',
    source: 'camera',
    rtpParameters: VIDEO_RTP,
  });
  const audio = await room.produce(teacher, {
    transportId: at.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: AUDIO_RTP,
  });
  const producer = (id: string) => teacher.producers.get(id)!.producer;
  let viewers: { room: Room; peer: Peer }[] = [];
  return {
    name: 'room',
    pid: () => pool.states()[0]!.pid,
    inlet: { video: { port: vt.tuple.localPort }, audio: { port: at.tuple.localPort } },
    async addConsumers(n, sinkPorts) {
      const ports: number[] = [];
      for (let i = 0; i < n; i++) {
        // viewers consume the camera and the mic, each consumer on its own PlainTransport
        const source = i % 2 === 0 ? video : audio;
        if (i % 2 === 0)
          viewers.push(await rooms.join(actor(`viewer-${i}`, 'student'), 'token', lessonId, noop));
        const v = viewers.at(-1)!;
        const t = await v.room.createPlainTransport(v.peer, 'recv', { rtcpMux: true });
        await t.connect({ ip: '127.0.0.1', port: sinkPorts[i % sinkPorts.length]! });
        const c = await v.room.consume(v.peer, {
          transportId: t.id,
          producerId: source.producerId,
          rtpCapabilities: v.room.routerRtpCapabilities,
        });
        await v.room.setConsumerPaused(v.peer, c.id, false);
        ports.push(t.tuple.localPort);
      }
      return ports;
    },
    async producerPackets() {
      const count = async (id: string) =>
        (await producer(id).getStats()).reduce((a, s) => a + (s.packetCount ?? 0), 0);
      return { video: await count(video.producerId), audio: await count(audio.producerId) };
    },
    async clear() {
      for (const v of viewers) rooms.leave(v.room, v.peer);
      viewers = [];
    },
    async close() {
      await rooms.close();
      pool.close();
    },
  };
}

async function bareMode(): Promise<Mode> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 46000, rtcMaxPort: 46999 });
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  const vt = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    comedia: true,
  });
  const at = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    comedia: true,
  });
  const video = await vt.produce({ kind: 'video', rtpParameters: VIDEO_RTP });
  const audio = await at.produce({ kind: 'audio', rtpParameters: AUDIO_RTP });
  let transports: mediasoup.types.PlainTransport[] = [];
  return {
    name: 'bare',
    pid: () => worker.pid,
    inlet: { video: { port: vt.tuple.localPort }, audio: { port: at.tuple.localPort } },
    async addConsumers(n, sinkPorts) {
      const ports: number[] = [];
      for (let i = 0; i < n; i++) {
        const producer = i % 2 === 0 ? video : audio;
        const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
        await t.connect({ ip: '127.0.0.1', port: sinkPorts[i % sinkPorts.length]! });
        const c = await t.consume({
          producerId: producer.id,
          rtpCapabilities: router.rtpCapabilities,
          paused: true,
        });
        await c.resume();
        transports.push(t);
        ports.push(t.tuple.localPort);
      }
      return ports;
    },
    async producerPackets() {
      const count = async (p: mediasoup.types.Producer) =>
        (await p.getStats()).reduce((a, s) => a + (s.packetCount ?? 0), 0);
      return { video: await count(video), audio: await count(audio) };
    },
    async clear() {
      for (const t of transports) t.close();
      transports = [];
    },
    async close() {
      worker.close();
    },
  };
}

/** ffmpeg → this process → a copy of every RTP packet to each mode's producer transports. */
async function startTeacher(modes: Mode[], kbps: number): Promise<{ stop(): Promise<void> }> {
  const relay = async (kind: 'video' | 'audio') => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    s.on('message', (msg) => {
      if (msg.length >= 2 && msg[1]! >= 200 && msg[1]! <= 206) return; // ffmpeg's RTCP: not forwarded
      for (const m of modes) s.send(msg, m.inlet[kind].port, '127.0.0.1');
    });
    return s;
  };
  const v = await relay('video');
  const a = await relay('audio');
  // Encoded once beforehand and streamed with -c copy: a live encoder starved of CPU on a shared machine
  // would feed the two modes at different rates.
  const dir = mkdtempSync(join(tmpdir(), 'sky-bench-sfu-'));
  const file = join(dir, 'teacher.webm');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=20'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=20'],
    ...['-c:v', 'libvpx', '-deadline', 'good', '-cpu-used', '4'],
    ...['-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-g', '25'],
    ...['-c:a', 'libopus', '-b:a', '48k', file],
  ]);
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-re', '-stream_loop', '-1', '-i', file],
      ...['-map', '0:v', '-c:v', 'copy', '-f', 'rtp', '-ssrc', String(VIDEO_SSRC), '-payload_type', '102'],
      `rtp://127.0.0.1:${v.address().port}?pkt_size=1200`,
      ...['-map', '0:a', '-c:a', 'copy', '-f', 'rtp', '-ssrc', String(AUDIO_SSRC)],
      ...['-payload_type', '101', `rtp://127.0.0.1:${a.address().port}?pkt_size=1200`],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
  return {
    async stop() {
      ffmpeg.kill('SIGKILL');
      await exited;
      v.close();
      a.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Trial {
  mode: 'room' | 'bare';
  consumers: number;
  /** CPU seconds of this Node process (the room layer, or the bare script) over the window. */
  node_cpu_s: number;
  /** Worker + Node CPU microseconds per packet to forward. */
  total_cpu_us_per_packet: number;
  cpu_pct: number;
  /** Worker CPU per consumer, in % of one core. */
  cpu_pct_per_consumer: number;
  /** Worker CPU microseconds per packet to forward (source packets × consumers of that kind). */
  cpu_us_per_packet: number;
  /** Packets a second the worker had to forward (source packets × consumers of that kind). */
  sent_pps: number;
  cpu_s: number;
  sent_packets: number;
  /** Packets the sinks received / (source packets × consumers of that kind), over the window. */
  delivery: number;
  /** The worst single consumer's delivery over the window. */
  min_consumer_delivery: number;
  delivered_mbps: number;
  /** RTP packets a second the producers received (video, audio). */
  source_pps: { video: number; audio: number };
  setup_s: number;
}

async function trial(
  mode: Mode,
  n: number,
  sink: Sink,
  windowSec: number,
  warmupSec: number,
): Promise<Trial> {
  const t0 = Date.now();
  const ports = await mode.addConsumers(n, sink.ports);
  const setup = (Date.now() - t0) / 1000;
  await sleep(warmupSec * 1000);
  // The CPU span encloses the counter reads (500 getStats take a while), so packets and CPU cover the same
  // time; the reads cost both modes alike.
  const cpu0 = cpuSeconds(mode.pid());
  const node0 = process.cpuUsage();
  const w0 = Date.now();
  const p0 = await mode.producerPackets();
  const c0 = await sink.counts();
  await sleep(windowSec * 1000);
  const c1 = await sink.counts();
  const p1 = await mode.producerPackets();
  const cpu1 = cpuSeconds(mode.pid());
  const nodeUse = process.cpuUsage(node0);
  const nodeCpu = (nodeUse.user + nodeUse.system) / 1e6;
  const w1 = Date.now();
  await mode.clear();
  const elapsed = (w1 - w0) / 1000;
  const src = { video: p1.video - p0.video, audio: p1.audio - p0.audio };
  let delivered = 0;
  let expected = 0;
  let minRatio = Infinity;
  ports.forEach((port, i) => {
    const got = (c1.counts.get(port) ?? 0) - (c0.counts.get(port) ?? 0);
    const want = i % 2 === 0 ? src.video : src.audio;
    delivered += got;
    expected += want;
    minRatio = Math.min(minRatio, want > 0 ? got / want : 0);
  });
  const cpuPct = ((cpu1 - cpu0) / elapsed) * 100;
  // The forwarding work asked of the worker: every source packet once per consumer of its kind.
  const sentPkts = expected;
  return {
    mode: mode.name,
    consumers: n,
    node_cpu_s: round(nodeCpu, 3),
    total_cpu_us_per_packet: round(sentPkts > 0 ? ((cpu1 - cpu0 + nodeCpu) * 1e6) / sentPkts : 0, 3),
    cpu_pct: round(cpuPct, 1),
    cpu_pct_per_consumer: round(cpuPct / n, 4),
    cpu_us_per_packet: round(sentPkts > 0 ? ((cpu1 - cpu0) * 1e6) / sentPkts : 0, 3),
    sent_pps: Math.round(sentPkts / elapsed),
    cpu_s: round(cpu1 - cpu0, 2),
    sent_packets: sentPkts,
    delivery: round(expected ? delivered / expected : 0, 3),
    min_consumer_delivery: round(minRatio, 3),
    delivered_mbps: round(((c1.bytes - c0.bytes) * 8) / elapsed / 1e6, 1),
    source_pps: { video: round(src.video / elapsed, 1), audio: round(src.audio / elapsed, 1) },
    setup_s: round(setup, 2),
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** 95 % percentile-bootstrap interval of the median (a seeded generator: the same data, the same interval). */
function bootstrapMedianInterval(xs: number[], resamples = 10_000): [number, number] {
  if (xs.length === 0) return [NaN, NaN];
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (seed * 1_664_525 + 1_013_904_223) >>> 0;
    return seed / 2 ** 32;
  };
  const medians = Array.from({ length: resamples }, () =>
    median(Array.from({ length: xs.length }, () => xs[Math.floor(rand() * xs.length)]!)),
  ).sort((a, b) => a - b);
  return [medians[Math.floor(resamples * 0.025)]!, medians[Math.ceil(resamples * 0.975) - 1]!];
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main() {
  const counts = (process.env['BENCH_SFU_CONSUMERS'] ?? '100,300,500').split(',').map(Number);
  const windowSec = Number(process.env['BENCH_SFU_WINDOW_S'] ?? 8);
  const warmupSec = Number(process.env['BENCH_SFU_WARMUP_S'] ?? 2);
  const reps = Number(process.env['BENCH_SFU_REPS'] ?? 5);
  const kbps = Number(process.env['BENCH_SFU_KBPS'] ?? 1000);
  const lessonId = 'b'.repeat(24);
  const room = await roomMode(lessonId);
  const bare = await bareMode();
  const sink = await startSink();
  const teacher = await startTeacher([room, bare], kbps);
  const trials: Trial[] = [];
  try {
    await sleep(3000); // ffmpeg up, first key frames through
    for (const n of counts) {
      // ABBA per repetition pair: drift on a shared machine hits both modes alike
      for (let r = 0; r < reps; r++) {
        const order = r % 2 === 0 ? [room, bare] : [bare, room];
        for (const m of order) {
          const t = await trial(m, n, sink, windowSec, warmupSec);
          trials.push(t);
          console.log(
            `${t.mode.padEnd(4)} ${String(n).padStart(4)} consumers: worker ${t.cpu_pct.toFixed(1)}% CPU ` +
              `(${(t.cpu_pct_per_consumer * 1000).toFixed(1)} m%/consumer), sent ${t.sent_pps} pkt/s, received ${(t.delivery * 100).toFixed(1)}% of expected ` +
              `(worst consumer ${(t.min_consumer_delivery * 100).toFixed(1)}%), ${t.delivered_mbps} Mbit/s, source ${t.source_pps.video}+${t.source_pps.audio} pkt/s, setup ${t.setup_s}s`,
          );
        }
      }
    }
  } finally {
    await teacher.stop();
    sink.close();
    await room.close();
    await bare.close();
  }
  // The source's packet rate wobbles on a shared machine, so the ratio compares worker CPU per packet to
  // forward (source packets × consumers, read right beside the CPU counters); raw CPU is reported beside it.
  const cpuPerPacket = (ts: Trial[]) => {
    const pkts = ts.reduce((a, t) => a + t.sent_packets, 0);
    return pkts > 0 ? (ts.reduce((a, t) => a + t.cpu_s, 0) * 1e6) / pkts : 0;
  };
  const perN = counts.map((n) => {
    const r = trials.filter((t) => t.consumers === n && t.mode === 'room');
    const b = trials.filter((t) => t.consumers === n && t.mode === 'bare');
    // one ratio per repetition (its room trial over its bare trial, run back to back), worker + Node CPU
    const paired = r.map((t, i) => t.total_cpu_us_per_packet / b[i]!.total_cpu_us_per_packet);
    const workerOnly = r.map((t, i) => t.cpu_us_per_packet / b[i]!.cpu_us_per_packet);
    const ci = bootstrapMedianInterval(paired);
    const roomCpu = mean(r.map((t) => t.cpu_pct));
    const bareCpu = mean(b.map((t) => t.cpu_pct));
    return {
      consumers: n,
      viewers: n / 2,
      room_cpu_pct: round(roomCpu, 1),
      bare_cpu_pct: round(bareCpu, 1),
      room_cpu_pct_per_consumer: round(roomCpu / n, 4),
      bare_cpu_pct_per_consumer: round(bareCpu / n, 4),
      room_cpu_us_per_packet: round(cpuPerPacket(r), 3),
      bare_cpu_us_per_packet: round(cpuPerPacket(b), 3),
      // the headline of this N: worker + Node CPU per packet, median of the paired repetitions
      ratio_median: round(median(paired), 3),
      ratio_ci95: [round(ci[0], 3), round(ci[1], 3)],
      meets_target: median(paired) <= 1.1,
      ratios: paired.map((x) => round(x, 3)),
      worker_only_ratio_median: round(median(workerOnly), 3),
      room_layer_cpu_ratio: round(cpuPerPacket(b) > 0 ? cpuPerPacket(r) / cpuPerPacket(b) : 0, 3),
      raw_cpu_ratio: round(bareCpu > 0 ? roomCpu / bareCpu : 0, 3),
      room_delivery: round(Math.min(...r.map((t) => t.delivery)), 3),
      bare_delivery: round(Math.min(...b.map((t) => t.delivery)), 3),
      room_min_consumer_delivery: round(Math.min(...r.map((t) => t.min_consumer_delivery)), 3),
      bare_min_consumer_delivery: round(Math.min(...b.map((t) => t.min_consumer_delivery)), 3),
    };
  });
  // Overall: weighted by consumers (the large rooms are what the target is about).
  const weighted = (key: 'room_cpu_us_per_packet' | 'bare_cpu_us_per_packet') =>
    perN.reduce((a, p) => a + p[key] * p.consumers, 0);
  const result = {
    bench: 'sfu',
    at: new Date().toISOString(),
    source: { video: `VP8 640x360 25fps ${kbps} kbit/s (testsrc2, ffmpeg)`, audio: 'Opus 48 kbit/s' },
    note:
      `per N: ${reps} repetitions, each a room trial and a bare trial back to back (ABBA order); a ` +
      'repetition’s ratio = room / bare CPU µs per packet to forward, CPU = the mediasoup worker’s ' +
      '(/proc) + this Node process’s (process.cpuUsage: the room layer in a room trial, the bare script ' +
      'in a bare one; the idle mode costs both alike) over the window. ratio_median with ratio_ci95: a ' +
      'percentile bootstrap (10,000 resamples) of the median of the repetitions. meets_target: median ≤ ' +
      '1.1. Not measured here: a pipeToRouter fan-out run. room_layer_cpu_ratio (worker only, pooled, ' +
      'consumer-weighted) is kept for comparison with earlier results; it is not the headline.',
    method:
      'one worker per mode; N consumers (half video, half audio) each on its own PlainTransport to UDP sinks in a child process; ' +
      `trials alternate room/bare (ABBA), ${reps} per N; worker CPU from /proc/<pid>/stat over ${windowSec}s after ${warmupSec}s warm-up; ` +
      'delivery = packets received by the sinks / (packets the producer received × consumers of that kind); ' +
      'room_layer_cpu_ratio = room / bare worker CPU per packet to forward (source packets × consumers; consumer-weighted over N)',
    cpus: (await import('node:os')).availableParallelism(),
    load_average: (await import('node:os')).loadavg().map((x) => round(x, 1)),
    per_n: perN,
    room_layer_cpu_ratio: round(
      weighted('bare_cpu_us_per_packet') > 0
        ? weighted('room_cpu_us_per_packet') / weighted('bare_cpu_us_per_packet')
        : 0,
      3,
    ),
    target_ratio: 1.1,
    trials,
  };
  console.log('\nconsumers  room %CPU  bare %CPU  room µs/pkt  bare µs/pkt  ratio  delivery room/bare');
  for (const p of perN)
    console.log(
      `${String(p.consumers).padStart(9)}  ${p.room_cpu_pct.toFixed(1).padStart(9)}  ${p.bare_cpu_pct.toFixed(1).padStart(9)}  ` +
        `${p.room_cpu_us_per_packet.toFixed(2).padStart(11)}  ${p.bare_cpu_us_per_packet.toFixed(2).padStart(11)}  ` +
        `${p.room_layer_cpu_ratio.toFixed(3)}  ${(p.room_delivery * 100).toFixed(1)}% / ${(p.bare_delivery * 100).toFixed(1)}%`,
    );
  for (const p of perN)
    console.log(
      `${p.consumers} consumers: worker+Node ratio median ${p.ratio_median} (95 % CI ${p.ratio_ci95.join('–')}), ` +
        `${p.meets_target ? 'meets' : 'MISSES'} ≤ 1.1; worker only ${p.worker_only_ratio_median}`,
    );
  console.log(`room_layer_cpu_ratio (worker only, pooled) ${result.room_layer_cpu_ratio}`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'sfu.json'), JSON.stringify(result, null, 2) + '\n');
}

// Child process: UDP sinks. Counts RTP packets per sending port (= per consumer's PlainTransport).
async function runSink() {
  const counts = new Map<number, number>();
  let bytes = 0;
  const sockets: UdpSocket[] = [];
  for (let i = 0; i < SINK_SOCKETS; i++) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    s.on('message', (msg, rinfo) => {
      if (msg.length < 12 || (msg[1]! >= 200 && msg[1]! <= 206)) return; // RTCP (rtcp-mux) is not media
      counts.set(rinfo.port, (counts.get(rinfo.port) ?? 0) + 1);
      bytes += msg.length;
    });
    sockets.push(s);
  }
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  process.send!({ type: 'ports', ports: sockets.map((s) => s.address().port) });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'counts') process.send!({ type: 'counts', counts: [...counts.entries()], bytes });
    if (m.type === 'exit') process.exit(0);
  });
}

if (process.argv[2] === '--sink') await runSink();
else await main();
