// A live lesson with the media store in S3 (a real Swift with s3api): the sfu's bridge (a real mediasoup
// worker, a fake teacher's VP8 + Opus, the bridge's ffmpeg) stores its segments in the bucket, and viewers
// read the playlists through the api as players do. Every segment a playlist names is there when the
// playlist is read, decodes, and the end of the lesson arrives; the whole lesson (the TV's top rung, the
// same packets as the recording) and the joined recording are in the bucket when the sfu stops.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseLiveTvList } from '@sky/contracts';
import type { MediaStorage } from '@sky/contracts/storage';
import { mediaDuration, reserveRtcPorts } from '@sky/devkit';
import * as mediasoup from 'mediasoup';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import type { StoredSegment } from '../sfu/src/services/live-mirror.js';
import { LiveBridge, type BridgeLogger } from '../sfu/src/services/live-bridge.js';
import { decode } from '../sfu/test/hls-probe.js';
import { LIVE_TEST_CODECS, startFakeTeacher, type FakeTeacher } from '../sfu/test/live-source.js';
import { startS3, type S3Stack } from './s3-stack.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WATCH_MS = 20_000;
const LIST_SIZE = 6;

let s3: S3Stack;
let store: MediaStorage & { client: { destroy(): void } };
let api: TestApi;
let base: string;
let apiUrl: string;
let bucket: string;
let router: mediasoup.types.Router;
let spool: string;
let worker: mediasoup.types.Worker;
let teacher: FakeTeacher;
let bridge: LiveBridge;
const lessonId = `s3live${Date.now().toString(36)}`;
/** Each segment as the bridge stored it, with when (for a failure's account of a missed one). */
const stored: (StoredSegment & { at: number })[] = [];
const logs: string[] = [];
const log: BridgeLogger = {
  info: (o, m) => logs.push(`info ${m} ${JSON.stringify(o)}`),
  warn: (o, m) => logs.push(`warn ${m} ${JSON.stringify(o)}`),
  error: (o, m) => logs.push(`error ${m} ${JSON.stringify(o)}`),
};

before(async () => {
  spool = mkdtempSync(join(tmpdir(), 'sky-live-spool-'));
  s3 = await startS3();
  bucket = await s3.createBucket(`sky-live-${randomBytes(4).toString('hex')}`);
  store = s3.store(bucket);
  api = await startTestApi({}, { lessonStore: store });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  base = `${apiUrl}/media/live/${lessonId}`;
  const [rtcMinPort, rtcMaxPort] = reserveRtcPorts();
  worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort, rtcMaxPort });
  router = await worker.createRouter({ mediaCodecs: LIVE_TEST_CODECS });
  teacher = await startFakeTeacher(router);
  // the sfu's spool is not the api's media folder: viewers can only be reading the bucket
  bridge = new LiveBridge(lessonId, router, {
    mediaDir: spool,
    ffmpegPath: 'ffmpeg',
    log,
    listenIp: '127.0.0.1',
    segmentSec: 1,
    listSize: LIST_SIZE,
    store,
    onSegmentStored: (s) => stored.push({ ...s, at: Date.now() }),
  });
});

after(async () => {
  await bridge?.stop().catch(() => undefined);
  await teacher?.stop();
  worker?.close();
  await api?.close();
  store?.client.destroy();
  await s3?.close();
  rmSync(spool, { recursive: true, force: true });
});

interface Fetched {
  url: string;
  status: number;
  bytes: Buffer;
}

