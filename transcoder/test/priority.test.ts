// A VOD encode runs below ordinary work (TRANSCODE_NICE lower, default 10): on a host it shares with a live
// lesson's encoder and the services answering users, it takes what they leave. Seen on the real ffmpeg
// process while it encodes, and the encode still completes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createFfmpeg } from '../src/adapters/ffmpeg.js';
import { loadConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'sky-nice-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each running ffmpeg this process started, by pid, with its nice (from /proc: state, ppid … priority, nice). */
function childFfmpegs(): [pid: number, nice: number][] {
  const found: [number, number][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm === 'ffmpeg' && Number(fields[1]) === process.pid)
        found.push([Number(entry), Number(fields[16])]);
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

/**
 * Encodes 3 s of test picture at its own pace (-re) and answers the nice of the encoding ffmpeg: the one
 * seen longest (fluent-ffmpeg's quick capability checks run first, as the process's own).
 */
async function encodeWatched(nice: number | undefined, name: string): Promise<number | undefined> {
  const ffmpeg = createFfmpeg({
    ffmpeg: 'ffmpeg',
    ffprobe: 'ffprobe',
    ...(nice === undefined ? {} : { nice }),
  });
  const seen = new Map<number, { nice: number; times: number }>();
  const watch = setInterval(() => {
    for (const [pid, n] of childFfmpegs()) seen.set(pid, { nice: n, times: (seen.get(pid)?.times ?? 0) + 1 });
  }, 50);
  try {
    await ffmpeg.run({
      input: 'testsrc2=size=320x240:rate=25:duration=3',
      inputOptions: ['-re', '-f', 'lavfi'],
      outputs: [{ target: join(dir, name), options: ['-c:v', 'libx264', '-preset', 'veryfast'] }],
    });
  } finally {
    clearInterval(watch);
  }
  assert.ok(existsSync(join(dir, name)), 'the encode wrote its output');
  return [...seen.values()].sort((a, b) => b.times - a.times)[0]?.nice;
}

test('a VOD encode runs TRANSCODE_NICE (10 unless set) below the transcoder and completes', async () => {
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), MEDIA_DIR: dir });
  assert.equal(config.TRANSCODE_NICE, 10);
  // `nice -n` counts from this process's own priority (0 unless the run itself was started niced)
  const own = getPriority();
  assert.equal(await encodeWatched(config.TRANSCODE_NICE, 'niced.mp4'), Math.min(19, own + 10));
  // the yardstick: the same encode without the setting runs at this process's own priority
  assert.equal(await encodeWatched(undefined, 'plain.mp4'), own);
});

test('TRANSCODE_NICE out of range is refused with its name', () => {
  assert.throws(
    () => loadConfig({ JWT_SECRET: 'x'.repeat(32), MEDIA_DIR: dir, TRANSCODE_NICE: '25' }),
    /TRANSCODE_NICE/,
  );
});
