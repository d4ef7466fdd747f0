// npm-test: alone (it times how fast an edge's viewers see the teacher again, with three sfu nodes here)
// The origin of a lesson dies and the teacher publishes again on another node: that node becomes the
// lesson's origin in the sfu directory (the dead node's lease lapsing), and the edge node whose viewers
// watched through the dead origin pipes from the new one, its viewers staying where they are. Node A (the
// origin, its own process, the teacher publishing there), node B (the edge, its own process, src/main.ts)
// with plain-RTP viewers (Node has no WebRTC), node C in this process, where the teacher comes back.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { SFU_DIRECTORY } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { connectRedis } from '@sky/contracts/redis';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { startProcess, testLogger, type Managed } from '@sky/devkit';
import { composeSfu, type ComposedSfu } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { CASCADE_SECRET_HEADER } from '../src/services/cascade-wire.js';
import { plainProducers, sendClip } from './cascade-publish.js';
import {
  askLiveInfo,
  CASCADE_TEST_SECRET,
  cascadeNodeEnv,
  startPublishingNode,
  deliveredShare,
  RtpWindow,
  teacherRtp,
  withNodeLogs,
} from './cascade-nodes.js';
import { JWT_SECRET, liveClient, sleep, until, type LiveClient } from './helpers.js';
import { startRealApi, type RealApi } from './real-api.js';

const VIEWERS = 20;
const tokens = createTokenIssuer(JWT_SECRET, 900);

let api: RealApi;
const env = (name: string, extra: Record<string, string> = {}) => cascadeNodeEnv(api, dir, name, extra);
const liveInfo = (token: string, unreachable?: string) => askLiveInfo(api.url, lessonId, token, unreachable);
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
  /** While open: its streams' sequence numbers (loss as receivers count it). */
  window?: RtpWindow;
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
    const rtp = teacherRtp(msg);
    if (!rtp) return;
    const { ssrc } = rtp;
    v.bySsrc.set(ssrc, (v.bySsrc.get(ssrc) ?? 0) + 1);
    if (!v.frozen) v.old.add(ssrc);
    else if (v.firstNew === undefined && !v.old.has(ssrc)) v.firstNew = Date.now();
    v.window?.add(ssrc, rtp.seq);
  });
  return v;
}

/** As a client does: the api names the node (B here), the viewer joins there as a plain-RTP viewer. */
async function joinAsViewer(v: Viewer): Promise<string> {
  const { sfuUrl } = await liveInfo(v.token);
  const res = await fetch(`${sfuUrl}/internal/plain-viewers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CASCADE_SECRET_HEADER]: CASCADE_TEST_SECRET },
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
  const a = await startPublishingNode(
    'a',
    env('a', { SFU_NODE_CAPACITY: '1' }),
    { token: api.tokens.teacher, lessonId },
    join(dir, 'node-a.log'),
  );
  nodeA = a.node;
  clips.push(await sendClip(a.targets));
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

test('the origin node dies, the teacher publishes on node C: C takes the lease and the viewers on edge B see the teacher again without re-joining', (t) =>
  withNodeLogs({ 'node A': join(dir, 'node-a.log'), 'node B': join(dir, 'node-b.log') }, async () => {
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
    for (const v of viewers) v.window = new RtpWindow();
    await sleep(5000);
    const delivered = viewers.map((v) => {
      const ws = v.window!.sums();
      delete v.window;
      assert.equal(ws.length, 2, 'each viewer receives the camera and the microphone');
      return deliveredShare(ws);
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