/** One player of one variant: reads the playlist every 0.5 s and fetches every file it names, once. */
function watchVariant(variant: string) {
  const got = new Map<string, Fetched>();
  const playlists: string[] = [];
  /** Each read of the playlist: when, and the first and last segment it listed. */
  const reads: { at: number; first: string; last: string }[] = [];
  /** When each segment was first listed, against the end of its time in PROGRAM-DATE-TIME. */
  const behindMs: number[] = [];
  const done = (async () => {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${base}/${variant}/index.m3u8`);
      if (res.status === 404) {
        await res.arrayBuffer();
        await sleep(500);
        continue; // before the first segment
      }
      assert.equal(res.status, 200, `${variant} playlist`);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=0, s-maxage=1');
      const text = await res.text();
      playlists.push(text);
      const lines = text.split('\n');
      const listed = lines.filter((l) => l.startsWith('seg_'));
      reads.push({ at: Date.now(), first: listed[0] ?? '-', last: listed.at(-1) ?? '-' });
      for (const [n, line] of lines.entries()) {
        const uri =
          /^#EXT-X-MAP:URI="([^"]+)"/.exec(line)?.[1] ?? (line && !line.startsWith('#') ? line : '');
        if (!uri || got.has(uri)) continue;
        const r = await fetch(`${base}/${variant}/${uri}`);
        got.set(uri, { url: r.url, status: r.status, bytes: Buffer.from(await r.arrayBuffer()) });
        if (uri.startsWith('seg_')) {
          assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
          const pdt = /^#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(lines[n - 1] ?? '')?.[1];
          const dur = Number(/^#EXTINF:([\d.]+)/.exec(lines[n - 2] ?? '')?.[1]);
          if (pdt && Number.isFinite(dur) && playlists.length > 1)
            behindMs.push(Date.now() - (Date.parse(pdt.replace(/\+0000$/, 'Z')) + dur * 1000));
        }
      }
      if (text.includes('#EXT-X-ENDLIST')) break;
      await sleep(500);
    }
  })();
  return { got, playlists, reads, behindMs, done };
}

/**
 * For a failure: each segment stored but never listed to the player, when it was stored, and the player's
 * reads on either side (were they far apart, or did the bucket's playlist jump past it?).
 */
function missedAccount(
  variant: string,
  reads: { at: number; first: string; last: string }[],
  seen: string[],
) {
  const start = reads[0]?.at ?? 0;
  const rel = (t: number) => `${t >= start ? '+' : '−'}${(Math.abs(t - start) / 1000).toFixed(1)} s`;
  const lines = stored
    .filter((s) => s.key.includes(`/${variant}/seg_`))
    .map((s) => ({ ...s, name: s.key.slice(s.key.lastIndexOf('/') + 1) }))
    .filter((s) => !seen.includes(s.name))
    .map((s) => {
      const before = reads.filter((r) => r.at <= s.at).at(-1);
      const next = reads.find((r) => r.at > s.at);
      const read = (r: typeof before) => (r ? `${rel(r.at)} listing ${r.first}…${r.last}` : 'none');
      return `\n  ${s.name} stored ${rel(s.at)}; the player's reads before: ${read(before)}, after: ${read(next)}`;
    });
  return lines.join('');
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? NaN;

test('viewers behind the api read the live lesson from the bucket: no missing segment, all decode, the end arrives', async () => {
  await bridge.update({ video: teacher.video, audio: teacher.audio });
  const viewers = ['web/720p', 'web/360p', 'tv/720p', 'tv/360p'].map((v) => ({
    v,
    w: watchVariant(v),
  }));
  await sleep(WATCH_MS);
  const t0 = Date.now();
  const result = await bridge.stop();
  const stopMs = Date.now() - t0;
  await Promise.all(viewers.map(({ w }) => w.done));

  for (const master of ['web', 'tv']) {
    const res = await fetch(`${base}/${master}/master.m3u8`);
    assert.equal(res.status, 200, `${master} master from the bucket`);
    assert.match(await res.text(), /720p\/index\.m3u8/);
  }
  for (const { v, w } of viewers) {
    const missing = [...w.got].filter(([, f]) => f.status !== 200).map(([u, f]) => `${u} ${f.status}`);
    assert.deepEqual(missing, [], `${v}: every file a playlist named was there`);
    const segs = [...w.got.keys()].filter((u) => u.startsWith('seg_'));
    // the player read the playlist from before the first segment: it saw every one the bridge stored (how
    // many the bridge made in the time depends on the machine; the recording's length is checked below)
    const made = stored
      .map((s) => s.key)
      .filter((k) => k.startsWith(`live/${lessonId}/${v}/seg_`))
      .map((k) => k.slice(k.lastIndexOf('/') + 1));
    assert.deepEqual(
      [...segs].sort(),
      [...made].sort(),
      `${v}: every segment stored was listed and fetched${missedAccount(v, w.reads, segs)}`,
    );
    assert.ok(segs.length >= 10, `${v}: ${segs.length} segments over ~${WATCH_MS / 1000} s`);
    assert.ok(w.playlists.at(-1)!.includes('#EXT-X-ENDLIST'), `${v}: the end arrived`);
    // every segment decodes (fMP4 behind its run's init segment), the size of its rung
    for (const seg of segs) {
      const file = join(spool, `fetched-${v.replace('/', '-')}-${seg}`);
      const init = v.startsWith('web')
        ? w.got.get(`init_${/^seg_(\d+)_/.exec(seg)![1]}.mp4`)?.bytes
        : undefined;
      if (v.startsWith('web')) assert.ok(init, `${v}: ${seg}'s init segment fetched`);
      writeFileSync(file, init ? Buffer.concat([init, w.got.get(seg)!.bytes]) : w.got.get(seg)!.bytes);
      const d = await decode(file);
      assert.equal(d.errors, '', `${v}/${seg} decodes`);
      // a whole second of picture; the lesson's last segment ends where the teacher stopped
      assert.ok(d.frames >= (seg === segs.at(-1) ? 1 : 20), `${v}/${seg}: ${d.frames} frames`);
      assert.equal(d.width, v.endsWith('720p') ? 1280 : 640, `${v}/${seg} width`);
    }
    console.log(
      `[s3-live] ${v}: ${segs.length} segments fetched via the api, first listed after its PDT end: median ${pct(w.behindMs, 0.5)} ms, p95 ${pct(w.behindMs, 0.95)} ms`,
    );
  }

  // upload lag: from ffmpeg finishing a segment to the playlist naming it stored in the bucket
  const lags = stored.map((s) => s.lagMs);
  console.log(
    `[s3-live] ${lags.length} segments stored; lag median ${pct(lags, 0.5)} ms, p95 ${pct(lags, 0.95)} ms, max ${Math.max(...lags)} ms; stop() ${stopMs} ms`,
  );
  assert.ok(lags.length >= 4 * 10, `${lags.length} segments stored`);
  // a segment stored later than the window is long would leave the window before any viewer saw it
  assert.ok(pct(lags, 0.95) < LIST_SIZE * 1000, `upload lag p95 ${pct(lags, 0.95)} ms`);

  // the whole lesson is in the bucket as it was made: the TV top rung's list names only stored segments
  const whole = await fetch(`${base}/tv/720p/lesson.m3u8`);
  assert.equal(whole.status, 200);
  const list = parseLiveTvList(await whole.text());
  assert.ok(list.ended, 'the whole-lesson list is ended');
  for (const s of list.segments) {
    const r = await fetch(`${base}/tv/720p/${s.uri}`, { method: 'HEAD' });
    assert.equal(r.status, 200, `tv/720p/${s.uri} in the bucket`);
  }
  // the joined recording is in the bucket before stop() answers, private, and plays
  assert.equal(result.recording, `live/${lessonId}/recording/recording.mp4`);
  assert.equal((await fetch(`${base}/recording/recording.mp4`)).status, 404);
  const copy = await store.localCopy(result.recording, join(spool, 'check'));
  const durationSec = await mediaDuration(copy);
  assert.ok(durationSec >= WATCH_MS / 1000 - 3, `recording ${durationSec} s`);
  assert.equal(logs.filter((l) => l.startsWith('error')).join('\n'), '');
});

/** The black stretches ffmpeg's blackdetect finds in a recording, in seconds in all. */
async function blackSeconds(file: string): Promise<number> {
  const { stderr } = await run('ffmpeg', [
    '-hide_banner',
    '-i',
    file,
    '-an',
    '-vf',
    'blackdetect=d=0.2:pix_th=0.1',
    '-f',
    'null',
    '-',
  ]);
  return [...stderr.matchAll(/black_duration:([\d.]+)/g)].reduce((t, m) => t + Number(m[1]), 0);
}

test('an sfu host that dies mid-lesson loses only what it had not stored: the next host continues the TV list, and the replay holds both hosts’ parts', async () => {
  const moved = `s3move${Date.now().toString(36)}`;
  const liveSince = Date.now();
  const movedBase = `${apiUrl}/media/live/${moved}`;
  const host = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures/live-host.fixture.ts')],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        LIVE_HOST: JSON.stringify({
          s3: {
            endpoint: s3.endpoint,
            bucket,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
          },
          lessonId: moved,
          spool: join(spool, 'host1'),
          liveSince,
        }),
      },
    },
  );
  const kill = () => {
    try {
      process.kill(-host.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let earlier: string[] = [];
  try {
    // the first host's TV list in the bucket, through the api, until it holds 8 segments
    for (let i = 0; i < 120 && earlier.length < 8; i++) {
      await sleep(500);
      const r = await fetch(`${movedBase}/tv/720p/lesson.m3u8`);
      earlier = r.ok
        ? parseLiveTvList(await r.text()).segments.map((x) => x.uri)
        : (await r.arrayBuffer(), []);
    }
    assert.ok(earlier.length >= 8, `the first host stored ${earlier.length} segments`);
  } finally {
    kill(); // the host dies: its bridge's ffmpeg, worker and teacher with it, nothing finalised
  }
  const diedAt = Date.now();
  await sleep(1000);
  const atDeath = parseLiveTvList(await (await fetch(`${movedBase}/tv/720p/lesson.m3u8`)).text());
  assert.equal(atDeath.ended, false);

  const next = new LiveBridge(moved, router, {
    mediaDir: join(spool, 'host2'),
    ffmpegPath: 'ffmpeg',
    log,
    listenIp: '127.0.0.1',
    segmentSec: 1,
    listSize: LIST_SIZE,
    liveSince,
    store,
  });
  await next.update({ video: teacher.video, audio: teacher.audio });
  await sleep(8000);
  // the lesson ends now: stop() then drains, joins and stores the replay
  const stoppedAt = Date.now();
  const result = await next.stop();

  const whole = parseLiveTvList(await (await fetch(`${movedBase}/tv/720p/lesson.m3u8`)).text());
  assert.ok(whole.ended, 'the lesson’s list is ended');
  const uris = whole.segments.map((x) => x.uri);
  assert.deepEqual(
    uris.slice(0, atDeath.segments.length),
    atDeath.segments.map((x) => x.uri),
    'the earlier host’s segments kept in front',
  );
  const joinAt = atDeath.segments.length;
  assert.equal(whole.segments[joinAt]?.discontinuity, true, 'a discontinuity where the next host begins');
  assert.ok(uris.length - joinAt >= 5, `${uris.length - joinAt} segments from the next host`);
  for (const u of uris)
    assert.equal((await fetch(`${movedBase}/tv/720p/${u}`, { method: 'HEAD' })).status, 200, u);
  const sliding = await (await fetch(`${movedBase}/tv/720p/index.m3u8`)).text();
  assert.match(sliding, /#EXT-X-ENDLIST/);

  // the replay: the lesson's length from go-live, the earlier host's picture in it, black only for the hole
  assert.ok(result.recording);
  const copy = await store.localCopy(result.recording, join(spool, 'moved-check'));
  const durationSec = await mediaDuration(copy);
  const wallSec = (stoppedAt - liveSince) / 1000;
  const earlierEnd = atDeath.segments.at(-1)!;
  const nextStart = whole.segments[joinAt].pdtMs;
  const holeSec = (nextStart - (earlierEnd.pdtMs + earlierEnd.durationSec * 1000)) / 1000;
  // black too before the first host's media flowed (the replay starts at the go-live)
  const beforeSec = (whole.segments[0]!.pdtMs - liveSince) / 1000;
  const black = await blackSeconds(copy);
  console.log(
    `[s3-live] host death: ${atDeath.segments.length} segments stored by the dead host (died ${((diedAt - liveSince) / 1000).toFixed(1)} s in), hole ${holeSec.toFixed(1)} s (and ${beforeSec.toFixed(1)} s before the first), replay ${durationSec.toFixed(1)} s of ${wallSec.toFixed(1)} s wall, ${black.toFixed(1)} s black`,
  );
  assert.ok(
    Math.abs(durationSec - wallSec) < 4,
    `replay ${durationSec.toFixed(1)} s for ${wallSec.toFixed(1)} s live`,
  );
  assert.ok(
    black < beforeSec + holeSec + 2,
    `${black.toFixed(1)} s black for a ${holeSec.toFixed(1)} s hole: the dead host's part is in the replay`,
  );
});
