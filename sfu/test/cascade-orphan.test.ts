// npm-test: alone (it kills an origin node twice and times what node B's viewers see, with three sfu processes)
// An edge node whose origin dies, for a lesson no other node takes: node A (the origin, its own process,
// the teacher publishing there) and node B (the edge, in this process) with plain-RTP viewers and a
// student's socket. Either the teacher comes back to B itself, and B becomes the lesson's origin at once
// (the teacher's new streams reach B's viewers, and the teacher can end the lesson there); or the teacher
// never comes back, and B takes the lesson after ORPHAN_WAIT_MS and ends it after the teacher's grace, as
// the origin would have: its students are told, and the api's lesson ends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SFU_DIRECTORY } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { connectRedis } from '@sky/contracts/redis';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { testLogger, type Managed } from '@sky/devkit';
import { composeSfu, type ComposedSfu } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { ORPHAN_WAIT_MS } from '../src/services/cascade.js';
import { CASCADE_SECRET_HEADER } from '../src/services/cascade-wire.js';
import { plainProducers, sendClip } from './cascade-publish.js';
import {
  askLiveInfo,
  CASCADE_TEST_SECRET,
  cascadeNodeEnv,
  startPublishingNode,
  withNodeLogs,
} from './cascade-nodes.js';
import { JWT_SECRET, liveClient, sleep, until, type LiveClient } from './helpers.js';
import { startApiThread } from './api-thread.js';
import type { RealApi } from './real-api.js';
import { startViewerFarm, type ViewerFarm } from './viewer-farm.js';

const VIEWERS = 3;
const GRACE_SEC = 3;
const tokens = createTokenIssuer(JWT_SECRET, 900);

let api: RealApi;
const env = (name: string, extra: Record<string, string> = {}) => cascadeNodeEnv(api, dir, name, extra);
const liveInfo = (lessonId: string, token: string, unreachable?: string) =>
  askLiveInfo(api.url, lessonId, token, unreachable);
let dir: string;
let nodeB: ComposedSfu;
let urlB: string;
let idB: string;
let farm: ViewerFarm;
let farmed = 0;
const origins: Managed[] = [];
const clips: { stop(): Promise<void> }[] = [];
const clients: LiveClient[] = [];

/** The node holding the lesson's lease in the sfu directory (its origin), if any. */
async function leaseHolder(lessonId: string): Promise<string | null> {
  const redis = connectRedis({ url: api.redisUrl });
  try {
    return await redis.get(SFU_DIRECTORY.lesson(api.prefix, lessonId));
  } finally {
    redis.disconnect();
  }
}

/**
 * A live lesson taught on a new origin node A (its own process, capacity 1: students go to B), watched on
 * B by plain-RTP viewers and one student's socket (which hears what the room says).
 */
