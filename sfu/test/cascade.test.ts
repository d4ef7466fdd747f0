// Two sfu nodes and their directory in a real redis-server, the real api in front: the teacher publishes
// on node A (the lesson's origin); node A is full, so the api sends 300 viewers to node B, which pipes the
// teacher's producers from A over one PipeTransport link and fans them out; every viewer receives ≥ 99 %
// of the teacher's packets. Then B is killed (SIGKILL): its viewers ask the api again, land on A, and
// receive from A within 5 s. Viewers are PlainTransport consumers with UDP sockets here (Node has no
// WebRTC), joined through the sfu's internal plain-viewer route with their own access tokens.
// npm-test: alone (its 5 s failover and 99 % delivery are the product's, with 300 viewers counted in this process)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { startProcess, testLogger, type Managed } from '@sky/devkit';
import { logOptions } from '@sky/contracts/http';
import * as mediasoup from 'mediasoup';
import { pino } from 'pino';
import { composeSfu, type ComposedSfu } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import type { Peer, Room } from '../src/services/room.js';
import { CASCADE_SECRET_HEADER } from '../src/services/cascade-wire.js';
import {
  askLiveInfo,
  CASCADE_TEST_SECRET,
  cascadeNodeEnv,
  deliveredShare,
  RtpWindow,
  teacherRtp,
  withNodeLogs,
} from './cascade-nodes.js';
import { JWT_SECRET, liveClient, sleep, until, type LiveClient } from './helpers.js';
import { clip } from './live-source.js';
import { startApiThread } from './api-thread.js';
import type { RealApi } from './real-api.js';

const VIEWERS = 300;
const tokens = createTokenIssuer(JWT_SECRET, 900);

let api: RealApi;
const env = (name: string, extra: Record<string, string> = {}) => cascadeNodeEnv(api, mediaDir, name, extra);
const liveInfo = (token: string, unreachable?: string) => askLiveInfo(api.url, lessonId, token, unreachable);
let mediaDir: string;
let nodeA: ComposedSfu;
let portsA: [number, number];
let urlA: string;
let nodeB: Managed;
let urlB: string;
let logB: string;
let lessonId: string;
let teacher: LiveClient;
let teacherMedia: Awaited<ReturnType<typeof publishClip>> | undefined;
let teacherPeer: Peer;
const viewers: Viewer[] = [];
/** The first test's few viewers: bound until the end (see there). */
const earlier: Viewer[] = [];
const workersA: mediasoup.types.Worker[] = [];

interface Viewer {
  token: string;
  udp: UdpSocket;
  packets: number;
  /** RTP packets per payload type (the router's: VP8 and Opus have one each). */
  byPt: Map<number, number>;
  /** While a measurement window is open: its streams' sequence numbers (loss as receivers count it). */
  window?: RtpWindow;
  /** The closed window. */
  window0?: RtpWindow;
  /** After B's kill: when the last join attempt began, and the first packet after it (ms since epoch). */
  since: number;
  firstAfter?: number;
  node?: string;
  /** The last join attempt's phases (ms since epoch): asked the api, its answer, the node's answer. */
  asked?: number;
  answered?: number;
  joined?: number;
}

/** As a client does: ask the api where the lesson is, join there (here: as a plain-RTP viewer). */
async function joinAsViewer(v: Viewer, unreachable?: string): Promise<void> {
  v.asked = Date.now();
  const { sfuUrl } = await liveInfo(v.token, unreachable);
  v.answered = Date.now();
  // after the kill: packets count as the new node's from this attempt on (none are still in flight from B)
  if (v.since !== Number.POSITIVE_INFINITY) v.since = Date.now();
  const res = await fetch(`${sfuUrl}/internal/plain-viewers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CASCADE_SECRET_HEADER]: CASCADE_TEST_SECRET },
    body: JSON.stringify({ token: v.token, lessonId, rtp: { ip: '127.0.0.1', port: v.udp.address().port } }),
    signal: AbortSignal.timeout(10_000), // as the web client's requests
  });
  if (res.status !== 200) throw new Error(`join at ${sfuUrl}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { consumers: number };
  assert.equal(body.consumers, 2, 'the viewer consumes the teacher camera and microphone');
  v.node = sfuUrl;
  v.joined = Date.now();
}

async function inBatches<T>(items: T[], size: number, run: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map((t) => run(t)));
}

