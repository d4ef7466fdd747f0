// The /live signalling against the real api (lesson, go-live, roles) and real mediasoup workers: what a
// client may do, in which order, and the error acks for everything else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LiveInfo, LiveJoinReply, ProducerInfo, StageState } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { createApiClient } from '../src/adapters/api-client.js';
import { liveClient, sleep, startSfu, type LiveClient, type TestSfu } from './helpers.js';
import { startRealApi, type RealApi } from './real-api.js';

let api: RealApi;
let sfu: TestSfu;
let queues: JobQueues;
const clients: LiveClient[] = [];

before(async () => {
  api = await startRealApi();
  queues = createJobQueues(api.redisUrl, api.prefix);
  sfu = await startSfu({
    api: createApiClient(api.url),
    liveEnded: async (job) => void (await queues.enqueue('live.ended', job)),
  });
});
after(async () => {
  for (const c of clients) c.close();
  await sfu.close();
  await queues.close();
  await api.close();
});

const client = async (role: keyof RealApi['tokens']) => {
  const c = await liveClient(sfu.url, api.tokens[role]);
  clients.push(c);
  return c;
};

async function liveLesson(): Promise<string> {
  const l = await api.lesson();
  assert.equal(await api.goLive(l.id), 201);
  return l.id;
}

/** What mediasoup-client sends for a 3-layer VP8 camera (rids) — on a not yet connected transport. */
const simulcastCamera = {
  mid: '0',
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: 96,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    },
  ],
  headerExtensions: [
    { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 },
    { uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', id: 2 },
  ],
  encodings: [
    { rid: 'r0', scalabilityMode: 'L1T3', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'r1', scalabilityMode: 'L1T3', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'r2', scalabilityMode: 'L1T3', maxBitrate: 1500000 },
  ],
  rtcp: { cname: 'teacher' },
};
const mic = (ssrc: number) => ({
  mid: '1',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc }],
  rtcp: { cname: 'x' },
});

test('a connection without a valid token is refused with UNAUTHENTICATED', async () => {
  await assert.rejects(liveClient(sfu.url, 'not-a-token'), (err: Error & { data?: { code?: string } }) => {
    assert.equal(err.data?.code, 'UNAUTHENTICATED');
    return true;
  });
});

test('before room.join, garbage and out-of-order events get error acks and the server keeps serving', async () => {
  const lessonId = await liveLesson();
  const s = await client('student');
  const notJoined = await s.request('consume', {
    transportId: 'x',
    producerId: 'y',
    rtpCapabilities: { codecs: [] },
  });
  assert.deepEqual(notJoined.ok ? null : notJoined.error.code, 'NOT_JOINED');
  for (const ev of ['transport.create', 'produce', 'stage.raiseHand', 'room.end'] as const) {
    const r = await s.request(ev, ev === 'transport.create' ? { direction: 'recv' } : {});
    assert.equal(r.ok, false, ev);
  }
  const tc = await s.request('transport.create', { direction: 'recv' });
  assert.equal(!tc.ok && tc.error.code, 'NOT_JOINED');

  const bad = await s.request('room.join', { lessonId: 'not-an-id' });
  assert.equal(!bad.ok && bad.error.code, 'VALIDATION_FAILED');
  assert.match(!bad.ok ? bad.error.message : '', /lessonId/);
  const notObject = (await s.raw('room.join', 'hello')) as { ok: boolean; error: { code: string } };
  assert.equal(notObject.error.code, 'VALIDATION_FAILED');
  const twoArgs = (await s.raw('room.join', { lessonId }, 'extra')) as { error: { code: string } };
  assert.equal(twoArgs.error.code, 'VALIDATION_FAILED');
  const unknown = (await s.raw('room.hack', {})) as { error: { code: string; message: string } };
  assert.equal(unknown.error.code, 'VALIDATION_FAILED');
  assert.match(unknown.error.message, /unknown event/);
  const huge = (await s.raw('room.join', { lessonId, pad: 'x'.repeat(70_000) })) as {
    error: { code: string };
  };
  assert.equal(huge.error.code, 'PAYLOAD_TOO_LARGE');
  (s.socket as unknown as { emit(e: string, p: unknown): void }).emit('room.join', { lessonId }); // no ack: dropped

  // the same socket, and another one, are still served
  const joined = await s.ok('room.join', { lessonId });
  assert.equal(joined.role, 'student');
  const other = await client('family');
  assert.equal((await other.ok('room.join', { lessonId })).role, 'student');
  const health = await sfu.app.http.inject({ url: '/healthz' });
  assert.equal(health.statusCode, 200);
});

