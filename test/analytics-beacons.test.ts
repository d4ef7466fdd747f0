// The beacon client library (web-client/src/analytics) on its own: batching, retry with backoff,
// storage across pages, the events a <video> produces, and the TV's use of it, with a fake transport
// and a scripted video element (the Chromium tests in analytics-ui.test.ts send through the real api).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Beacon } from '@sky/contracts';
import { attachBeacons, BeaconClient, viewerUrlOf } from '../web-client/src/analytics/beacons.js';
import { laterBeaconClient } from '../web-client/src/analytics/session.js';
import {
  BeaconQueue,
  type BeaconStorage,
  type BeaconTransport,
  type TransportAnswer,
} from '../web-client/src/analytics/queue.js';
import { boxViewer, watchOnTv } from '../web-client/src/tv/beacon.js';

/** Records each POST; answers what the test scripts (202 by default). */
/** The signed viewer id the fake platform issues for a token (or anonymously). */
const SIGNED = (token: string | undefined) => `v1signed${token ?? 'anonymous'}`.padEnd(46, 'x').slice(0, 46);

function fakeTransport(answers: (TransportAnswer | 'network')[] = []) {
  const posts: { url: string; events: Beacon[]; token: string | undefined }[] = [];
  const beacons: { url: string; events: Beacon[]; accessToken: string | undefined }[] = [];
  const viewerAsks: { url: string; token: string | undefined }[] = [];
  const transport: BeaconTransport = {
    async post(url, body, token) {
      if (url.endsWith('/viewer')) {
        viewerAsks.push({ url, token });
        return { status: 200, body: { viewerId: SIGNED(token) } };
      }
      const events = (JSON.parse(body) as { events: Beacon[] }).events;
      posts.push({ url, events, token });
      const a = answers.shift() ?? {
        status: 202,
        body: { accepted: events.length, duplicates: 0, excluded: 0, heartbeatSec: 30 },
      };
      if (a === 'network') throw new TypeError('fetch failed');
      return a;
    },
    beacon(url, body) {
      const sent = JSON.parse(body) as { events: Beacon[]; accessToken?: string };
      beacons.push({ url, events: sent.events, accessToken: sent.accessToken });
      return true;
    },
  };
  return { transport, posts, beacons, viewerAsks };
}

