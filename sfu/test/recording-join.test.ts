// The recording's join with real ffmpeg: parts of ffmpeg runs, each with a clapperboard (a white flash
// and a tone together every 2 s), joined as the bridge joins them at the end of a lesson. A run stopped
// while behind real time ends with its sound short of its picture; the next part must still play with
// its sound on its picture.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { buildConcatArgs, buildConcatList, partOutpoint } from '../src/services/live-bridge-args.js';
import { avSync, pairsOf } from './hls-probe.js';

const run = promisify(execFile);
const PERIOD_SEC = 2;
const PART_SEC = 7;
const dir = mkdtempSync(join(tmpdir(), 'sky-recording-join-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A run's part (MPEG-TS, as the live tee writes it): `PART_SEC` of picture, its sound `shortSec` shorter;
 * and its last frame's time (MPEG-TS starts its clock at 1.4 s).
 */
async function part(name: string, shortSec: number): Promise<{ file: string; lastVideoSec: number }> {
  const file = join(dir, name);
  const flash = `lt(mod(t,${PERIOD_SEC}),0.2)`;
  await run('ffmpeg', [
    ...['-v', 'error', '-y'],
    ...[
      '-f',
      'lavfi',
      '-i',
      `color=c=0x202838:s=320x180:r=25:d=${PART_SEC},drawbox=c=white:t=fill:enable='${flash}'`,
    ],
    ...['-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${PART_SEC - shortSec}`],
    ...['-af', `volume='if(${flash},1,0.01)':eval=frame`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', file],
  ]);
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file],
  ]);
  const times = stdout
    .split('\n')
    .map((l) => Number.parseFloat(l))
    .filter(Number.isFinite);
  return { file, lastVideoSec: Math.max(...times) };
}

test('a part whose sound ends short of its picture: the next part keeps its sound on its picture', async () => {
  // 60 ms: less than ffmpeg's own threshold for filling (0.1 s), more than an audio frame
  const first = await part('part-000.ts', 0.06);
  const parts = [
    { file: first.file, outpoint: partOutpoint(first.lastVideoSec, false) },
    { file: (await part('part-001.ts', 0)).file },
  ];
  const list = join(dir, 'parts.txt');
  writeFileSync(list, buildConcatList(parts));
  const joined = join(dir, 'recording.mp4');
  await run('ffmpeg', buildConcatArgs(list, joined));
  const sync = await avSync(joined, PERIOD_SEC);
  // flashes at 0, 2, 4, 6 s of each part; the first (at the file's start) has no tone onset to pair
  assert.ok(sync.offsets.length >= 6, `flashes paired with their tone: ${pairsOf(sync)}`);
  const second = sync.offsets.filter((_, i) => sync.flashes[i]! > PART_SEC);
  assert.ok(second.length >= 3, `flashes of the second part: ${pairsOf(sync)}`);
  // one video frame (40 ms) is the picture's own grain; the sound may not move by more than that
  const worst = Math.max(...sync.offsets.map(Math.abs));
  assert.ok(worst <= 0.04, `sound and picture together in both parts: ${pairsOf(sync)}`);
});