async function viewer(i: number): Promise<Viewer> {
  const udp = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const v: Viewer = {
    token: tokens.sign({ sub: `5f${i.toString(16).padStart(22, '0')}`, role: 'student' }),
    udp,
    packets: 0,
    byPt: new Map(),
    since: Number.POSITIVE_INFINITY,
  };
  udp.on('message', (msg, from) => {
    const rtp = teacherRtp(msg);
    if (!rtp) return;
    v.packets += 1;
    v.byPt.set(rtp.payloadType, (v.byPt.get(rtp.payloadType) ?? 0) + 1);
    v.window?.add(rtp.ssrc, rtp.seq);
    // node A's media (by its RTC ports): what B's worker may still send as it dies does not count
    const fromA = from.port >= portsA[0] && from.port <= portsA[1];
    if (v.firstAfter === undefined && fromA && Date.now() >= v.since) v.firstAfter = Date.now();
  });
  return v;
}

/**
 * Node A's pipe transports (the cascade's links), open now: the HLS bridge's plain transports share the
 * router and come and go with its ffmpeg runs, so only pipes are counted.
 */
const pipesOfA = new Set<mediasoup.types.Transport>();
function watchPipesOfA(router: mediasoup.types.Router): void {
  router.observer.on('newtransport', (t) => {
    if (t.type !== 'pipe') return;
    pipesOfA.add(t);
    t.observer.once('close', () => pipesOfA.delete(t));
  });
}

function originRoom(): Room {
  const room = nodeA.app.rooms.room(lessonId);
  assert.ok(room, 'node A runs the lesson room');
  return room;
}

/** RTP packets the teacher's producers have received at the origin (what the teacher sent). */
async function sentByTeacher(): Promise<{ total: number; video: number }> {
  const n = { total: 0, video: 0 };
  for (const peer of originRoom().peers.values())
    for (const pp of peer.producers.values())
      for (const s of await (pp.producer as mediasoup.types.Producer).getStats()) {
        n.total += s.packetCount;
        if (pp.producer.kind === 'video') n.video += s.packetCount;
      }
  return n;
}

/**
 * The teacher's camera (VP8, 600 kb/s) and microphone (Opus) through the room as a browser's would be,
 * from a clip encoded beforehand and sent as it is (-c copy): a loaded test machine cannot starve it.
 */
