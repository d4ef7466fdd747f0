// The topology against a fake media server: which router a viewer gets, what is piped where, and what a
// worker death asks of the room.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaRouter } from '../adapters/room-media.js';
import { RoomRouters, type RouterSlot, type TopologyMedia } from './room-routers.js';

interface FakeRouter extends MediaRouter {
  worker: number;
}

/** Workers 0…n-1; pickWorker gives the first not avoided (or worker 0 when all are). */
function fakeMedia(workers: number) {
  const routers: FakeRouter[] = [];
  const pipes: string[] = [];
  const speakers: string[] = [];
  const deaths = new Map<MediaRouter, () => void>();
  const media: TopologyMedia = {
    async pickWorker(avoid = new Set()) {
      for (let index = 0; index < workers; index++) if (!avoid.has(index)) return { index };
      return { index: 0 };
    },
    async createRouter(worker) {
      const r = { id: `r${routers.length}`, worker: worker.index, closed: false, rtpCapabilities: {} };
      routers.push(r);
      return r;
    },
    onWorkerDeath: (router, listener) => void deaths.set(router, listener),
    closeRouter: (router) => void ((router as { closed: boolean }).closed = true),
    async pipe(from, producerId, to) {
      pipes.push(`${producerId} ${from.id}→${to.id}`);
    },
    async observeSpeakers() {
      return { closed: false };
    },
    async addSpeaker(_observer, producerId) {
      speakers.push(producerId);
    },
  };
  const kill = (r: MediaRouter) => deaths.get(r)!();
  return { media, routers, pipes, speakers, kill };
}

function topology(workers: number, producers: string[] = []) {
  const fake = fakeMedia(workers);
  const deaths: { slot: RouterSlot; origin: boolean }[] = [];
  const state = { closed: false, failures: 0 };
  const routers = new RoomRouters({
    lessonId: 'l',
    media: fake.media,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    consumerThreshold: 2,
    closed: () => state.closed,
    producerIds: () => producers,
    onDominantSpeaker: () => undefined,
    async onWorkerDeath(slot, origin) {
      deaths.push({ slot, origin });
      if (state.failures-- > 0) throw new Error('no worker yet');
    },
  });
  return { ...fake, routers, deaths, state };
}

test('viewers fill the origin to the threshold, then an edge on another worker gets every producer piped', async () => {
  const t = topology(2, ['cam', 'mic']);
  await t.routers.open();
  const origin = t.routers.origin;
  assert.equal(await t.routers.placeViewer(), origin);
  origin.consumers = 2;
  const edge = await t.routers.placeViewer();
  assert.notEqual(edge, origin);
  assert.equal(edge.workerIndex, 1);
  assert.deepEqual(t.pipes, ['cam r0→r1', 'mic r0→r1']);
  assert.deepEqual([...edge.piped], ['cam', 'mic']);
  // piping again is a no-op, and the origin never pipes to itself
  await t.routers.pipe('cam', edge);
  await t.routers.pipe('cam', origin);
  assert.equal(t.pipes.length, 2);
  // every worker carries the room: the least-loaded router, no new one
  edge.consumers = 2;
  origin.consumers = 3;
  assert.equal(await t.routers.placeViewer(), edge);
  assert.equal(t.routers.list().length, 2);
});

test('viewers placed at once are placed one after another (one edge, not two)', async () => {
  const t = topology(3);
  await t.routers.open();
  t.routers.origin.consumers = 2;
  const [a, b] = await Promise.all([t.routers.placeViewer(), t.routers.placeViewer()]);
  assert.equal(a, b);
  assert.equal(t.routers.list().length, 2);
});

test('a new producer: the speaker observer hears audio, and every edge gets it piped', async () => {
  const t = topology(2);
  await t.routers.open();
  t.routers.origin.consumers = 2;
  await t.routers.placeViewer();
  await t.routers.wire('mic', 'audio');
  await t.routers.wire('cam', 'video');
  assert.deepEqual(t.speakers, ['mic']);
  assert.deepEqual(t.pipes, ['mic r0→r1', 'cam r0→r1']);
});

test('a worker death: the room moves, retried while it fails, and operations wait for it', async () => {
  const t = topology(2);
  await t.routers.open();
  t.routers.origin.consumers = 2;
  const edge = await t.routers.placeViewer();
  t.kill(edge.router);
  await t.routers.ready;
  assert.deepEqual(t.deaths, [{ slot: edge, origin: false }]);
  t.state.failures = 1;
  t.kill(t.routers.origin.router);
  const since = Date.now();
  await t.routers.ready;
  assert.deepEqual(
    t.deaths.map((d) => d.origin),
    [false, true, true],
    'the origin once more after a failure',
  );
  assert.ok(Date.now() - since >= 900, 'a second apart');

  await t.routers.replaceOrigin();
  assert.equal(edge.router.closed, true, 'edges close with the origin they hung on');
  assert.deepEqual(t.routers.list(), [t.routers.origin]);
  assert.equal(t.routers.origin.router.id, 'r2');

  t.state.closed = true;
  t.kill(t.routers.origin.router);
  await t.routers.ready;
  assert.equal(t.deaths.length, 3, 'an ended room does not move');
});