test('joining: NOT_FOUND for an unknown lesson, NOT_LIVE before go-live; the role comes from the api, not the payload', async () => {
  const s = await client('student');
  const unknown = await s.request('room.join', { lessonId: '0123456789abcdef01234567' });
  assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');
  const draft = await api.lesson('还没开始');
  const early = await s.request('room.join', { lessonId: draft.id });
  assert.equal(!early.ok && early.error.code, 'NOT_LIVE');

  const lessonId = await liveLesson();
  const forged = await s.ok('room.join', { lessonId, role: 'teacher', userId: 'someone' });
  assert.equal(forged.role, 'student', 'a forged role is ignored');
  const t = await client('teacher');
  const teacher = await t.ok('room.join', { lessonId });
  assert.equal(teacher.role, 'teacher');
  assert.equal(teacher.lessonId, lessonId);
  assert.ok(teacher.routerRtpCapabilities.codecs?.some((c) => c.mimeType === 'video/VP8'));
  const info = await api.get<LiveInfo>(`/api/lessons/${lessonId}/live`, 'teacher');
  assert.equal(teacher.userId, info.body.teacherId);
  assert.equal(teacher.startedAt, info.body.startedAt);

  // a student pretending to be the teacher gets FORBIDDEN for teacher events
  const invite = await s.request('stage.invite', { userId: forged.userId });
  assert.equal(!invite.ok && invite.error.code, 'FORBIDDEN');
  const end = await s.request('room.end', { role: 'teacher' });
  assert.equal(!end.ok && end.error.code, 'FORBIDDEN');
});

