// npm-test: alone (it times how fast an edge's viewers see the teacher again, with three sfu nodes here)
// The origin of a lesson dies and the teacher publishes again on another node: that node becomes the
// lesson's origin in the sfu directory (the dead node's lease lapsing), and the edge node whose viewers
// watched through the dead origin pipes from the new one, its viewers staying where they are. Node A (the
// origin, its own process, the teacher publishing there), node B (the edge, its own process, src/main.ts)
// with plain-RTP viewers (Node has no WebRTC), node C in this process, where the teacher comes back.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { SFU_DIRECTORY, type LiveInfo } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { connectRedis } from '@sky/contracts/redis';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { reserveRtcPorts, startProcess, testLogger, type Managed } from '@sky/devkit';
import { composeSfu, type ComposedSfu } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { CASCADE_SECRET_HEADER } from '../src/services/cascade-wire.js';
import { plainProducers, sendClip, type PlainTarget } from './cascade-publish.js';
import { JWT_SECRET, liveClient, sleep, until, type LiveClient } from './helpers.js';
import { startRealApi, type RealApi } from './real-api.js';

const VIEWERS = 20;
const SECRET = 'cascade-test-secret-of-at-least-32-chars';
const tokens = createTokenIssuer(JWT_SECRET, 900);

let api: RealApi;
let dir: string;
let lessonId: string;
let nodeA: Managed;
let nodeB: Managed;
let nodeC: ComposedSfu | undefined;
let urlA: string;
let urlB: string;
let urlC: string;
let idC: string;
let teacherC: LiveClient | undefined;
const clips: { stop(): Promise<void> }[] = [];
const viewers: Viewer[] = [];

interface Viewer {
  token: string;
  udp: UdpSocket;
  /** SSRCs received before the origin died: the dead origin's streams. */
  old: Set<number>;
  frozen: boolean;
  /** Packets per SSRC. */
  bySsrc: Map<number, number>;
  /** The first packet of a stream that was not the dead origin's (ms since epoch). */
  firstNew?: number;
  /**
   * While open: per SSRC the lowest and highest extended sequence number seen and the distinct ones;
   * expected = highest − lowest + 1, as RTP receivers count loss (RFC 3550 §6.4.1).
   */
  window?: Map<number, { first: number; last: number; seen: Set<number> }>;
}

function env(name: string, extra: Record<string, string>): Record<string, string> {
  const [min, max] = reserveRtcPorts();
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    MEDIASOUP_WORKER_BIN: process.env['MEDIASOUP_WORKER_BIN'] ?? '',
    NUM_WORKERS: '1',
    RTC_MIN_PORT: String(min),
    RTC_MAX_PORT: String(max),
    JWT_SECRET,
    API_URL: api.url,
    MEDIA_DIR: dir,
    REDIS_URL: api.redisUrl,
    // the directory's keys live under the api's (unique) test prefix: this test owns them
    QUEUE_PREFIX: api.prefix,
    CASCADE_SECRET: SECRET,
    SFU_NODE_ID: `${name}-${process.pid}`,
    ...extra,
  };
}

