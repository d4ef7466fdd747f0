// A linear TV channel end to end: a lesson transcoded by the real pipeline, scheduled by the real
// curriculum service, stitched live by the gateway between slates — played by ffmpeg and by hls.js across
// the lesson's start, with sequence numbers that never go backwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { avcCodec, parseMasterPlaylist, strictestCodecs, type Plan } from '@sky/contracts';
import { launchChromium, mediaDuration } from '@sky/devkit';
import { startTvStack, type TvStack } from './tv-stack.js';
import { testTerm } from './fixtures.js';

const run = promisify(execFile);
const TERM_START = '2026-11-23'; // a Monday
const LESSON_AT = Date.parse(`${TERM_START}T08:00:00+08:00`) / 1000;

let stack: TvStack;
let base: string;
/** The gateway's clock: real time shifted (an hour before the lesson until the playback test). */
const setClock = (at: number) => {
  stack.shift = at - Date.now() / 1000;
};

before(async () => {
  const rules = { slots: ['08:00', '09:00', '10:00'], maxDaily: 3, lessonMinutes: 20 };
  stack = await startTvStack({
    plan: (vodLessonId): Plan => ({
      term: testTerm(rules, '2026-12-04'),
      subjects: [{ code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 5, core: true }],
      teachers: [{ id: 't1', name: '王老师', subjects: ['math'], grades: ['p1'], unavailable: [] }],
      channels: [
        { id: 'tv-p1', kind: 'tv', number: 1, zh: '空中课堂 一年级', en: 'Sky Classroom P1', grades: ['p1'] },
      ],
      lessons: [1, 2, 3].map((order) => ({
        id: `p1-math-${order}`,
        title: `认识钟表（${order}）`,
        grade: 'p1' as const,
        subject: 'math',
        unit: '第一单元',
        order,
        durationMin: 20,
        teacherId: 't1',
        recording: 'ready' as const,
        vodLessonId,
      })),
    }),
  });
  base = stack.base;
  setClock(LESSON_AT - 3600);
});

after(() => stack?.close());

const sequence = async () => {
  const text = await (await fetch(`${base}/channels/tv-p1/720p.m3u8`)).text();
  const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
  const dsn = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)?.[1]);
  return { text, msn, dsn };
};