async function lessonOnA(n: number) {
  const lesson = await api.lesson(`直播：源节点消失 ${n}`);
  assert.equal(await api.goLive(lesson.id), 201);
  const { node: nodeA, targets } = await startPublishingNode(
    `a${n}`,
    env(`a${n}`, { SFU_NODE_CAPACITY: '1' }),
    { token: api.tokens.teacher, lessonId: lesson.id },
    join(dir, `node-a${n}.log`),
  );
  origins.push(nodeA);
  const clip = await sendClip(targets);
  clips.push(clip);
  // A beats and holds the lease; students are sent to B
  const student = (i: number) =>
    tokens.sign({ sub: `5b${(n * 100 + i).toString(16).padStart(22, '0')}`, role: 'student' });
  const start = Date.now();
  let urlA: string;
  for (;;) {
    const teacherAt = (await liveInfo(lesson.id, api.tokens.teacher)).sfuUrl;
    if (teacherAt !== urlB && (await liveInfo(lesson.id, student(0))).sfuUrl === urlB) {
      urlA = teacherAt;
      break;
    }
    assert.ok(Date.now() - start < 30_000, 'the api sends the teacher to A and students to B within 30 s');
    await sleep(200);
  }
  const ports = await farm.bind(VIEWERS);
  const viewers = ports.map((port, i) => ({ index: farmed++, token: student(i + 1), port }));
  for (const v of viewers) {
    const res = await fetch(`${urlB}/internal/plain-viewers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CASCADE_SECRET_HEADER]: CASCADE_TEST_SECRET },
      body: JSON.stringify({ token: v.token, lessonId: lesson.id, rtp: { ip: '127.0.0.1', port: v.port } }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200, await res.clone().text());
  }
  const watcher = await liveClient(urlB, student(0));
  clients.push(watcher);
  await watcher.ok('room.join', { lessonId: lesson.id });
  await until(
    "B's viewers receive the teacher from A",
    () => viewers.every((v) => farm.packets(v.index) > 0),
    15_000,
  );
  assert.equal(await leaseHolder(lesson.id), `a${n}-${process.pid}`, 'A is the origin');
  return {
    lessonId: lesson.id,
    urlA,
    viewers,
    watcher,
    /** SIGKILL, and the teacher's stream stops with it. */
    async kill() {
      nodeA.child.kill('SIGKILL');
      await nodeA.exited;
      await clip.stop();
      return Date.now();
    },
  };
}

/** The origin nodes' logs, by name. */
const originLogs = () => Object.fromEntries([1, 2].map((n) => [`node a${n}`, join(dir, `node-a${n}.log`)]));

before(async () => {
  api = await startApiThread();
  dir = mkdtempSync(join(tmpdir(), 'sky-orphan-'));
  const configB = loadConfig(env('b', { TEACHER_GRACE_SEC: String(GRACE_SEC) }));
  idB = configB.SFU_NODE_ID;
  farm = startViewerFarm(VIEWERS * 2, [configB.RTC_MIN_PORT, configB.RTC_MAX_PORT]);
  nodeB = await composeSfu(configB, testLogger('sfu', logOptions('sfu', 'info')), { version: 'test' });
  await nodeB.app.http.listen({ host: '127.0.0.1', port: 0 });
  urlB = `http://127.0.0.1:${(nodeB.app.http.server.address() as AddressInfo).port}`;
  await nodeB.announce(urlB);
});

after(async () => {
  for (const c of clients) c.close();
  for (const c of clips) await c.stop();
  for (const a of origins) await a.stop(2000);
  await farm?.close();
  await nodeB?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the origin dies and the teacher comes back to the edge node: it becomes the origin, its viewers see the teacher, the teacher ends the lesson there', (t) =>
  withNodeLogs(originLogs(), async () => {
    const lesson = await lessonOnA(1);
    const killedAt = await lesson.kill();
    // the teacher's client asks the api (naming the node it lost) and joins where it is sent, as the studio
    // does: its socket.io reconnects a second or more after the drop (live-failover-ui measures it)
    await sleep(SFU_DIRECTORY.staleMs + 300);
    const { sfuUrl } = await liveInfo(lesson.lessonId, api.tokens.teacher, lesson.urlA);
    assert.equal(sfuUrl, urlB, 'the api sends the teacher to the one live node, B');
    const teacher = await liveClient(urlB, api.tokens.teacher);
    clients.push(teacher);
    const joined = await teacher.ok('room.join', { lessonId: lesson.lessonId });
    assert.equal(joined.role, 'teacher');
    // B took the lesson's lease on the teacher's join, not ORPHAN_WAIT_MS later
    assert.equal(
      await leaseHolder(lesson.lessonId),
      idB,
      "B holds the lesson's lease once the teacher joined",
    );
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < ORPHAN_WAIT_MS, `B became the origin ${tookMs} ms after A's kill`);

    const room = nodeB.app.rooms.room(lesson.lessonId)!;
    const publishedAt = Date.now();
    for (const v of lesson.viewers) farm.since(v.index, publishedAt);
    clips.push(await sendClip(await plainProducers(room, room.peers.get(joined.peerId)!)));
    await until(
      "B's viewers receive the teacher's new streams",
      () => lesson.viewers.every((v) => farm.firstAfter(v.index) !== undefined),
      10_000,
    );
    const seen = lesson.viewers.map((v) => (farm.firstAfter(v.index)! - publishedAt) / 1000);
    t.diagnostic(
      `A killed; the teacher joined B ${(tookMs / 1000).toFixed(2)} s later, B holding the lease then; ` +
        `B's viewers received the new streams ${Math.max(...seen).toFixed(2)} s after the teacher published`,
    );
    await sleep(1000);
    const before = lesson.viewers.map((v) => farm.packets(v.index));
    await sleep(1000);
    assert.ok(
      lesson.viewers.every((v, i) => farm.packets(v.index) > before[i]! + 50),
      'the viewers keep receiving',
    );

    // the origin's teacher may end the lesson (an edge refuses that): the class and the api are told
    const ended = await teacher.ok('room.end', {});
    assert.equal(ended.lessonId, lesson.lessonId);
    await lesson.watcher.next('room.ended', undefined, 10_000);
    const start = Date.now();
    for (;;) {
      const info = await liveInfo(lesson.lessonId, api.tokens.teacher);
      if (info.state === 'ended') break;
      assert.ok(Date.now() - start < 15_000, `the api's lesson ends within 15 s (${info.state})`);
      await sleep(200);
    }
    assert.equal(await leaseHolder(lesson.lessonId), null, 'the lease is given back');
  }));

test('the origin dies and the teacher never comes back: the edge takes the lesson and ends it after the teacher’s grace', (t) =>
  withNodeLogs(originLogs(), async () => {
    const lesson = await lessonOnA(2);
    const killedAt = await lesson.kill();
    for (;;) {
      if ((await leaseHolder(lesson.lessonId)) === idB) break;
      assert.ok(
        Date.now() - killedAt < ORPHAN_WAIT_MS + 10_000,
        `B holds the lease within ${(ORPHAN_WAIT_MS + 10_000) / 1000} s of A's kill`,
      );
      await sleep(200);
    }
    const took = Date.now() - killedAt;
    assert.ok(took >= ORPHAN_WAIT_MS, `B waited ${took} ms for the teacher to publish elsewhere`);
    // the student is told the lesson ended, after the teacher's grace at B
    const ended = await lesson.watcher.next('room.ended', undefined, GRACE_SEC * 1000 + 10_000);
    assert.equal(ended.lessonId, lesson.lessonId);
    const endedAfter = Date.now() - killedAt;
    for (;;) {
      const info = await liveInfo(lesson.lessonId, api.tokens.teacher);
      if (info.state === 'ended') break;
      assert.ok(Date.now() - killedAt < 60_000, `the api's lesson ends (${info.state})`);
      await sleep(200);
    }
    t.diagnostic(
      `A killed; B took the lesson ${(took / 1000).toFixed(2)} s later (waits ${ORPHAN_WAIT_MS / 1000} s), ` +
        `and ended it ${(endedAfter / 1000).toFixed(2)} s after the kill (teacher's grace ${GRACE_SEC} s)`,
    );
    assert.equal(await leaseHolder(lesson.lessonId), null, 'the lease is given back');
  }));