test('the teacher publishes a simulcast camera and a mic; students consume them (paused first) and pick layers', async () => {
  const lessonId = await liveLesson();
  const t = await client('teacher');
  await t.ok('room.join', { lessonId });
  const s = await client('student');
  const sj = await s.ok('room.join', { lessonId });

  const send = await t.ok('transport.create', { direction: 'send' });
  assert.ok(send.iceCandidates.length >= 1);
  assert.ok(send.iceCandidates.every((c) => c.address === '127.0.0.1'));
  assert.ok(send.iceCandidates.some((c) => c.protocol === 'udp'));
  assert.ok(send.dtlsParameters.fingerprints.length > 0);

  const cam = await t.ok('produce', {
    transportId: send.id,
    kind: 'video',
    source: 'camera',
    rtpParameters: simulcastCamera,
  });
  const again = await t.request('produce', {
    transportId: send.id,
    kind: 'video',
    source: 'camera',
    rtpParameters: simulcastCamera,
  });
  assert.equal(!again.ok && again.error.code, 'CONFLICT');
  const wrongKind = await t.request('produce', {
    transportId: send.id,
    kind: 'video',
    source: 'mic',
    rtpParameters: mic(1234),
  });
  assert.equal(!wrongKind.ok && wrongKind.error.code, 'VALIDATION_FAILED');
  const badParams = await t.request('produce', {
    transportId: send.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: { codecs: [{ mimeType: 'audio/nope', payloadType: 1, clockRate: 1 }] },
  });
  assert.equal(!badParams.ok && badParams.error.code, 'VALIDATION_FAILED');
  const micP = await t.ok('produce', {
    transportId: send.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: mic(4321),
  });

  const announced = await s.next('producer.new', (p) => p.producerId === cam.producerId);
  assert.equal(announced.source, 'camera');
  assert.equal(announced.role, 'teacher');
  await s.next('producer.new', (p) => p.producerId === micP.producerId);

  const recv = await s.ok('transport.create', { direction: 'recv' });
  const caps = sj.routerRtpCapabilities;
  const unknownProducer = await s.request('consume', {
    transportId: recv.id,
    producerId: '00000000-0000-0000-0000-000000000000',
    rtpCapabilities: caps,
  });
  assert.equal(!unknownProducer.ok && unknownProducer.error.code, 'NOT_FOUND');
  const wrongTransport = await s.request('consume', {
    transportId: 'nope',
    producerId: cam.producerId,
    rtpCapabilities: caps,
  });
  assert.equal(!wrongTransport.ok && wrongTransport.error.code, 'NOT_FOUND');
  const cannot = await s.request('consume', {
    transportId: recv.id,
    producerId: cam.producerId,
    rtpCapabilities: { codecs: [], headerExtensions: [] },
  });
  assert.equal(!cannot.ok && cannot.error.code, 'VALIDATION_FAILED');

  const consumer = await s.ok('consume', {
    transportId: recv.id,
    producerId: cam.producerId,
    rtpCapabilities: caps,
  });
  assert.equal(consumer.type, 'simulcast');
  assert.equal(consumer.source, 'camera');
  assert.equal(consumer.kind, 'video');
  const c = sfu.app.rooms.room(lessonId)!.peers.get(sj.peerId)!.consumers.get(consumer.id)!.consumer;
  assert.equal(c.paused, true, 'consumers start paused');
  await s.ok('consumer.resume', { consumerId: consumer.id });
  assert.equal(c.paused, false);

  const small = await s.ok('consumer.setPreferredLayers', {
    consumerId: consumer.id,
    viewport: { width: 320, height: 180 },
  });
  assert.equal(small.spatialLayer, 0);
  assert.equal(c.preferredLayers?.spatialLayer, 0);
  const big = await s.ok('consumer.setPreferredLayers', {
    consumerId: consumer.id,
    viewport: { width: 1920, height: 1080 },
    bandwidthKbps: 5000,
  });
  assert.equal(big.spatialLayer, 2);
  assert.equal(c.preferredLayers?.spatialLayer, 2);
  const noHint = await s.request('consumer.setPreferredLayers', { consumerId: consumer.id });
  assert.equal(!noHint.ok && noHint.error.code, 'VALIDATION_FAILED');
  const audio = await s.ok('consume', {
    transportId: recv.id,
    producerId: micP.producerId,
    rtpCapabilities: caps,
  });
  const single = await s.request('consumer.setPreferredLayers', { consumerId: audio.id, spatialLayer: 1 });
  assert.equal(!single.ok && single.error.code, 'VALIDATION_FAILED');

  // a student without an invitation cannot publish, and cannot touch the teacher's producer
  const sSend = await s.ok('transport.create', { direction: 'send' });
  const forbidden = await s.request('produce', {
    transportId: sSend.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: mic(999),
    role: 'teacher',
  });
  assert.equal(!forbidden.ok && forbidden.error.code, 'FORBIDDEN');
  const notMine = await s.request('producer.close', { producerId: cam.producerId });
  assert.equal(!notMine.ok && notMine.error.code, 'NOT_FOUND');

  // a late joiner sees the producers in its snapshot
  const late = await client('family');
  const lj = await late.ok('room.join', { lessonId });
  assert.deepEqual(lj.producers.map((p: ProducerInfo) => p.source).sort(), ['camera', 'mic']);

  // the teacher pauses the mic: everyone hears of it; closes the camera: consumers close
  await t.ok('producer.pause', { producerId: micP.producerId });
  const state = await s.next('producer.state', (e) => e.producerId === micP.producerId);
  assert.deepEqual(state, { producerId: micP.producerId, paused: true, by: 'owner' });
  await t.ok('producer.close', { producerId: cam.producerId });
  await s.next('producer.closed', (e) => e.producerId === cam.producerId);
  const cc = await s.next('consumer.closed', (e) => e.consumerId === consumer.id);
  assert.equal(cc.producerId, cam.producerId);
  const afterClose = await s.request('consumer.resume', { consumerId: consumer.id });
  assert.equal(!afterClose.ok && afterClose.error.code, 'NOT_FOUND');
});

