// Room behaviour that needs no database: the api is an in-process stand-in (the ApiClient seam), the rest
// is real (mediasoup workers, socket.io). The HLS bridge is a recorder here (its own test drives ffmpeg).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { AppError, type LiveInfo } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import type * as mediasoup from 'mediasoup';
import type { ApiClient } from '../src/adapters/api-client.js';
import type { RoomBridge } from '../src/services/room.js';
import {
  JWT_SECRET,
  liveClient,
  peerOf,
  sleep,
  startSfu,
  until,
  type LiveClient,
  type TestSfu,
} from './helpers.js';

const tokens = createTokenIssuer(JWT_SECRET, 900);
const TEACHER = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const STUDENT = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const token = (sub: string, role: 'teacher' | 'student') => tokens.sign({ sub, role });

/** The api as the sfu sees it: per lesson a state, or an error. */
const lessons = new Map<string, LiveInfo['state'] | 'down'>();
const fakeApi: ApiClient = {
  async liveInfo(lessonId) {
    const state = lessons.get(lessonId);
    if (state === undefined) throw new AppError('NOT_FOUND', 'no such lesson');
    if (state === 'down') throw new AppError('DEPENDENCY_DOWN', 'the api cannot be reached');
    return {
      lessonId,
      state,
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

interface BridgeCall {
  lessonId: string;
  video?: string | undefined;
  audio?: string | undefined;
  router?: mediasoup.types.Router | undefined;
}
const bridgeCalls: BridgeCall[] = [];
const bridgeStops: string[] = [];
let sfu: TestSfu;
const clients: LiveClient[] = [];
let n = 0;
const newLesson = (state: LiveInfo['state'] | 'down' = 'live') => {
  const id = (++n).toString(16).padStart(24, 'c');
  lessons.set(id, state);
  return id;
};
const client = async (sub: string, role: 'teacher' | 'student') => {
  const c = await liveClient(sfu.url, token(sub, role));
  clients.push(c);
  return c;
};

before(async () => {
  sfu = await startSfu({
    api: fakeApi,
    workers: 1,
    bridges: (lessonId, router): RoomBridge => {
      bridgeCalls.push({ lessonId, router });
      return {
        async update(sources, r) {
          bridgeCalls.push({ lessonId, video: sources.video?.id, audio: sources.audio?.id, router: r });
        },
        async stop() {
          bridgeStops.push(lessonId);
          return { recording: `live/${lessonId}/recording/recording.mp4`, durationSec: 42 };
        },
      };
    },
  });
});
after(async () => {
  for (const c of clients) c.close();
  await sfu.close();
});

const mic = (ssrc: number) => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc }],
});
const camera = (ssrc: number) => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
  encodings: [{ ssrc }],
});

/** A teacher live in a new lesson with camera (ssrc) and mic (ssrc + 1) produced. */
async function teacherLive(ssrc: number) {
  const lessonId = newLesson();
  const t = await client(TEACHER, 'teacher');
  await t.ok('room.join', { lessonId });
  const send = await t.ok('transport.create', { direction: 'send' });
  const cam = await t.ok('produce', {
    transportId: send.id,
    kind: 'video',
    source: 'camera',
    rtpParameters: camera(ssrc),
  });
  const m = await t.ok('produce', {
    transportId: send.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: mic(ssrc + 1),
  });
  return { lessonId, t, send, cam, m };
}

test('the teacher pauses the camera: the HLS bridge gets no video (black, the voice goes on) until it is resumed', async () => {
  const { lessonId, t, cam, m } = await teacherLive(11);
  const last = () => bridgeCalls.filter((c) => c.lessonId === lessonId).at(-1);
  await until('camera + mic', () => last()?.video === cam.producerId && last()?.audio === m.producerId);
  await t.ok('producer.pause', { producerId: cam.producerId });
  await until('no video while paused', () => last()?.video === undefined && last()?.audio === m.producerId);
  await t.ok('producer.resume', { producerId: cam.producerId });
  await until('the camera again', () => last()?.video === cam.producerId && last()?.audio === m.producerId);
  await t.ok('room.end', {});
});