/** A clock and timers the test moves by hand. */
function fakeTime() {
  let now = 1_000_000;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimer: (h: unknown) => {
      const i = timers.indexOf(h as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
    async advance(ms: number) {
      now += ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const due = timers[0];
        if (!due || due.at > now) break;
        timers.shift();
        due.fn();
        await settle();
      }
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

function memoryStorage(): BeaconStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
    key: (i) => [...map.keys()][i] ?? null,
    get length() {
      return map.size;
    },
  };
}

let n = 0;
const event = (over: Partial<Beacon> = {}): Beacon =>
  Beacon.parse({
    eventId: `evt-${String(++n).padStart(6, '0')}`,
    viewerId: 'viewer-0001',
    sessionId: 'session-0001',
    lessonId: 'lesson-1',
    platform: 'web',
    at: 1_700_000_000_000,
    position: 1,
    type: 'heartbeat',
    watchedSec: 30,
    ...over,
  });

test('events carry the viewer id the platform signed: asked once with the user’s token, kept in storage, events wait for it', async () => {
  assert.equal(viewerUrlOf('/api/analytics/beacons'), '/api/analytics/viewer');
  assert.equal(viewerUrlOf('api/analytics/beacons'), 'api/analytics/viewer');
  const storage = memoryStorage();
  const { transport, posts, viewerAsks } = fakeTransport();
  const client = new BeaconClient({
    viewer: 'user-42',
    token: () => 'token-of-user-42',
    transport,
    storage,
    pageEvents: false,
    flushMs: 60_000,
  });
  const common = { lessonId: 'lesson-1', platform: 'web' as const, sessionId: 'session-0001', position: 0 };
  client.send(common, { type: 'start', startupMs: 100 }); // before the id has arrived: waits for it
  await settle();
  await client.flush();
  assert.deepEqual(viewerAsks, [{ url: '/api/analytics/viewer', token: 'token-of-user-42' }]);
  assert.equal(posts.flatMap((p) => p.events)[0]?.viewerId, SIGNED('token-of-user-42'));
  client.close();
  // the next page has it at once, without asking
  const next = new BeaconClient({ viewer: 'user-42', transport, storage, pageEvents: false });
  assert.equal(next.viewerId, SIGNED('token-of-user-42'));
  assert.equal(viewerAsks.length, 1);
  next.close();
});

test('a kept viewer id the api refuses (its secret rotated, or altered) is forgotten; a new one is asked for and the events go again with it', async () => {
  const OLD = 'v1kept'.padEnd(46, 'o');
  const NEW = 'v1fresh'.padEnd(46, 'n');
  const storage = memoryStorage();
  storage.setItem('sky.viewer.user-42', OLD);
  const posts: { events: Beacon[] }[] = [];
  let asks = 0;
  const transport: BeaconTransport = {
    async post(url, body) {
      if (url.endsWith('/viewer')) {
        asks++;
        return { status: 200, body: { viewerId: NEW } };
      }
      const events = (JSON.parse(body) as { events: Beacon[] }).events;
      posts.push({ events });
      // the api names every event whose viewer id it did not sign, and any other fault it finds
      const errors = events.flatMap((e, i) => [
        ...(e.viewerId === NEW ? [] : [{ path: `events.${i}.viewerId`, message: 'not a viewer id' }]),
        ...(e.lessonId === 'no-such-lesson' ? [{ path: `events.${i}.lessonId`, message: 'no lesson' }] : []),
      ]);
      if (errors.length > 0) return { status: 400, body: { code: 'VALIDATION_FAILED', errors } };
      return { status: 202, body: { accepted: events.length, duplicates: 0, excluded: 0, heartbeatSec: 30 } };
    },
    beacon: () => true,
  };
  const client = new BeaconClient({
    viewer: 'user-42',
    transport,
    storage,
    pageEvents: false,
    flushMs: 60_000,
  });
  assert.equal(client.viewerId, OLD, 'the kept id, without asking');
  const common = { platform: 'web' as const, sessionId: 'session-0001', position: 0 };
  client.send({ ...common, lessonId: 'lesson-1' }, { type: 'start', startupMs: 100 });
  client.send({ ...common, lessonId: 'no-such-lesson' }, { type: 'start', startupMs: 100 });
  await client.flush();
  await settle();
  await client.flush();

  assert.equal(asks, 1, 'one new id asked for');
  assert.equal(client.viewerId, NEW);
  assert.equal(storage.getItem('sky.viewer.user-42'), NEW, 'the new id is kept instead');
  assert.equal(posts.length, 3);
  const [refused, again, last] = posts.map((p) => p.events);
  assert.deepEqual(
    refused!.map((e) => e.viewerId),
    [OLD, OLD],
  );
  // the good event goes again with the new id and the same event id (a resend, not a new event) …
  assert.deepEqual(
    again!.map((e) => [e.eventId, e.viewerId]),
    [
      [refused![0]!.eventId, NEW],
      [refused![1]!.eventId, NEW],
    ],
  );
  // … and the one whose lesson the api does not know is then dropped, as any refused event
  assert.deepEqual(
    last!.map((e) => e.eventId),
    [refused![0]!.eventId],
  );
  assert.equal(client.queue.dropped, 1);
  assert.equal(client.queue.size, 0);
  client.close();
});

test('the queue sends batches, keeps everything through 503s and network errors, and resends the same event ids', async () => {
  const time = fakeTime();
  const { transport, posts } = fakeTransport([
    { status: 503, body: undefined, retryAfterSec: 2 },
    'network',
    { status: 429, body: undefined },
  ]);
  const q = new BeaconQueue<Beacon>({ transport, ...time, flushMs: 5000, random: () => 1 });
  const sent = [event(), event(), event()];
  for (const e of sent) q.push(e);
  await time.advance(5000); // 503 with Retry-After 2 s
  assert.equal(posts.length, 1);
  assert.equal(q.size, 3);
  await time.advance(5000); // network error: backoff 2 s, but the flush timer is 5 s
  assert.equal(posts.length, 2);
  await time.advance(5000); // 429: backoff 4 s
  assert.equal(posts.length, 3);
  assert.equal(q.size, 3, 'nothing dropped while the api refuses');
  await time.advance(5000);
  assert.equal(posts.length, 4);
  assert.equal(q.size, 0);
  assert.equal(q.delivered, 3);
  for (const p of posts)
    assert.deepEqual(
      p.events.map((e) => e.eventId),
      sent.map((e) => e.eventId),
    );
});

test('a full backlog (503 OVERLOADED, Retry-After 30 s) is waited out: nothing sent before, nothing dropped, the same events after', async () => {
  const time = fakeTime();
  const overloaded: TransportAnswer = {
    status: 503,
    body: { code: 'OVERLOADED', status: 503 },
    retryAfterSec: 30,
  };
  const { transport, posts } = fakeTransport([overloaded, overloaded]);
  // random 0: the queue's own backoff at its shortest, so only Retry-After can hold it back
  const q = new BeaconQueue<Beacon>({ transport, ...time, flushMs: 5000, random: () => 0 });
  const sent = [event(), event()];
  for (const e of sent) q.push(e);
  await time.advance(5000); // 503: Retry-After 30 s
  assert.equal(posts.length, 1);
  for (let t = 0; t < 5; t++) {
    q.push(event()); // playback goes on meanwhile
    await time.advance(5000);
  }
  assert.equal(posts.length, 1, 'nothing sent before Retry-After');
  await time.advance(5000); // 30 s on: the same events again, and 503 again
  assert.equal(posts.length, 2);
  await time.advance(29_000);
  assert.equal(posts.length, 2, 'the second Retry-After is waited out too');
  await time.advance(1000); // accepted
  assert.equal(posts.length, 3);
  assert.equal(q.size, 0);
  assert.equal(q.dropped, 0);
  assert.equal(q.delivered, 7);
  for (const p of posts)
    assert.deepEqual(
      p.events.slice(0, 2).map((e) => e.eventId),
      sent.map((e) => e.eventId),
    );
  assert.equal(posts[2]!.events.length, 7);
});

test('a 400 drops only the events it names; 413 halves the batch; the server sets the heartbeat interval', async () => {
  const time = fakeTime();
  const { transport, posts } = fakeTransport([
    { status: 413, body: undefined },
    {
      status: 400,
      body: { code: 'VALIDATION_FAILED', errors: [{ path: 'events.1.position', message: 'x' }] },
    },
    { status: 202, body: { accepted: 2, duplicates: 0, excluded: 0, heartbeatSec: 45 } },
    { status: 202, body: { accepted: 1, duplicates: 0, excluded: 0, heartbeatSec: 60 } },
  ]);
  const q = new BeaconQueue<Beacon>({ transport, ...time });
  const evs = [event(), event(), event(), event()];
  for (const e of evs) q.push(e);
  await q.flush();
  assert.equal(posts[0]!.events.length, 4);
  assert.equal(posts[1]!.events.length, 2, 'after 413 the batch is halved');
  assert.deepEqual(
    posts[2]!.events.map((e) => e.eventId),
    [evs[0]!.eventId, evs[2]!.eventId],
    'the refused event (index 1) is dropped, its neighbour resent',
  );
  assert.deepEqual(
    posts[3]!.events.map((e) => e.eventId),
    [evs[3]!.eventId],
  );
  assert.equal(q.heartbeatSec, 60, 'the latest answer’s interval');
  assert.equal(q.dropped, 1);
  assert.equal(q.size, 0);
});

test('at page exit sendBeacon carries the signed-in token in the body, never in the URL', async () => {
  const { transport, beacons } = fakeTransport();
  const q = new BeaconQueue<Beacon>({
    transport,
    storage: memoryStorage(),
    ...fakeTime(),
    url: '/api/analytics/beacons',
    token: () => 'token-of-user-42',
  });
  q.push(event());
  q.push(event());
  q.flushOnExit();
  assert.deepEqual(
    beacons.map((b) => [b.url, b.events.length, b.accessToken]),
    [['/api/analytics/beacons', 2, 'token-of-user-42']],
  );
});

test('the queue is bounded (oldest go first) and survives a reload through storage', async () => {
  const time = fakeTime();
  const storage = memoryStorage();
  // the api is down, and at page exit sendBeacon refuses too
  const dead: BeaconTransport = {
    post: () => Promise.reject(new TypeError('fetch failed')),
    beacon: () => false,
  };
  const q = new BeaconQueue<Beacon>({ transport: dead, storage, ...time, maxQueue: 5 });
  const evs = Array.from({ length: 8 }, () => event());
  for (const e of evs) q.push(e);
  assert.equal(q.size, 5);
  assert.equal(q.dropped, 3);
  await q.flush();
  q.flushOnExit();
  assert.equal(storage.map.size, 1);

  const next = fakeTransport();
  const q2 = new BeaconQueue<Beacon>({ transport: next.transport, storage, ...time });
  await time.advance(0);
  await q2.flush();
  assert.deepEqual(
    next.posts.flatMap((p) => p.events.map((e) => e.eventId)),
    evs.slice(3).map((e) => e.eventId),
    'the next page sends what the closed one could not',
  );
  assert.equal(storage.map.size, 0);
});

/** A <video> the test plays by hand. */
class FakeVideo extends EventTarget {
  currentTime = 0;
  duration = 30;
  paused = true;
  ended = false;
  seeking = false;
  playbackRate = 1;
  readyState = 0;
  videoHeight = 0;
  fire(...names: string[]) {
    for (const name of names) this.dispatchEvent(new Event(name));
  }
  /** Plays `sec` seconds of media, in timeupdate steps of 0.25 s of wall time. */
  play(sec: number) {
    for (let t = 0; t < sec - 1e-9; t += 0.25 * this.playbackRate) {
      this.currentTime += 0.25 * this.playbackRate;
      this.fire('timeupdate');
    }
  }
}

async function sessionOf(platformTest: (video: FakeVideo, client: BeaconClient) => () => void) {
  const { transport, posts } = fakeTransport();
  const client = new BeaconClient({ viewer: 'user-42', transport, pageEvents: false, flushMs: 60_000 });
  const video = new FakeVideo();
  const stop = platformTest(video, client);
  const events = async () => {
    await settle();
    await client.flush();
    return posts.flatMap((p) => p.events);
  };
  return { video, client, stop, events };
}

test('a <video> session: start with startup time, heartbeats from played time, seek, stall, pause, end; a replay is a new session', async () => {
  let clock = 0;
  const { video, stop, events } = await sessionOf((v, client) =>
    attachBeacons(
      v as unknown as HTMLVideoElement,
      { lessonId: 'lesson-9', platform: 'web', district: '海淀区', school: 'bad\u0007name' },
      {
        client,
        now: () => clock,
      },
    ),
  );
  video.fire('play');
  clock = 850;
  video.paused = false;
  video.fire('playing');
  video.play(12); // first heartbeat after 10 s watched
  video.seeking = true;
  video.fire('seeking');
  video.currentTime = 20;
  video.fire('waiting');
  video.seeking = false;
  video.fire('seeked');
  video.fire('waiting');
  clock = 2050;
  video.fire('playing');
  video.playbackRate = 2;
  video.play(8); // 8 s of media at 2×: 4 s watched
  video.paused = true;
  video.fire('pause');
  video.paused = false;
  video.fire('play', 'playing');
  video.playbackRate = 1;
  video.play(1);
  video.ended = true;
  video.paused = true;
  video.fire('pause', 'ended');
  // replay from the start: a new session
  video.ended = false;
  video.currentTime = 0;
  video.paused = false;
  video.fire('play');
  clock = 2500;
  video.fire('playing');
  video.play(3);
  stop();
  const evs = await events();
  for (const e of evs) assert.ok(Beacon.safeParse(e).success, `valid: ${JSON.stringify(e)}`);
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'heartbeat', 'seek', 'stall', 'pause', 'end', 'start', 'end'],
  );
  const [start, beat, seek, stall, , end, start2, end2] = evs as [Beacon, ...Beacon[]];
  assert.ok(start.type === 'start' && start.startupMs === 850);
  assert.ok(beat!.type === 'heartbeat' && beat!.watchedSec === 10);
  assert.ok(seek!.type === 'seek' && seek!.from === 12 && seek!.position === 20);
  assert.ok(stall!.type === 'stall' && stall!.durationMs === 1200, 'the seek’s own waiting is not a stall');
  assert.ok(end!.type === 'end' && end!.watchedSec === 2 + 4 + 1, 'played time, not media time at 2×');
  assert.ok(start2!.type === 'start' && start2!.sessionId !== start.sessionId);
  assert.ok(end2!.type === 'end' && end2!.watchedSec === 3);
  assert.equal(start.duration, 30);
  assert.equal(start.district, '海淀区', 'districts travel as the profile names them');
  assert.equal(start.school, undefined, 'a school name with a control character is left out, not the event');
  assert.equal(new Set(evs.map((e) => e.eventId)).size, evs.length);
  assert.equal(start.viewerId, SIGNED(undefined), 'the platform’s signed viewer id');
});

