// The real pipeline on a real 1080p file: one encode, two packagings, masters, I-frames, images.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createLocalStorage } from '@sky/contracts/storage-local';
import { generateSampleVideo } from '@sky/devkit';
import { createFfmpeg } from '../src/adapters/ffmpeg.js';
import { HlsService } from '../src/services/hls.service.js';

const run = promisify(execFile);
let media: string;
let out: string;
const ffmpeg = createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' });
const hls = () => new HlsService(ffmpeg, createLocalStorage(media), join(media, '.tmp'), 'veryfast');
const job = {
  lessonId: 'l1080',
  source: 'src/lesson.mp4',
  outputDir: 'lessons/l1080/v1',
  requestedBy: 'test',
  kind: 'upload' as const,
};

before(async () => {
  media = mkdtempSync(join(tmpdir(), 'sky-hls-'));
  await generateSampleVideo(join(media, 'src', 'lesson.mp4'), {
    seconds: 13,
    width: 1920,
    height: 1080,
    fps: 30,
  });
  const result = await hls().package(job, 'a1');
  assert.equal(result.outcome, 'ready');
  out = join(media, job.outputDir);
});
after(() => rmSync(media, { recursive: true, force: true }));

const read = (p: string) => readFileSync(join(out, p), 'utf8');

test('the web master lists every rung and the audio-only rung with all attributes', () => {
  const master = read('web/master.m3u8');
  const infs = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
  assert.equal(infs.length, 6, master);
  assert.match(master, /#EXT-X-INDEPENDENT-SEGMENTS/);
  for (const [i, res] of ['1920x1080', '1280x720', '960x540', '640x360', '416x234'].entries()) {
    assert.match(infs[i]!, new RegExp(`RESOLUTION=${res}`));
    assert.match(infs[i]!, /BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    assert.match(infs[i]!, /FRAME-RATE=30\.000/);
  }
  assert.match(infs[0]!, /avc1\.640028/);
  assert.match(infs[2]!, /avc1\.4d40/);
  assert.match(infs[5]!, /CODECS="mp4a\.40\.2"/);
  assert.match(read('web/720p/index.m3u8'), /#EXT-X-MAP:URI="init_\d+\.mp4"/);
});

test('the TV master is HLS version 3 over MPEG-TS, ≤ 720p, 6 s segments, with I-frame playlists', () => {
  const master = read('tv/master.m3u8');
  assert.match(master, /^#EXTM3U\n#EXT-X-VERSION:3\n/);
  assert.equal((master.match(/#EXT-X-STREAM-INF/g) ?? []).length, 4);
  assert.ok(!master.includes('1920x1080'));
  assert.equal((master.match(/#EXT-X-I-FRAME-STREAM-INF/g) ?? []).length, 4);
  const media = read('tv/720p/index.m3u8');
  assert.match(media, /#EXT-X-VERSION:3/);
  assert.match(media, /#EXT-X-TARGETDURATION:6/);
  assert.match(media, /seg_00000\.ts/);
  const iframes = read('tv/720p/iframes.m3u8');
  assert.match(iframes, /#EXT-X-I-FRAMES-ONLY/);
  // 13 s at one keyframe per 2 s: 7 keyframes
  assert.equal((iframes.match(/#EXT-X-BYTERANGE/g) ?? []).length, 7);
});

test('each I-frame byte range starts with the PAT and PMT, then its keyframe: cut out alone, it decodes to one picture', async (t) => {
  let checked = 0;
  for (const rung of ['720p', '360p']) {
    const lines = read(`tv/${rung}/iframes.m3u8`).split('\n');
    const ranges = lines.flatMap((line, i) => {
      const m = /^#EXT-X-BYTERANGE:(\d+)@(\d+)$/.exec(line);
      return m ? [{ length: Number(m[1]), offset: Number(m[2]), uri: lines[i + 1]! }] : [];
    });
    assert.ok(new Set(ranges.map((r) => r.uri)).size >= 2, 'keyframes from more than one segment');
    for (const r of ranges) {
      const at = `${rung}/${r.uri}@${r.offset}`;
      const bytes = readFileSync(join(out, 'tv', rung, r.uri)).subarray(r.offset, r.offset + r.length);
      assert.equal(r.offset % 188, 0, `${at} is on a TS packet boundary`);
      const pid = (i: number) => ((bytes[i * 188 + 1]! & 0x1f) << 8) | bytes[i * 188 + 2]!;
      assert.equal(bytes[0], 0x47, `${at} starts with the TS sync byte`);
      assert.equal(pid(0), 0, `${at} starts with the PAT`);
      assert.ok(pid(1) >= 0x20 && pid(1) < 0x1fff, `${at}: the PMT follows (PID ${pid(1)})`);
      const file = join(media, `iframe-${rung}-${r.offset}.ts`);
      writeFileSync(file, bytes);
      // the program comes from the range's own PAT/PMT, and ffmpeg decodes its one picture from there
      const probe = await run('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'program=program_id:program_stream=codec_name',
        '-of',
        'json',
        file,
      ]);
      const programs = (JSON.parse(probe.stdout) as { programs: { streams: { codec_name: string }[] }[] })
        .programs;
      assert.equal(programs.length, 1, `${at} names its program: ${probe.stdout}`);
      assert.ok(
        programs[0]!.streams.some((s) => s.codec_name === 'h264'),
        `${at}: ${probe.stdout}`,
      );
      const decoded = await run('ffmpeg', [
        '-v',
        'error',
        '-i',
        file,
        '-map',
        '0:v:0',
        '-f',
        'framemd5',
        '-',
      ]);
      assert.equal(decoded.stderr.trim(), '', `${at} decodes without an error`);
      const frames = decoded.stdout.split('\n').filter((l) => /^\s*0,/.test(l));
      assert.equal(frames.length, 1, `${at} decodes to one picture`);
      checked++;
    }
  }
  t.diagnostic(`${checked} I-frame ranges of 720p and 360p: each PAT, PMT, one decodable picture`);
});

test('ffmpeg decodes every rung of both packagings without an error', async () => {
  const playlists = [
    ...['1080p', '720p', '540p', '360p', '234p', 'audio'].map((n) => `web/${n}/index.m3u8`),
    ...['720p', '540p', '360p', '234p'].map((n) => `tv/${n}/index.m3u8`),
  ];
  for (const p of playlists) {
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', join(out, p), '-f', 'null', '-']);
    assert.equal(stderr.trim(), '', `${p} decodes cleanly`);
  }
  const probe = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,profile,sample_rate,channels',
    '-of',
    'json',
    join(out, 'tv/540p/index.m3u8'),
  ]);
  const streams = (
    JSON.parse(probe.stdout) as {
      streams: { codec_name: string; profile?: string; sample_rate?: string; channels?: number }[];
    }
  ).streams;
  assert.deepEqual(
    streams.map((s) => [s.codec_name, s.profile]),
    [
      ['h264', 'Main'],
      ['aac', 'LC'],
    ],
  );
  assert.equal(streams[1]?.sample_rate, '48000');
  assert.equal(streams[1]?.channels, 2);
});

test('keyframes are aligned across rungs every 2 s', async () => {
  const keys = async (rung: string) =>
    (await ffmpeg.videoPackets(join(out, `tv/${rung}/seg_00000.ts`)))
      .filter((p) => p.key)
      .map((p) => p.ptsSec.toFixed(2));
  const top = await keys('720p');
  assert.deepEqual(
    top.map(Number).map((t) => Math.round((t - Number(top[0])) * 10) / 10),
    [0, 2, 4],
  );
  assert.deepEqual(await keys('234p'), top);
});

test('a poster, a storyboard sprite and its WebVTT', () => {
  assert.ok(existsSync(join(out, 'poster.jpg')));
  assert.ok(existsSync(join(out, 'storyboard.jpg')));
  const vtt = read('storyboard.vtt');
  assert.equal((vtt.match(/#xywh=/g) ?? []).length, 7);
});

test('no intermediate or temp folder is left, and a second run is a no-op', async () => {
  assert.ok(!existsSync(join(out, 'encoded.mkv')));
  assert.deepEqual(readdirSync(join(media, '.tmp')), []);
  // the same adapter, counting the ffmpeg runs it is asked for
  const runs: unknown[] = [];
  const counting = {
    ...ffmpeg,
    run: (...a: Parameters<typeof ffmpeg.run>) => (runs.push(a[0]), ffmpeg.run(...a)),
  };
  const again = await new HlsService(
    counting,
    createLocalStorage(media),
    join(media, '.tmp'),
    'veryfast',
  ).package(job, 'a2');
  assert.equal(again.outcome, 'ready');
  assert.deepEqual(runs, [], 'nothing was encoded again');
});

test('an audio-only recording becomes an audio-only lesson on both packagings', async () => {
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=330:duration=9',
    '-c:a',
    'aac',
    join(media, 'src', 'voice.m4a'),
  ]);
  const result = await hls().package(
    {
      lessonId: 'voice',
      source: 'src/voice.m4a',
      outputDir: 'lessons/voice/v1',
      requestedBy: 'test',
      kind: 'upload',
    },
    'a1',
  );
  assert.equal(result.outcome, 'ready');
  assert.ok(result.outcome === 'ready' && result.poster === undefined);
  const dir = join(media, 'lessons/voice/v1');
  for (const p of ['web', 'tv']) {
    const master = readFileSync(join(dir, p, 'master.m3u8'), 'utf8');
    assert.match(
      master,
      /#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="mp4a\.40\.2"\naudio\/index\.m3u8/,
    );
    const { stderr } = await run('ffmpeg', [
      '-v',
      'error',
      '-i',
      join(dir, p, 'audio/index.m3u8'),
      '-f',
      'null',
      '-',
    ]);
    assert.equal(stderr.trim(), '');
  }
  assert.match(readFileSync(join(dir, 'tv/master.m3u8'), 'utf8'), /^#EXTM3U\n#EXT-X-VERSION:3\n/);
});

test('a file that is not media fails for good with a code, not a retry', async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(media, 'src', 'notes.mp4'), 'not a video\n'.repeat(100));
  await assert.rejects(
    hls().package(
      {
        lessonId: 'bad',
        source: 'src/notes.mp4',
        outputDir: 'lessons/bad/v1',
        requestedBy: 'test',
        kind: 'upload',
      },
      'a1',
    ),
    (err: Error & { code?: string }) => err.code === 'NOT_MEDIA',
  );
  assert.ok(!existsSync(join(media, 'lessons/bad')));
});