test('stage: a raised hand reaches the teacher, the invited student publishes, the teacher mutes and removes', async () => {
  const lessonId = await liveLesson();
  const t = await client('teacher');
  await t.ok('room.join', { lessonId });
  const s = await client('student');
  const sj = await s.ok('room.join', { lessonId });
  const sSend = await s.ok('transport.create', { direction: 'send' });

  const raised = await s.ok('stage.raiseHand', {});
  assert.deepEqual(
    raised.queue.map((e) => e.userId),
    [sj.userId],
  );
  const seen = await t.next('stage.updated', (st: StageState) =>
    st.queue.some((e) => e.userId === sj.userId),
  );
  assert.equal(seen.queue[0]?.name, 'student', 'the queue shows the display name from the api');
  const teacherRaise = await t.request('stage.raiseHand', {});
  assert.equal(!teacherRaise.ok && teacherRaise.error.code, 'FORBIDDEN');
  const nobody = await t.request('stage.invite', { userId: 'nobody' });
  assert.equal(!nobody.ok && nobody.error.code, 'NOT_FOUND');

  const screen = await s.request('produce', {
    transportId: sSend.id,
    kind: 'video',
    source: 'screen',
    rtpParameters: simulcastCamera,
  });
  assert.equal(!screen.ok && screen.error.code, 'FORBIDDEN', 'not invited yet');

  const invited = await t.ok('stage.invite', { userId: sj.userId });
  assert.deepEqual(invited.queue, []);
  assert.deepEqual(
    invited.onStage.map((e) => e.userId),
    [sj.userId],
  );
  await s.next('stage.invited');
  const stillNoScreen = await s.request('produce', {
    transportId: sSend.id,
    kind: 'video',
    source: 'screen',
    rtpParameters: simulcastCamera,
  });
  assert.equal(
    !stillNoScreen.ok && stillNoScreen.error.code,
    'FORBIDDEN',
    'students share mic and camera only',
  );
  const sMic = await s.ok('produce', {
    transportId: sSend.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: mic(777),
  });
  const heard = await t.next('producer.new', (p) => p.producerId === sMic.producerId);
  assert.equal(heard.userId, sj.userId);
  assert.equal(heard.role, 'student');

  const muted = await t.ok('stage.mute', { userId: sj.userId });
  assert.equal(muted.onStage[0]?.muted, true);
  const producer = sfu.app.rooms
    .room(lessonId)!
    .peers.get(sj.peerId)!
    .producers.get(sMic.producerId)!.producer;
  assert.equal(producer.paused, true, 'paused on the server');
  await s.next('stage.muted');
  const st = await t.next('producer.state', (e) => e.producerId === sMic.producerId);
  assert.equal(st.by, 'teacher');
  // the student unmutes themselves
  await s.ok('producer.resume', { producerId: sMic.producerId });
  assert.equal(producer.paused, false);

  const removed = await t.ok('stage.remove', { userId: sj.userId });
  assert.deepEqual(removed.onStage, []);
  await s.next('stage.removed');
  const closed = await t.next('producer.closed', (e) => e.producerId === sMic.producerId);
  assert.equal(closed.reason, 'removed');
  assert.equal(producer.closed, true);
  const after = await s.request('produce', {
    transportId: sSend.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: mic(778),
  });
  assert.equal(!after.ok && after.error.code, 'FORBIDDEN');

  // a student lowering a hand leaves the queue
  await s.ok('stage.raiseHand', {});
  const lowered = await s.ok('stage.lowerHand', {});
  assert.deepEqual(lowered.queue, []);
});