test('a session whose client loads later (the lesson page, after its first frame): its start-up and every event arrive, each at the time it happened', async () => {
  const { transport, posts } = fakeTransport();
  let arrive!: (client: BeaconClient) => void;
  const later = laterBeaconClient(new Promise<BeaconClient>((r) => (arrive = r)));
  let clock = 0;
  const video = new FakeVideo();
  const stop = attachBeacons(
    video as unknown as HTMLVideoElement,
    { lessonId: 'lesson-7', platform: 'web' },
    { client: later, now: () => clock },
  );
  assert.equal(later.heartbeatSec, 30, 'the default interval until the server says');
  video.fire('play');
  clock = 1200;
  video.paused = false;
  video.fire('playing');
  const startedAt = Date.now();
  video.play(4);
  video.paused = true;
  video.fire('pause');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(posts.length, 0, 'nothing leaves before the client is there');

  const client = new BeaconClient({ viewer: 'user-7', transport, pageEvents: false, flushMs: 60_000 });
  arrive(client);
  await settle();
  assert.equal(client.active.size, 1, 'the session is the client’s to end when the page goes away');
  video.paused = false;
  video.fire('play', 'playing');
  video.play(1);
  stop();
  await settle();
  await client.flush();
  const evs = posts.flatMap((p) => p.events);
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'pause', 'end'],
  );
  const [start, pause, end] = evs as [Beacon, Beacon, Beacon];
  assert.ok(
    start.type === 'start' && start.startupMs === 1200,
    'the start-up time, measured before it loaded',
  );
  assert.ok(start.at <= startedAt + 5 && pause.at < Date.now() - 25, 'stamped when they happened');
  assert.ok(end.type === 'end' && end.watchedSec === 5);
  assert.equal(client.active.size, 0);
});