test('the channel master is HLS v3 over two rungs; its live playlist stitches slate and lesson with wall-clock times', async () => {
  const master = await (await fetch(`${base}/channels/tv-p1.m3u8`)).text();
  assert.match(master, /^#EXTM3U\n#EXT-X-VERSION:3\n/);
  assert.equal((master.match(/#EXT-X-STREAM-INF/g) ?? []).length, 2);
  const { text } = await sequence();
  assert.match(text, /#EXT-X-VERSION:3/);
  assert.match(text, /#EXT-X-PROGRAM-DATE-TIME:2026-11-2\dT/);
  assert.match(text, /\/slate\/720p\/slate_\d\d\.ts/);
  assert.ok(!text.includes('#EXT-X-ENDLIST'));
});

test('ffmpeg plays 30 s of the channel across the lesson start; hls.js plays it in Chromium; sequence numbers only go up', async () => {
  setClock(LESSON_AT - 4); // the lesson starts 4 s from now
  const seen: { msn: number; dsn: number; lesson: boolean }[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const { msn, dsn, text } = await sequence();
      seen.push({ msn, dsn, lesson: text.includes('/media/lessons/') });
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/healthz`); // the gateway's origin
    await page.setContent(`<video id="v" muted autoplay playsinline></video>`);
    // the gateway's CSP runs scripts of its own origin only: hls.js is served as one of them
    const hlsUrl = `${base}/__test__/hls.min.js`;
    await page.route(hlsUrl, (route) =>
      route.fulfill({
        path: join(import.meta.dirname, '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js'),
        contentType: 'text/javascript',
      }),
    );
    await page.addScriptTag({ url: hlsUrl });
    await page.evaluate((src) => {
      const w = window as unknown as {
        Hls: new () => {
          loadSource(s: string): void;
          attachMedia(v: HTMLVideoElement): void;
          on(e: string, f: (e: string, d: { fatal: boolean; details: string }) => void): void;
        };
        fatal?: string;
      };
      const hls = new w.Hls();
      hls.on('hlsError', (_e, d) => {
        if (d.fatal) w.fatal = d.details;
      });
      hls.loadSource(src);
      hls.attachMedia(document.getElementById('v') as HTMLVideoElement);
    }, `${base}/channels/tv-p1.m3u8`);

    const { stderr } = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'info',
        '-t',
        '30',
        '-i',
        `${base}/channels/tv-p1.m3u8`,
        '-map',
        '0:v:0',
        '-map',
        '0:a:0',
        '-f',
        'null',
        '-',
      ],
      { timeout: 120_000 },
    );
    assert.doesNotMatch(stderr, /Invalid data|decode_slice|error while decoding/i, stderr);
    // the 720p rung's video and audio decoded for the whole 30 s, slate and lesson
    const times = [...stderr.matchAll(/time=(\d+):(\d+):([\d.]+)/g)].map(
      (m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]),
    );
    assert.ok((times.at(-1) ?? 0) >= 29, `ffmpeg decoded ${times.at(-1)} s`);
    assert.match(stderr, /Opening '.*\/slate\/720p\/slate_\d+\.ts'/);
    assert.match(stderr, /Opening '.*\/media\/lessons\/.*\.ts'/);
    // after 30 s of wall clock the lesson has been on air for ~20 s: hls.js kept playing across it
    const state = await page.evaluate(() => {
      const v = document.getElementById('v') as HTMLVideoElement;
      return { t: v.currentTime, fatal: (window as unknown as { fatal?: string }).fatal, w: v.videoWidth };
    });
    assert.equal(state.fatal, undefined);
    assert.ok(state.t > 10, `hls.js played ${state.t} s`);
    assert.ok(state.w > 0);
  } finally {
    polling = false;
    await poll;
    await browser.dispose();
  }
  assert.ok(seen.length >= 10, `${seen.length} playlist polls`);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(
      seen[i]!.msn >= seen[i - 1]!.msn,
      `media sequence went back: ${seen[i - 1]!.msn} → ${seen[i]!.msn}`,
    );
    assert.ok(seen[i]!.dsn >= seen[i - 1]!.dsn, 'discontinuity sequence went back');
  }
  assert.ok(!seen[0]!.lesson && seen.at(-1)!.lesson, 'the playlists went from slate to the lesson');
});

test('ffprobe reads the lesson part of the channel (catch-up of the aired programme, ended)', async () => {
  setClock(LESSON_AT + 120); // two minutes after the lesson began: it has fully aired
  const text = await (
    await fetch(`${base}/channels/tv-p1/720p.m3u8?utc=${LESSON_AT}&lutc=${LESSON_AT + 3600}`)
  ).text();
  assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.match(text, /#EXT-X-ENDLIST/);
  const durationSec = await mediaDuration(`${base}/channels/tv-p1/720p.m3u8?utc=${LESSON_AT}`);
  assert.ok(Math.abs(durationSec - 30) < 2, `catch-up lasts ${durationSec} s`);
  const future = await fetch(`${base}/channels/tv-p1/720p.m3u8?utc=${LESSON_AT + 86400 * 30}`);
  assert.equal(future.status, 404);
});

test('catch-up by lesson id sends the box to the lesson’s own TV master; unknown or future lessons are refused', async () => {
  const aired = await fetch(`${base}/catchup/lessons/p1-math-1.m3u8`, { redirect: 'manual' });
  assert.equal(aired.status, 302);
  const master = aired.headers.get('location')!;
  assert.match(master, /\/media\/lessons\/[a-f0-9]{24}\/v1\/tv\/master\.m3u8$/);
  assert.match(await (await fetch(master)).text(), /#EXT-X-VERSION:3/);
  assert.equal((await fetch(`${base}/catchup/lessons/p1-math-3.m3u8`, { redirect: 'manual' })).status, 404);
  assert.equal((await fetch(`${base}/catchup/lessons/nope.m3u8`, { redirect: 'manual' })).status, 404);
});

/** What ffprobe finds in one served segment, and its bit rate over its EXTINF duration. */
async function probeSegment(url: string, durationSec: number) {
  const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,codec_name,profile,level',
    '-of',
    'json',
    url,
  ]);
  const streams = (
    JSON.parse(stdout) as {
      streams: { codec_type: string; codec_name: string; profile?: string; level?: number }[];
    }
  ).streams;
  const video = streams.find((s) => s.codec_type === 'video' && s.codec_name === 'h264');
  const audio = streams.find((s) => s.codec_type === 'audio');
  assert.ok(video?.profile && video.level, `${url}: ${stdout}`);
  return {
    url,
    codecs: [
      avcCodec(video.profile, video.level),
      ...(audio?.codec_name === 'aac' && audio.profile === 'LC' ? ['mp4a.40.2'] : []),
    ],
    bitrate: (bytes.length * 8) / durationSec,
  };
}

/** Segment URLs and durations of a media playlist. */
const segmentsOf = (text: string) => {
  const lines = text.split('\n');
  return lines.flatMap((l, i) =>
    l.startsWith('#EXTINF:') ? [{ url: lines[i + 1]!, durationSec: Number.parseFloat(l.slice(8)) }] : [],
  );
};

test('the channel master describes what each rung carries: CODECS and BANDWIDTH match ffprobe of the segments served', async (t) => {
  setClock(LESSON_AT + 30); // the live window holds slate, then the whole lesson
  const master = await (await fetch(`${base}/channels/tv-p1.m3u8`)).text();
  const variants = parseMasterPlaylist(master);
  assert.deepEqual(
    variants.map((v) => v.uri),
    ['tv-p1/720p.m3u8', 'tv-p1/360p.m3u8'],
  );
  for (const v of variants) {
    const playlist = await (await fetch(new URL(v.uri, `${base}/channels/`).href)).text();
    const served = segmentsOf(playlist);
    assert.ok(served.some((s) => s.url.includes('/slate/')) && served.some((s) => s.url.includes('/media/')));
    const probed = [];
    for (const s of served) probed.push(await probeSegment(s.url, s.durationSec));
    // one decoder set for all of it: the strictest profile and level served, and AAC-LC
    assert.deepEqual(v.codecs, strictestCodecs(probed.map((p) => p.codecs)), master);
    assert.ok(v.codecs.includes('mp4a.40.2'));
    const peak = Math.max(...probed.map((p) => p.bitrate));
    for (const p of probed)
      assert.ok(p.bitrate <= v.bandwidth, `${p.url}: ${p.bitrate} b/s > ${v.bandwidth}`);
    t.diagnostic(
      `${v.uri}: CODECS="${v.codecs.join(',')}" BANDWIDTH=${v.bandwidth}; served ${probed.length} segments, ` +
        `${[...new Set(probed.map((p) => p.codecs[0]))].join(' + ')}, peak ${Math.round(peak)} b/s ` +
        `(${((peak / v.bandwidth) * 100).toFixed(0)} % of BANDWIDTH)`,
    );
  }
});

test('catch-up of the programme on the air is an EVENT playlist from its start, short-lived, until it has aired; then the same playlist with ENDLIST', async () => {
  const url = `${base}/channels/tv-p1/720p.m3u8?utc=${LESSON_AT}&lutc=${LESSON_AT + 13}`;
  setClock(LESSON_AT + 13); // 13 s into the 30 s lesson: three of its five 6-second ticks have begun
  const airing = await fetch(url);
  const event = await airing.text();
  assert.equal(airing.headers.get('cache-control'), 'public, max-age=2');
  assert.match(event, /#EXT-X-PLAYLIST-TYPE:EVENT\n/);
  assert.doesNotMatch(event, /#EXT-X-ENDLIST/);
  const listed = segmentsOf(event);
  assert.equal(listed.length, 3, event);
  assert.ok(
    listed.every((s) => s.url.includes('/media/lessons/')),
    'it starts where the programme did',
  );
  // what is listed plays: ffmpeg decodes the 18 s there are
  const { stderr } = await run(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-i', url, '-map', '0:v:0', '-f', 'null', '-'],
    {
      timeout: 60_000,
    },
  );
  assert.doesNotMatch(stderr, /error while decoding|Invalid data/i);

  setClock(LESSON_AT + 19); // a tick later the same playlist has grown, never changed
  const grown = await (await fetch(url)).text();
  assert.ok(grown.startsWith(event), `an EVENT playlist only appends:\n${event}\n---\n${grown}`);
  assert.equal(segmentsOf(grown).length, 4);

  setClock(LESSON_AT + 45); // the lesson has aired to its end
  const ended = await fetch(url);
  const vod = await ended.text();
  assert.equal(ended.headers.get('cache-control'), 'public, max-age=3600');
  // still EVENT (a player that loaded it while airing sees it only grow), now with its end
  assert.ok(vod.startsWith(grown.trimEnd()), `the ended catch-up only appended:\n${grown}\n---\n${vod}`);
  assert.match(vod, /#EXT-X-PLAYLIST-TYPE:EVENT\n/);
  assert.ok(vod.endsWith('#EXT-X-ENDLIST\n'));
  assert.equal(segmentsOf(vod).length, 5);
});