test('room.end: everyone hears room.ended, the api gets live.ended and the lesson is no longer live', async () => {
  const lessonId = await liveLesson();
  const t = await client('teacher');
  await t.ok('room.join', { lessonId });
  const s = await client('student');
  await s.ok('room.join', { lessonId });
  const ended = await t.ok('room.end', {});
  assert.equal(ended.lessonId, lessonId);
  assert.equal(ended.recording, null, 'no bridge in this test');
  const heard = await s.next('room.ended');
  assert.equal(heard.lessonId, lessonId);
  assert.equal(sfu.app.rooms.room(lessonId), undefined);
  const job = sfu.endedJobs.find((j) => j.lessonId === lessonId);
  assert.ok(job);
  assert.ok(Date.parse(job.endedAt) >= Date.parse(job.startedAt));

  // the api consumes the durable job
  let state = '';
  for (let i = 0; i < 100 && state !== 'ended'; i++) {
    state = (await api.get<LiveInfo>(`/api/lessons/${lessonId}/live`, 'student')).body.state;
    if (state !== 'ended') await sleep(100);
  }
  assert.equal(state, 'ended');
  const again = await s.request('room.join', { lessonId });
  assert.equal(!again.ok && again.error.code, 'NOT_LIVE');
  const media = await s.request('transport.create', { direction: 'recv' });
  assert.equal(media.ok, false);
});

test('a teacher who leaves and does not come back: the lesson ends by itself; one who comes back keeps it', async () => {
  const graceMs = 1500;
  const small = await startSfu({
    api: createApiClient(api.url),
    teacherGraceMs: graceMs,
  });
  try {
    // comes back within the grace period (a reload): the lesson goes on
    const kept = await liveLesson();
    const t1 = await liveClient(small.url, api.tokens.teacher);
    const s1 = await liveClient(small.url, api.tokens.student);
    clients.push(t1, s1);
    await t1.ok('room.join', { lessonId: kept });
    await s1.ok('room.join', { lessonId: kept });
    t1.close();
    await sleep(graceMs / 3);
    const t1b = await liveClient(small.url, api.tokens.teacher);
    clients.push(t1b);
    await t1b.ok('room.join', { lessonId: kept });
    await sleep(graceMs * 1.5);
    assert.ok(small.app.rooms.room(kept), 'the room lives on with its teacher back');
    assert.ok(!s1.events.some((e) => e.event === 'room.ended'));

    // gone for good (a crashed browser): students hear room.ended and the recording is handed over
    const lost = await liveLesson();
    const t2 = await liveClient(small.url, api.tokens.teacher);
    const s2 = await liveClient(small.url, api.tokens.student);
    clients.push(t2, s2);
    await t2.ok('room.join', { lessonId: lost });
    await s2.ok('room.join', { lessonId: lost });
    const left = Date.now();
    t2.close();
    const heard = await s2.next('room.ended', undefined, graceMs + 5000);
    assert.equal(heard.lessonId, lost);
    assert.ok(Date.now() - left >= graceMs - 100, 'not before the grace period');
    assert.ok(small.endedJobs.some((j) => j.lessonId === lost));
    assert.equal(small.app.rooms.room(lost), undefined);
  } finally {
    await small.close();
  }
});

test('ROOM_FULL past the WebRTC audience cap; the teacher still gets in', async () => {
  const small = await startSfu({ api: createApiClient(api.url), audienceCap: 1 });
  try {
    const lessonId = await liveLesson();
    const a = await liveClient(small.url, api.tokens.student);
    const b = await liveClient(small.url, api.tokens.family);
    const t = await liveClient(small.url, api.tokens.teacher);
    clients.push(a, b, t);
    const first: LiveJoinReply = await a.ok('room.join', { lessonId });
    assert.equal(first.role, 'student');
    const full = await b.request('room.join', { lessonId });
    assert.equal(!full.ok && full.error.code, 'ROOM_FULL');
    assert.equal((await t.ok('room.join', { lessonId })).role, 'teacher');
    const count = await t.next('viewerCount', (v) => v.webrtc === 2, 3000);
    assert.equal(count.lessonId, lessonId);
    assert.equal(count.students, 1, 'the class is the one student: the teacher is not counted in it');
  } finally {
    await small.close();
  }
});