test('the TV reports as platform tv with the plan lesson’s grade and subject; an unpaired box keeps one viewer id', async () => {
  const storage = memoryStorage();
  const unpaired = boxViewer(storage);
  assert.match(unpaired, /^box:/);
  assert.equal(boxViewer(storage), unpaired, 'an unpaired box keeps one id');

  const { video, stop, events } = await sessionOf((v, client) =>
    watchOnTv(
      v as unknown as HTMLVideoElement,
      { kind: 'live', lessonId: 'plan-p1-math-003', grade: 'p1', subject: '数学' },
      (emit) => {
        emit({ rendition: '720p', bitrate: 2_800_000 });
        return () => undefined;
      },
      client,
    ),
  );
  video.paused = false;
  video.fire('play', 'playing');
  video.play(11);
  stop();
  const evs = await events();
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'heartbeat', 'end'],
  );
  for (const e of evs) {
    assert.equal(e.platform, 'tv');
    assert.equal(e.live, true);
    assert.equal(e.grade, 'p1');
    assert.equal(e.subject, '数学');
    assert.equal(e.rendition, '720p');
  }
});

test('a live channel’s next programme: the session starts on a video already playing, with no start-up time', async () => {
  const { video, stop, events } = await sessionOf((v, client) => {
    // the box has been playing the channel; the next lesson comes on air
    v.paused = false;
    v.readyState = 4;
    return watchOnTv(
      v as unknown as HTMLVideoElement,
      { kind: 'live', lessonId: 'plan-p1-math-004', grade: 'p1', subject: '数学' },
      undefined,
      client,
    );
  });
  video.play(11);
  stop();
  const evs = await events();
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'heartbeat', 'end'],
  );
  const start = evs[0]!;
  assert.ok(Beacon.safeParse(start).success);
  assert.ok(start.type === 'start' && start.startupMs === undefined, 'no 0 ms start-up reported');
});