test('the api down → DEPENDENCY_DOWN; an ended or not started lesson → NOT_LIVE; unknown → NOT_FOUND', async () => {
  const s = await client(STUDENT, 'student');
  for (const [state, code] of [
    ['down', 'DEPENDENCY_DOWN'],
    ['ended', 'NOT_LIVE'],
    ['idle', 'NOT_LIVE'],
  ] as const) {
    const res = await s.request('room.join', { lessonId: newLesson(state) });
    assert.equal(!res.ok && res.error.code, code, state);
  }
  const unknown = await s.request('room.join', { lessonId: 'f'.repeat(24) });
  assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');
  // the name falls back to the user id when the api cannot say it
  const ok = await s.ok('room.join', { lessonId: newLesson() });
  assert.equal(ok.userId, STUDENT);
});

test("the teacher's camera (or screen share) and mic feed the HLS bridge; room.end stops it and queues the recording", async () => {
  const { lessonId, t, send, cam, m } = await teacherLive(1);
  const calls = () => bridgeCalls.filter((c) => c.lessonId === lessonId);
  await until('the bridge bridges camera + mic', () =>
    calls().some((c) => c.video === cam.producerId && c.audio === m.producerId),
  );
  const scr = await t.ok('produce', {
    transportId: send.id,
    kind: 'video',
    source: 'screen',
    rtpParameters: camera(3),
  });
  await until('the screen share goes on the HLS stage', () =>
    calls().some((c) => c.video === scr.producerId && c.audio === m.producerId),
  );
  await t.ok('producer.close', { producerId: scr.producerId });
  await until('back to the camera', () => calls().at(-1)?.video === cam.producerId);

  // a student on stage does not reach the HLS bridge
  const s = await client(STUDENT, 'student');
  const sj = await s.ok('room.join', { lessonId });
  await s.ok('stage.raiseHand', {});
  await t.ok('stage.invite', { userId: sj.userId });
  const sSend = await s.ok('transport.create', { direction: 'send' });
  const before = calls().length;
  await s.ok('produce', { transportId: sSend.id, kind: 'audio', source: 'mic', rtpParameters: mic(4) });
  await sleep(200);
  assert.equal(calls().length, before);

  // two clicks on "end": one ends the lesson, the other is told it has ended; one job
  const [a, b] = await Promise.all([t.request('room.end', {}), t.request('room.end', {})]);
  const oks = [a, b].filter((r) => r.ok);
  assert.equal(oks.length, 1);
  assert.equal([a, b].find((r) => !r.ok && r.error.code === 'NOT_LIVE') !== undefined, true);
  const ended = oks[0]!.ok ? oks[0]!.data : assert.fail('no ok ack');
  assert.equal(ended.recording, `live/${lessonId}/recording/recording.mp4`);
  assert.equal(sfu.endedJobs.filter((j) => j.lessonId === lessonId).length, 1);
  assert.deepEqual(
    bridgeStops.filter((x) => x === lessonId),
    [lessonId],
  );
  const job = sfu.endedJobs.find((j) => j.lessonId === lessonId)!;
  assert.equal(job.recording, ended.recording);
  assert.equal(job.startedAt, '2026-11-29T08:00:00.000Z');
  assert.equal((await s.next('room.ended')).recording, ended.recording);
  // the api may still say "live" for a moment: the sfu refuses the ended lesson anyway
  const rejoin = await s.request('room.join', { lessonId });
  assert.equal(!rejoin.ok && rejoin.error.code, 'NOT_LIVE');
});