async function publishClip(room: Room, peer: Peer) {
  const file = await clip({ size: '640x360', video: true, audio: true, sync: false });
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file];
  const streams = [
    {
      kind: 'video',
      source: 'camera',
      map: '0:v',
      pt: 102,
      ssrc: 22_222_222,
      codec: { mimeType: 'video/VP8', clockRate: 90000 },
    },
    {
      kind: 'audio',
      source: 'mic',
      map: '0:a',
      pt: 101,
      ssrc: 11_111_111,
      codec: { mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
    },
  ] as const;
  const ids: { transportId: string; producerId: string }[] = [];
  for (const s of streams) {
    const t = await room.createPlainTransport(peer, 'send', { comedia: true, rtcpMux: false });
    const { producerId } = await room.produce(peer, {
      transportId: t.id,
      kind: s.kind,
      source: s.source,
      rtpParameters: { codecs: [{ ...s.codec, payloadType: s.pt }], encodings: [{ ssrc: s.ssrc }] },
    });
    ids.push({ transportId: t.id, producerId });
    args.push('-map', s.map, '-c', 'copy', '-f', 'rtp', '-rtpflags', 'skip_rtcp', '-ssrc', String(s.ssrc));
    args.push(
      '-payload_type',
      String(s.pt),
      `rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple!.localPort}&pkt_size=1200`,
    );
  }
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
  return {
    camera: ids[0]!,
    mic: ids[1]!,
    /** The microphone published again on its transport (after it was closed). */
    async republishMic() {
      const s = streams[1];
      const { producerId } = await room.produce(peer, {
        transportId: ids[1]!.transportId,
        kind: s.kind,
        source: s.source,
        rtpParameters: { codecs: [{ ...s.codec, payloadType: s.pt }], encodings: [{ ssrc: s.ssrc }] },
      });
      return producerId;
    },
    async stop() {
      if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
      await exited;
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

before(async () => {
  api = await startApiThread();
  mediaDir = mkdtempSync(join(tmpdir(), 'sky-cascade-'));
  const l = await api.lesson('直播：两台 sfu');
  assert.equal(await api.goLive(l.id), 201);
  lessonId = l.id;

  // Node A in this process (the test reads its room), composed as main.ts does; capacity 1: once the
  // teacher is in, the api sends viewers elsewhere.
  const configA = loadConfig(env('a', { SFU_NODE_CAPACITY: '1' }));
  portsA = [configA.RTC_MIN_PORT, configA.RTC_MAX_PORT];
  const logger = process.env['SFU_TEST_LOG']
    ? pino({ level: process.env['SFU_TEST_LOG'] })
    : testLogger('sfu', logOptions('sfu', 'info'));
  // node A's mediasoup worker (this process composes no other node): its CPU during the failover
  const collect = (w: mediasoup.types.Worker) => workersA.push(w);
  mediasoup.observer.on('newworker', collect);
  nodeA = await composeSfu(configA, logger, { version: 'test' });
  mediasoup.observer.off('newworker', collect);
  await nodeA.app.http.listen({ host: '127.0.0.1', port: 0 });
  urlA = `http://127.0.0.1:${(nodeA.app.http.server.address() as AddressInfo).port}`;
  await nodeA.announce(urlA);

  // Node B: its own process (sfu/src/main.ts), to be killed.
  logB = join(mediaDir, 'node-b.log');
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  nodeB = startProcess('sfu-b', process.execPath, ['--import', 'tsx', main], {
    logFile: logB,
    env: { ...process.env, ...env('b', {}) },
  });

  // the teacher: the api names node A (B may not beat yet, or A is the least loaded)
  teacher = await liveClient(urlA, api.tokens.teacher);
  const joined = await teacher.ok('room.join', { lessonId });
  assert.equal(joined.role, 'teacher');
  const room = originRoom();
  watchPipesOfA(room.originRouter as mediasoup.types.Router);
  teacherPeer = room.peers.get(joined.peerId)!;
  teacherMedia = await publishClip(room, teacherPeer);

  // B beats; A (its capacity reached by the teacher) is full: students are sent to B
  const probe = tokens.sign({ sub: '5e0000000000000000000001', role: 'student' });
  const start = Date.now();
  for (;;) {
    const info = await liveInfo(probe);
    if (info.sfuUrl !== urlA) {
      urlB = info.sfuUrl;
      break;
    }
    assert.ok(nodeB.child.exitCode === null, 'node B is running');
    assert.ok(Date.now() - start < 30_000, 'node B joins the directory within 30 s');
    await sleep(200);
  }
  // the teacher is sent to the origin however full: on an edge, what they publish would reach that node only
  assert.equal((await liveInfo(api.tokens.teacher)).sfuUrl, urlA, 'the api sends the teacher to the origin');
});

after(async () => {
  for (const v of [...earlier, ...viewers]) v.udp.close();
  teacher?.close();
  await teacherMedia?.stop();
  await nodeB?.stop(2000);
  await nodeA?.close();
  await api?.close();
  rmSync(mediaDir, { recursive: true, force: true });
});

test('new, closed and paused producers at the origin reach the viewers on node B', () =>
  withNodeLogs({ 'node B': logB }, async () => {
    const room = originRoom();
    const pt = (mime: string) =>
      room.routerRtpCapabilities.codecs!.find((c) => c.mimeType === mime)!.preferredPayloadType as number;
    const [video, audio] = [pt('video/VP8'), pt('audio/opus')];
    const few = await Promise.all([1000, 1001, 1002].map((i) => viewer(i)));
    const before = pipesOfA.size;
    try {
      await inBatches(few, 3, joinAsViewer);
      assert.ok(
        few.every((v) => v.node === urlB),
        'the viewers were sent to node B',
      );
      // one link for the lesson and node B, shared by its viewers: one PipeTransport more on A
      assert.equal(pipesOfA.size, before + 1);
      /** Whether every viewer's packets of `type` grow (or, `flowing` false, stay still) over 1.5 s. */
      const flows = async (type: number, flowing: boolean) => {
        const deadline = Date.now() + 8000;
        for (;;) {
          const before = few.map((v) => v.byPt.get(type) ?? 0);
          await sleep(1500);
          const grew = few.map((v, i) => (v.byPt.get(type) ?? 0) > before[i]!);
          if (grew.every((g) => g === flowing)) return;
          assert.ok(Date.now() < deadline, `payload type ${type} ${flowing ? 'flows' : 'stops'} within 8 s`);
        }
      };
      await flows(video, true);
      await flows(audio, true);
      // paused at the origin: the pipe producer on B pauses, its viewers get no video
      await room.setProducerPaused(teacherPeer, teacherMedia!.camera.producerId, true);
      await flows(video, false);
      await flows(audio, true);
      await room.setProducerPaused(teacherPeer, teacherMedia!.camera.producerId, false);
      await flows(video, true);
      // closed at the origin: gone on B; published again: a new producer, piped and consumed on B
      room.closeProducer(teacherPeer, teacherMedia!.mic.producerId);
      await flows(audio, false);
      const again = await teacherMedia!.republishMic();
      assert.notEqual(again, teacherMedia!.mic.producerId);
      await flows(audio, true);
      await flows(video, true);
    } finally {
      // their sockets stay bound until the file ends: node B keeps sending to these ports (a plain viewer
      // has no leave), and a later viewer given one of them would receive two viewers' streams
      earlier.push(...few);
    }
  }));

test('300 viewers on node B receive the teacher on node A through one pipe; B killed, they move to A within 5 s', (t) =>
  withNodeLogs({ 'node B': logB }, async () => {
    const room = originRoom();
    const transportsBefore = pipesOfA.size;
    for (let i = 0; i < VIEWERS; i++) viewers.push(await viewer(i));
    const joinStart = Date.now();
    await inBatches(viewers, 10, joinAsViewer);
    const joinSec = (Date.now() - joinStart) / 1000;
    assert.ok(
      viewers.every((v) => v.node === urlB),
      'every student was sent to node B',
    );
    // the link node B opened for the first viewers carries these 300 too: no new transport on A
    const transportsOfA = pipesOfA.size;
    assert.equal(
      transportsOfA,
      transportsBefore,
      `node A's pipe transports: ${transportsBefore} → ${transportsOfA}`,
    );
    assert.equal(room.peers.size, 1, 'node A has only the teacher');

    // all of them receive (a key frame at least once a second), then ~10 s counted
    await until('every viewer on B receives', () => viewers.every((v) => v.packets > 0), 15_000);
    await sleep(1000);
    // the teacher's packets as the origin received them, against the viewers' a moment later (what A
    // received reaches B's viewers within milliseconds: both windows are shifted alike)
    const sent0 = await sentByTeacher();
    await sleep(200);
    const got0 = viewers.map((v) => v.packets);
    for (const v of viewers) v.window = new RtpWindow();
    await sleep(10_000);
    const sent1 = await sentByTeacher();
    await sleep(200);
    const got = viewers.map((v, i) => v.packets - got0[i]!);
    for (const v of viewers) {
      v.window0 = v.window ?? new RtpWindow();
      delete v.window;
    }
    const sent = sent1.total - sent0.total;
    // loss as RTP receivers count it: each viewer's gaps in its streams' sequence numbers over the window
    // (they also count the stand-in teacher's own uplink losses: ffmpeg → A has no NACK)
    const delivered = viewers.map((v) => {
      const ws = v.window0!.sums();
      assert.equal(ws.length, 2, 'every viewer receives two streams (camera and microphone)');
      return deliveredShare(ws);
    });
    const worst = Math.min(...delivered);
    t.diagnostic(
      `${VIEWERS} viewers joined B in ${joinSec.toFixed(1)} s; over 10 s the teacher sent ${sent} packets ` +
        `(${sent1.video - sent0.video} video) and viewers received min ${Math.min(...got)} median ${median(got)}; ` +
        `delivered by RTP sequence numbers: worst viewer ${(worst * 100).toFixed(2)} %, median ` +
        `${(median(delivered) * 100).toFixed(2)} %`,
    );
    assert.ok(sent > 1000, `the teacher sent ${sent} packets in 10 s`);
    assert.ok(worst >= 0.99, `the worst viewer received ${(worst * 100).toFixed(2)} % of its packets`);
    // and the viewers' streams are the teacher's whole streams: a count against what A received, which
    // only the delivery delay drifting under load (a fraction of a second) sets apart
    assert.ok(median(got) >= 0.95 * sent, `the median viewer received ${median(got)} of ${sent} packets`);

    // B dies: its viewers (their signalling connection gone) ask the api again and land on A
    const cpu0 = process.cpuUsage();
    /** CPU (µs) node A's workers have used. */
    const workerCpu = async () => {
      let us = 0;
      for (const w of workersA) {
        const ru = await w.getResourceUsage();
        us += (ru.ru_utime + ru.ru_stime) * 1000;
      }
      return us;
    };
    const workerCpu0 = await workerCpu();
    const killedAt = Date.now();
    for (const v of viewers) v.since = killedAt;
    nodeB.child.kill('SIGKILL');
    await nodeB.exited;
    const failures = new Map<string, number>();
    const rejoin = async (v: Viewer) => {
      for (;;) {
        try {
          // the node it lost is the one it says it could not reach, as a client does
          await joinAsViewer(v, urlB);
          if (v.node !== urlB) return;
        } catch (err) {
          // B does not answer (or the api still names it for a moment): ask again
          const stage = v.answered !== undefined && v.answered >= v.asked! ? 'join' : 'ask';
          const why = `${stage}: ${(err as Error).message}`
            .replace(/http:\/\/[^ ]+|127\.0\.0\.1:\d+/, v.node === urlB ? 'B' : 'A')
            .slice(0, 80);
          failures.set(why, (failures.get(why) ?? 0) + 1);
        }
        if (Date.now() - killedAt > 15_000) throw new Error('no node took the viewer within 15 s');
        // as socket.io's reconnection: 500 ms ± 50 %, so that a node's viewers do not come back in step
        await sleep(250 + Math.random() * 500);
      }
    };
    await Promise.all(viewers.map(rejoin));
    await until('every viewer receives from A again', () => viewers.every((v) => v.firstAfter), 15_000);
    const cpu = process.cpuUsage(cpu0);
    const workerUs = (await workerCpu()) - workerCpu0;
    const failover = viewers.map((v) => (v.firstAfter! - killedAt) / 1000);
    const attempts = viewers.map((v) => (v.since - killedAt) / 1000);
    const phase = (f: (v: Viewer) => number) => {
      const xs = viewers.map((v) => f(v) / 1000);
      return `median ${median(xs).toFixed(2)} worst ${Math.max(...xs).toFixed(2)} s`;
    };
    t.diagnostic(
      `failover phases of the last attempt: asked the api ${phase((v) => v.asked! - killedAt)} after the kill; ` +
        `its answer took ${phase((v) => v.answered! - v.asked!)}; A's join took ${phase((v) => v.joined! - v.answered!)}; ` +
        `first packet ${phase((v) => v.firstAfter! - v.joined!)} after it; this process (api, node A, viewers) ` +
        `used ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s of CPU until the last viewer received, node A's ` +
        `mediasoup worker ${(workerUs / 1e6).toFixed(2)} s`,
    );
    t.diagnostic(
      `failover after SIGKILL of B: median ${median(failover).toFixed(2)} s, worst ${Math.max(...failover).toFixed(2)} s ` +
        `(the successful join on A began after ${Math.min(...attempts).toFixed(2)}–${Math.max(...attempts).toFixed(2)} s; ` +
        `failed attempts: ${JSON.stringify([...failures])})`,
    );
    assert.ok(
      viewers.every((v) => v.node === urlA),
      'every viewer re-joined on node A',
    );
    assert.ok(
      Math.max(...failover) <= 5,
      `the last viewer received from A ${Math.max(...failover)} s after the kill`,
    );
    assert.equal(originRoom().students(), VIEWERS);
  }));
