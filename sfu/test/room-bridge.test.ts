// The room and the real HLS bridge together: the teacher's first producers start live HLS; a screen share,
// its end, a teacher's reload (a new connection) and a killed worker change what the one ffmpeg is fed, never
// the ffmpeg; room.end hands the finalised recording to the live.ended job. (The bridge's own details are
// in live-bridge.test.ts, the figures of each switch in bridge-switch.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import type { ApiClient } from '../src/adapters/api-client.js';
import { LiveBridge } from '../src/services/live-bridge.js';
import { packetTiming } from './hls-probe.js';
import {
  JWT_SECRET,
  liveClient,
  peerOf,
  produceFromFfmpeg,
  startSfu,
  until,
  type LiveClient,
  type TestSfu,
} from './helpers.js';

const TEACHER = 'dddddddddddddddddddddddd';
const lessonId = 'eeeeeeeeeeeeeeeeeeeeeeee';
const api: ApiClient = {
  liveInfo: async () => ({
    lessonId,
    state: 'live',
    teacherId: TEACHER,
    startedAt: new Date().toISOString(),
    sfuUrl: 'http://sfu',
    hls: { web: '', tv: '' },
  }),
  me: () => Promise.reject(new AppError('NOT_FOUND', 'no names here')),
};

let sfu: TestSfu;
let mediaDir: string;
let teacher: LiveClient;
let bridge: LiveBridge | undefined;
/** The bridge's log, printed when a test fails. */
const logs: string[] = [];
const stops: (() => Promise<void>)[] = [];

before(async () => {
  mediaDir = mkdtempSync(join(tmpdir(), 'sky-room-bridge-'));
  sfu = await startSfu({
    api,
    workers: 1,
    bridges: (id, router) =>
      (bridge = new LiveBridge(id, router, {
        mediaDir,
        ffmpegPath: 'ffmpeg',
        listenIp: '127.0.0.1',
        log: {
          info: (o, m) => logs.push(`${new Date().toISOString()} ${m} ${JSON.stringify(o)}`),
          warn: (o, m) => logs.push(`${new Date().toISOString()} ${m} ${JSON.stringify(o)}`),
          error: (o, m) => logs.push(`${new Date().toISOString()} ${m} ${JSON.stringify(o)}`),
        },
      })),
  });
});
after(async () => {
  teacher?.close();
  for (const s of stops) await s();
  await sfu.close();
  if (!process.env['KEEP_MEDIA']) rmSync(mediaDir, { recursive: true, force: true });
});

const segments = (rel: string) => {
  try {
    return readFileSync(join(mediaDir, 'live', lessonId, rel), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
  } catch {
    return [];
  }
};

const read = (rel: string) => {
  try {
    return readFileSync(join(mediaDir, 'live', lessonId, rel), 'utf8');
  } catch {
    return '';
  }
};
/** Waits until `n` segments were added after the newest one now listed. */
async function newSegments(what: string, n: number): Promise<void> {
  const last = segments('tv/360p/index.m3u8').at(-1);
  await until(
    what,
    () => {
      const now = segments('tv/360p/index.m3u8');
      return now.length - (last ? now.indexOf(last) : -1) - 1 >= n;
    },
    40_000,
  );
}
const carries = (producerId: string | undefined) => () => {
  const v = bridge?.relayState?.video;
  return v?.producerId === producerId && v?.carrying === v?.ssrc;
};

test('publishing starts live HLS; a screen share, its end, a reload and a worker kill keep the one ffmpeg; the end hands over the recording', async () => {
  const token = createTokenIssuer(JWT_SECRET, 900).sign({ sub: TEACHER, role: 'teacher' });
  teacher = await liveClient(sfu.url, token);
  const join_ = await teacher.ok('room.join', { lessonId });
  let { room, peer } = peerOf(sfu, lessonId, join_.peerId);
  const media = await produceFromFfmpeg(room, peer);
  stops.push(() => media.stop());

  await until('live HLS segments', () => segments('tv/360p/index.m3u8').length >= 2, 40_000);
  assert.ok(existsSync(join(mediaDir, 'live', lessonId, 'web/master.m3u8')));
  const pid = bridge?.ffmpegPid;
  assert.ok(pid);

  // the screen share goes on the HLS stage over the camera, and off again
  const screen = await produceFromFfmpeg(room, peer, { audio: false, source: 'screen', size: '1280x720' });
  stops.push(() => screen.stop());
  await until('the screen share carried', carries(screen.videoId), 30_000);
  await newSegments('segments of the screen share', 2);
  room.closeProducer(peer, screen.videoId!);
  await screen.stop();
  await until('the camera carried again', carries(media.videoId), 30_000);
  await newSegments('segments of the camera again', 2);

  // the teacher reloads the page: the old connection goes with its producers, a new one publishes
  teacher.close();
  await media.stop();
  await until(
    'black while the teacher is away',
    () => bridge?.relayState?.video.carrying === 'filler',
    20_000,
  );
  teacher = await liveClient(sfu.url, token);
  ({ room, peer } = peerOf(sfu, lessonId, (await teacher.ok('room.join', { lessonId })).peerId));
  const reloaded = await produceFromFfmpeg(room, peer);
  stops.push(() => reloaded.stop());
  await until('the reloaded camera carried', carries(reloaded.videoId), 30_000);
  await newSegments('segments after the reload', 2);
  assert.equal(bridge?.runs, 1, 'no new ffmpeg for a screen share or a reload');
  assert.equal(bridge?.ffmpegPid, pid);

  // the worker dies: the teacher's client re-publishes on room.restarted, the bridge follows the new router
  const restarted = teacher.next('room.restarted', undefined, 8000);
  process.kill(sfu.pool.states()[0]!.pid, 'SIGKILL');
  await restarted;
  await reloaded.stop();
  const media2 = await produceFromFfmpeg(sfu.app.rooms.room(lessonId)!, peer);
  stops.push(() => media2.stop());
  await until('the camera on the new worker carried', carries(media2.videoId), 30_000);
  await newSegments('new segments after the restart', 2);
  assert.equal(bridge?.runs, 1, 'nor for a worker death');
  assert.equal(bridge?.ffmpegPid, pid);
  for (const p of ['web/720p/index.m3u8', 'tv/360p/index.m3u8'])
    assert.doesNotMatch(read(p), /#EXT-X-DISCONTINUITY\n/, `${p}: one continuous stream`);

  const ended = await teacher.ok('room.end', {});
  assert.ok(ended.recording, 'a recording');
  const file = join(mediaDir, ended.recording);
  assert.ok(statSync(file).size > 10_000, 'the recording has content');
  assert.deepEqual(
    (await packetTiming(file)).gaps,
    [],
    `no hole longer than 1 s across all of it\n${logs.filter((l) => /relay|ffmpeg|recording/.test(l)).join('\n')}`,
  );
  assert.deepEqual(
    sfu.endedJobs.map((j) => j.recording),
    [ended.recording],
  );
});