test('one worker killed (kill -9): the room moves to its replacement, clients hear room.restarted, the bridge gets the new router', async () => {
  const lessonId = newLesson();
  const t = await client(TEACHER, 'teacher');
  const tj = await t.ok('room.join', { lessonId });
  const s = await client(STUDENT, 'student');
  await s.ok('room.join', { lessonId });
  const send = await t.ok('transport.create', { direction: 'send' });
  await t.ok('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: mic(5) });
  const recv = await s.ok('transport.create', { direction: 'recv' });
  const room = sfu.app.rooms.room(lessonId)!;
  const oldRouter = room.routers()[0]!.router;
  const pid = sfu.pool.states()[0]!.pid;

  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  const [te, se] = await Promise.all([t.next('room.restarted'), s.next('room.restarted')]);
  const told = Date.now() - killedAt;
  assert.ok(told < 5000, `told after ${told} ms`);
  assert.equal(te.epoch, 1);
  assert.equal(se.lessonId, lessonId);
  assert.deepEqual(se.producers, [], 'the teacher re-publishes');
  assert.ok(se.routerRtpCapabilities.codecs?.length);
  const newRouter = room.routers()[0]!.router;
  assert.notEqual(newRouter, oldRouter);
  assert.notEqual(sfu.pool.states()[0]!.pid, pid, 'on the replacement worker');
  assert.ok(bridgeCalls.some((c) => c.lessonId === lessonId && c.router === newRouter));

  // the old transport is gone; the client re-creates and re-publishes, the student hears it
  const stale = await s.request('consume', { transportId: recv.id, producerId: 'x', rtpCapabilities: {} });
  assert.equal(!stale.ok && stale.error.code, 'NOT_FOUND');
  const send2 = await t.ok('transport.create', { direction: 'send' });
  const mic2 = await t.ok('produce', {
    transportId: send2.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: mic(6),
  });
  await s.next('producer.new', (p) => p.producerId === mic2.producerId);
  const recv2 = await s.ok('transport.create', { direction: 'recv' });
  const c = await s.ok('consume', {
    transportId: recv2.id,
    producerId: mic2.producerId,
    rtpCapabilities: tj.routerRtpCapabilities,
  });
  assert.equal(c.kind, 'audio');
  console.log(`# single worker killed: clients told after ${told} ms`);
});

/** An RTP audio packet with the ssrc-audio-level header extension (id 1): level 0 is loudest, 127 silence. */
function audioPacket(ssrc: number, seq: number, level: number): Buffer {
  const b = Buffer.alloc(12 + 8 + 20);
  b[0] = 0x90; // V=2, X=1
  b[1] = 100;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 960) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(1, 14); // one 32-bit word of extensions
  b[16] = (1 << 4) | 0; // id 1, length 1
  b[17] = 0x80 | level; // voice activity + level
  b.fill(0xaa, 20);
  return b;
}

test('active speaker: the one who talks is announced to everyone', async () => {
  const lessonId = newLesson();
  const t = await client(TEACHER, 'teacher');
  const tj = await t.ok('room.join', { lessonId });
  const s = await client(STUDENT, 'student');
  const sj = await s.ok('room.join', { lessonId });
  await s.ok('stage.raiseHand', {});
  await t.ok('stage.invite', { userId: sj.userId });

  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const talk = async (peerId: string, ssrc: number) => {
    const { room, peer } = peerOf(sfu, lessonId, peerId);
    const tr = await room.createPlainTransport(peer, 'send', { comedia: true });
    await room.produce(peer, {
      transportId: tr.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
        headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1 }],
        encodings: [{ ssrc }],
      },
    });
    return tr.tuple.localPort;
  };
  // separate sockets per speaker: comedia locks each transport to its sender
  const udp2 = createSocket('udp4');
  await new Promise<void>((r) => udp2.bind(0, '127.0.0.1', () => r()));
  const teacherPort = await talk(tj.peerId, 7001);
  const studentPort = await talk(sj.peerId, 7002);
  let seq = 0;
  let loud: 'teacher' | 'student' = 'teacher';
  const timer = setInterval(() => {
    seq += 1;
    udp.send(audioPacket(7001, seq, loud === 'teacher' ? 5 : 127), teacherPort, '127.0.0.1');
    udp2.send(audioPacket(7002, seq, loud === 'student' ? 5 : 127), studentPort, '127.0.0.1');
  }, 20);
  try {
    const first = await s.next('activeSpeaker', (e) => e.peerId === tj.peerId, 8000);
    assert.equal(first.userId, TEACHER);
    loud = 'student';
    const since = Date.now();
    const second = await t.next('activeSpeaker', (e) => e.peerId === sj.peerId, 10_000, since);
    assert.equal(second.userId, STUDENT);
  } finally {
    clearInterval(timer);
    udp.close();
    udp2.close();
  }
});

test('RTC_ANNOUNCED_IP: ICE candidates carry the public address while media binds to the listen address', async () => {
  const pub = await startSfu({ api: fakeApi, announcedIp: '203.0.113.7' });
  try {
    const c = await liveClient(pub.url, token(STUDENT, 'student'));
    clients.push(c);
    await c.ok('room.join', { lessonId: newLesson() });
    const info = await c.ok('transport.create', { direction: 'recv' });
    assert.ok(info.iceCandidates.length >= 2);
    assert.ok(info.iceCandidates.every((x) => x.address === '203.0.113.7'));
    assert.deepEqual([...new Set(info.iceCandidates.map((x) => x.protocol))].sort(), ['tcp', 'udp']);
  } finally {
    await pub.close();
  }
});
