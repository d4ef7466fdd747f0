// The room and the real HLS bridge together: the teacher's first producers start live HLS, a killed worker
// moves the bridge to the room's new router once the teacher re-publishes, and room.end hands the
// finalised recording to the live.ended job. (The bridge's own details are in live-bridge.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import type { ApiClient } from '../src/adapters/api-client.js';
import { LiveBridge } from '../src/services/live-bridge.js';
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
const stops: (() => Promise<void>)[] = [];

before(async () => {
  mediaDir = mkdtempSync(join(tmpdir(), 'sky-room-bridge-'));
  sfu = await startSfu({
    api,
    workers: 1,
    bridges: (id, router) =>
      new LiveBridge(id, router, {
        mediaDir,
        ffmpegPath: 'ffmpeg',
        listenIp: '127.0.0.1',
        log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
  });
});
after(async () => {
  teacher?.close();
  for (const s of stops) await s();
  await sfu.close();
  rmSync(mediaDir, { recursive: true, force: true });
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

test('publishing starts live HLS; after a worker kill the re-published teacher is live again; the end hands over the recording', async () => {
  teacher = await liveClient(
    sfu.url,
    createTokenIssuer(JWT_SECRET, 900).sign({ sub: TEACHER, role: 'teacher' }),
  );
  const join_ = await teacher.ok('room.join', { lessonId });
  const { room, peer } = peerOf(sfu, lessonId, join_.peerId);
  const media = await produceFromFfmpeg(room, peer);
  stops.push(() => media.stop());

  await until('live HLS segments', () => segments('tv/360p/index.m3u8').length >= 2, 40_000);
  assert.ok(existsSync(join(mediaDir, 'live', lessonId, 'web/master.m3u8')));

  // the worker dies: the teacher's client re-publishes on room.restarted, the bridge follows the new router
  const restarted = teacher.next('room.restarted', undefined, 8000);
  process.kill(sfu.pool.states()[0]!.pid, 'SIGKILL');
  await restarted;
  await media.stop();
  const media2 = await produceFromFfmpeg(sfu.app.rooms.room(lessonId)!, peer);
  stops.push(() => media2.stop());
  const last = segments('tv/360p/index.m3u8').at(-1);
  await until(
    'new segments after the restart',
    () => {
      const now = segments('tv/360p/index.m3u8');
      const at = last ? now.indexOf(last) : -1;
      return now.length - at - 1 >= 2;
    },
    40_000,
  );

  const ended = await teacher.ok('room.end', {});
  assert.ok(ended.recording, 'a recording');
  const file = join(mediaDir, ended.recording);
  assert.ok(statSync(file).size > 10_000, 'the recording has content');
  assert.deepEqual(
    sfu.endedJobs.map((j) => j.recording),
    [ended.recording],
  );
});