async function liveInfo(token: string, unreachable?: string): Promise<LiveInfo> {
  const query = unreachable ? `?${new URLSearchParams({ unreachable }).toString()}` : '';
  const res = await fetch(`${api.url}/api/lessons/${lessonId}/live${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as LiveInfo;
}

async function viewer(i: number): Promise<Viewer> {
  const udp = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const v: Viewer = {
    token: tokens.sign({ sub: `5d${i.toString(16).padStart(22, '0')}`, role: 'student' }),
    udp,
    old: new Set(),
    frozen: false,
    bySsrc: new Map(),
  };
  udp.on('message', (msg) => {
    // RTP media only (not RTCP, not mediasoup's probation packets, SSRC 1234)
    if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80 || (msg[1]! >= 200 && msg[1]! <= 206)) return;
    const ssrc = msg.readUInt32BE(8);
    if (ssrc === 1234) return;
    v.bySsrc.set(ssrc, (v.bySsrc.get(ssrc) ?? 0) + 1);
    if (!v.frozen) v.old.add(ssrc);
    else if (v.firstNew === undefined && !v.old.has(ssrc)) v.firstNew = Date.now();
    if (v.window) {
      const seq = msg.readUInt16BE(2);
      const w = v.window.get(ssrc);
      if (!w) v.window.set(ssrc, { first: seq, last: seq, seen: new Set([seq]) });
      else {
        // the extended sequence number nearest the highest one (wraps at 65536)
        let ext = (w.last & ~0xffff) | seq;
        if (ext < w.last - 0x8000) ext += 0x10000;
        else if (ext > w.last + 0x8000) ext -= 0x10000;
        w.last = Math.max(w.last, ext);
        w.first = Math.min(w.first, ext);
        w.seen.add(ext);
      }
    }
  });
  return v;
}

/** As a client does: the api names the node (B here), the viewer joins there as a plain-RTP viewer. */
async function joinAsViewer(v: Viewer): Promise<string> {
  const { sfuUrl } = await liveInfo(v.token);
  const res = await fetch(`${sfuUrl}/internal/plain-viewers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CASCADE_SECRET_HEADER]: SECRET },
    body: JSON.stringify({ token: v.token, lessonId, rtp: { ip: '127.0.0.1', port: v.udp.address().port } }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(((await res.json()) as { consumers: number }).consumers, 2, 'camera and microphone');
  return sfuUrl;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Waits for a node's first beat: the api names it for a lesson (a probe student asking). */
async function named(url: string | ((u: string) => boolean), what: string): Promise<string> {
  const probe = tokens.sign({ sub: '5c0000000000000000000001', role: 'student' });
  const start = Date.now();
  for (;;) {
    const { sfuUrl } = await liveInfo(probe);
    if (typeof url === 'string' ? sfuUrl === url : url(sfuUrl)) return sfuUrl;
    assert.ok(Date.now() - start < 30_000, `${what} within 30 s`);
    await sleep(200);
  }
}

before(async () => {
  api = await startRealApi();
  dir = mkdtempSync(join(tmpdir(), 'sky-reelect-'));
  const l = await api.lesson('直播：换一台 sfu');
  assert.equal(await api.goLive(l.id), 201);
  lessonId = l.id;

  // A: the teacher publishes there at once (the lesson's origin); capacity 1, so students go to B
  const portsFile = join(dir, 'a-ports.json');
  nodeA = startProcess(
    'sfu-a',
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./cascade-origin-node.ts', import.meta.url))],
    {
      logFile: join(dir, 'node-a.log'),
      env: {
        ...process.env,
        ...env('a', { SFU_NODE_CAPACITY: '1' }),
        PUBLISH_TOKEN: api.tokens.teacher,
        PUBLISH_LESSON: lessonId,
        PUBLISH_PORTS_FILE: portsFile,
      },
    },
  );
  await until(
    'node A publishes the teacher',
    () => {
      assert.ok(nodeA.child.exitCode === null, 'node A is running');
      try {
        return (JSON.parse(readFileSync(portsFile, 'utf8')) as PlainTarget[]).length === 2;
      } catch {
        return false; // not written yet
      }
    },
    30_000,
  );
  clips.push(await sendClip(JSON.parse(readFileSync(portsFile, 'utf8')) as PlainTarget[]));
  urlA = await named(() => true, 'node A beats');

  nodeB = startProcess(
    'sfu-b',
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('../src/main.ts', import.meta.url))],
    { logFile: join(dir, 'node-b.log'), env: { ...process.env, ...env('b', {}) } },
  );
  urlB = await named((u) => u !== urlA, 'node B beats, and A (full) sends students there');
});

after(async () => {
  for (const v of viewers) v.udp.close();
  teacherC?.close();
  for (const c of clips) await c.stop();
  await nodeA?.stop(2000);
  await nodeB?.stop(2000);
  await nodeC?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The nodes' logs (not their info lines), when the test fails. */
async function withLogs(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`${inspect(err)}\n`);
    for (const n of ['a', 'b'])
      process.stderr.write(
        `--- node ${n}\n` +
          readFileSync(join(dir, `node-${n}.log`), 'utf8')
            .split('\n')
            .filter((l) => !l.includes('"level":30'))
            .join('\n')
            .slice(-4000),
      );
    throw err;
  }
}

