// Seats and transports per person (issue 15): one account takes one seat of a room however many tabs or
// sockets it opens (the newest join is the seat: a reload), and one peer holds a bounded number of
// WebRTC transports however many it asks for at once. Real mediasoup workers and socket.io; the api is
// an in-process stand-in (the ApiClient seam), as in rooms.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AppError, LIVE_LIMITS, type LiveInfo } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import type { ApiClient } from '../src/adapters/api-client.js';
import { JWT_SECRET, liveClient, peerOf, startSfu, type LiveClient, type TestSfu } from './helpers.js';

const tokens = createTokenIssuer(JWT_SECRET, 900);
const TEACHER = 'a1a1a1a1a1a1a1a1a1a1a1a1';
const token = (sub: string, role: 'teacher' | 'student') => tokens.sign({ sub, role });
const student = (i: number) => i.toString(16).padStart(24, 'b');

const live = new Set<string>();
const api: ApiClient = {
  async liveInfo(lessonId): Promise<LiveInfo> {
    if (!live.has(lessonId)) throw new AppError('NOT_FOUND', 'no such lesson');
    return {
      lessonId,
      state: 'live',
      teacherId: TEACHER,
      startedAt: '2026-11-29T08:00:00.000Z',
      sfuUrl: 'http://sfu',
      hls: { web: '', tv: '' },
    };
  },
  async me() {
    throw new AppError('DEPENDENCY_DOWN', 'names are optional');
  },
};

const CAP = 4;
let sfu: TestSfu;
const clients: LiveClient[] = [];
let n = 0;
const newLesson = () => {
  const id = (++n).toString(16).padStart(24, 'e');
  live.add(id);
  return id;
};
const client = async (sub: string, role: 'teacher' | 'student' = 'student') => {
  const c = await liveClient(sfu.url, token(sub, role));
  clients.push(c);
  return c;
};

before(async () => {
  sfu = await startSfu({
    api,
    workers: 1,
    audienceCap: CAP,
    bridges: () => ({
      async update() {},
      async stop() {
        return { recording: '', durationSec: 0 };
      },
    }),
  });
});
after(async () => {
  for (const c of clients) c.close();
  await sfu.close();
});

test('one student on many sockets holds one seat: others still get in, and the newest join is the seat', async () => {
  const lessonId = newLesson();
  const greedy = student(1);
  const sockets = await Promise.all(Array.from({ length: CAP + 2 }, () => client(greedy)));
  const joins = [];
  for (const s of sockets) joins.push(await s.request('room.join', { lessonId }));
  const room = sfu.app.rooms.room(lessonId)!;
  assert.equal(room.peers.ofUser(greedy).length, 1, 'one seat for one account');
  assert.equal(room.students(), 1);

  // the other students of the class are not locked out by the greedy account
  for (let i = 2; i <= CAP; i++) {
    const other = await client(student(i));
    const res = await other.request('room.join', { lessonId });
    assert.ok(res.ok, `student ${i}: ${JSON.stringify(res)}`);
  }
  assert.equal(room.students(), CAP);

  // the seat is the newest join (a reload); the replaced sockets are told they are no longer in the room
  const last = joins.at(-1)!;
  assert.ok(last.ok);
  assert.equal(room.peers.ofUser(greedy)[0]!.id, last.data.peerId);
  const stale = await sockets[0]!.request('transport.create', { direction: 'recv' });
  assert.equal(!stale.ok && stale.error.code, 'NOT_JOINED');
  assert.ok((await sockets.at(-1)!.request('transport.create', { direction: 'recv' })).ok);
});

test('the teacher reloading takes the teacher seat back, without a second teacher peer', async () => {
  const lessonId = newLesson();
  const a = await client(TEACHER, 'teacher');
  await a.ok('room.join', { lessonId });
  const b = await client(TEACHER, 'teacher');
  const j = await b.ok('room.join', { lessonId });
  const room = sfu.app.rooms.room(lessonId)!;
  assert.deepEqual(
    room.peers.teachers().map((p) => p.id),
    [j.peerId],
  );
});

test('a peer asking for many transports at once holds at most LIVE_LIMITS.transportsPerPeer', async () => {
  const lessonId = newLesson();
  const s = await client(student(50));
  const j = await s.ok('room.join', { lessonId });
  const asks = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      s.request('transport.create', { direction: i % 2 === 0 ? 'send' : 'recv' }),
    ),
  );
  // every ask is answered (a transport, or a refusal saying why), none is left hanging
  assert.equal(asks.length, 20);
  for (const a of asks) assert.ok(a.ok || a.error.code === 'RATE_LIMITED', JSON.stringify(a));
  const { peer } = peerOf(sfu, lessonId, j.peerId);
  const held = [...peer.transports.values()].filter((t) => t.webrtc);
  assert.ok(
    held.length <= LIVE_LIMITS.transportsPerPeer,
    `${held.length} transports held (at most ${LIVE_LIMITS.transportsPerPeer})`,
  );
  assert.ok(held.filter((t) => t.direction === 'send').length <= 1, 'one send transport');
  assert.ok(held.filter((t) => t.direction === 'recv').length <= 1, 'one recv transport');
  // and the peer can still get a working transport afterwards
  assert.ok((await s.request('transport.create', { direction: 'recv' })).ok);
});