test('the origin node dies, the teacher publishes on node C: C takes the lease and the viewers on edge B see the teacher again without re-joining', (t) =>
  withLogs(async () => {
    for (let i = 0; i < VIEWERS; i++) viewers.push(await viewer(i));
    for (const v of viewers)
      assert.equal(await joinAsViewer(v), urlB, 'the api sends the students to node B');
    await until(
      'every viewer on B receives the teacher from A',
      () => viewers.every((v) => v.old.size === 2),
      15_000,
    );

    // C joins the directory only now (else the api would have shared the students between B and C)
    const configC = loadConfig(env('c', {}));
    idC = configC.SFU_NODE_ID;
    nodeC = await composeSfu(configC, testLogger('sfu', logOptions('sfu', 'info')), { version: 'test' });
    await nodeC.app.http.listen({ host: '127.0.0.1', port: 0 });
    urlC = `http://127.0.0.1:${(nodeC.app.http.server.address() as AddressInfo).port}`;
    await nodeC.announce(urlC);

    // A dies with the teacher's stream: nothing tells B
    for (const v of viewers) v.frozen = true;
    const killedAt = Date.now();
    nodeA.child.kill('SIGKILL');
    await nodeA.exited;
    await clips.shift()!.stop();

    // the teacher's client asks the api, saying which node it lost, and joins where it is sent (again a
    // moment later if that node cannot take the room yet: the dead node's lease has not lapsed)
    let joinedAt = 0;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const { sfuUrl } = await liveInfo(api.tokens.teacher, urlA);
      assert.equal(sfuUrl, urlC, 'the api sends the teacher to the least-loaded live node, C');
      const client = await liveClient(urlC, api.tokens.teacher);
      const reply = await client.request('room.join', { lessonId });
      if (reply.ok) {
        assert.equal(reply.data.role, 'teacher');
        teacherC = client;
        const room = nodeC.app.rooms.room(lessonId)!;
        clips.push(await sendClip(await plainProducers(room, room.peers.get(reply.data.peerId)!)));
        joinedAt = Date.now();
        break;
      }
      client.close();
      assert.ok(Date.now() - killedAt < 15_000, `the teacher joins C within 15 s (${reply.error.message})`);
      await sleep(250 + Math.random() * 500);
    }

    // C holds the lesson's lease now (A's lapsed), under the directory's hash-tagged key
    const redis = connectRedis({ url: api.redisUrl });
    try {
      assert.equal(await redis.get(SFU_DIRECTORY.lesson(api.prefix, lessonId)), idC);
    } finally {
      redis.disconnect();
    }

    await until(
      'every viewer on B receives the teacher from C',
      () => viewers.every((v) => v.firstNew),
      15_000,
    );
    const sinceKill = viewers.map((v) => (v.firstNew! - killedAt) / 1000);
    const sincePublish = viewers.map((v) => (v.firstNew! - joinedAt) / 1000);
    t.diagnostic(
      `origin A killed; the teacher published on C ${((joinedAt - killedAt) / 1000).toFixed(2)} s later ` +
        `(${attempts} join attempts); B's viewers received from C ${median(sincePublish).toFixed(2)} s ` +
        `(median), ${Math.max(...sincePublish).toFixed(2)} s (worst) after that, ` +
        `${median(sinceKill).toFixed(2)} / ${Math.max(...sinceKill).toFixed(2)} s after the kill`,
    );
    // B looks for a new origin every beat (0.5 s); then one link and the viewers' consumers
    assert.ok(
      Math.max(...sincePublish) <= 3,
      `the last viewer received the teacher from C ${Math.max(...sincePublish)} s after the teacher published`,
    );

    // and keep receiving both streams, all of their packets (5 s counted by RTP sequence numbers)
    for (const v of viewers) v.window = new Map();
    await sleep(5000);
    const delivered = viewers.map((v) => {
      const ws = [...v.window!.values()];
      delete v.window;
      assert.equal(ws.length, 2, 'each viewer receives the camera and the microphone');
      return ws.reduce((a, w) => a + w.seen.size, 0) / ws.reduce((a, w) => a + w.last - w.first + 1, 0);
    });
    const packets = viewers.map((v) => [...v.bySsrc].filter(([ssrc]) => !v.old.has(ssrc)).length);
    t.diagnostic(
      `over 5 s after that, delivered by RTP sequence numbers: worst viewer ` +
        `${(Math.min(...delivered) * 100).toFixed(2)} %, median ${(median(delivered) * 100).toFixed(2)} %`,
    );
    assert.ok(
      packets.every((n) => n === 2),
      'every viewer receives the two new streams',
    );
    assert.ok(
      Math.min(...delivered) >= 0.99,
      `the worst viewer received ${(Math.min(...delivered) * 100).toFixed(2)} % of its packets`,
    );
  }));
