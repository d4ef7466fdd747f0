// Caching edges (issue 16): two real nginx edges (deploy/nginx-edge.conf) in front of the real origin
// (deploy/nginx.conf's media block) over a live HLS that a real ffmpeg writes as the sfu does, and a VOD
// lesson. 300 viewers reload the live playlist as hls.js does; the origin's access log says what got through.
// npm-test: alone (it times how stale the viewers' playlists are against the encoder on this same machine)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startProcess, type Managed } from '@sky/devkit';
import { block, deployConf, edgeConf, maps, startNginx, startNginxHttp, type Nginx } from './nginx-conf.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const LESSON = '65f0000000000000000000e1';
const LIVE = `/media/live/${LESSON}/web/720p`;
const LIVE_LIST = `${LIVE}/index.m3u8`;
const VOD = `/media/lessons/${LESSON}/replay-edge/web/360p`;
const VIEWERS = 300;
const WATCH_MS = 30_000;
const STAGGER_MS = 5_000;

let dir: string;
let media: string;
let origin: Nginx | undefined;
let originPort: number;
const edges: Nginx[] = [];
/** The address each edge connects to the origin from: the origin's log tells the edges apart by it. */
const EDGE_ADDR = ['127.0.0.2', '127.0.0.3'];
let encoder: Managed | undefined;
/** When each live segment (by media sequence number) first appeared in the origin's playlist. */
const appearedAt = new Map<number, number>();
const bytesOf = new Map<string, Buffer>();
let tracking = true;
let tracker: Promise<void> | undefined;

interface Playlist {
  sequence: number;
  target: number;
  uris: string[];
}

function parsePlaylist(text: string): Playlist {
  const lines = text.split('\n').map((l) => l.trim());
  const tag = (name: string) => Number(lines.find((l) => l.startsWith(name))?.slice(name.length) ?? NaN);
  return {
    sequence: tag('#EXT-X-MEDIA-SEQUENCE:'),
    target: tag('#EXT-X-TARGETDURATION:'),
    uris: lines.filter((l) => l !== '' && !l.startsWith('#')),
  };
}

/** The file as the origin has it (segments are never rewritten: read once). */
function fileBytes(path: string): Buffer {
  let bytes = bytesOf.get(path);
  if (!bytes) {
    bytes = readFileSync(join(media, path.slice('/media/'.length)));
    bytesOf.set(path, bytes);
  }
  return bytes;
}

/** Notes when each segment appears in the encoder's playlist on disk (every 20 ms). */
async function trackLive(): Promise<void> {
  const file = join(media, LIVE_LIST.slice('/media/'.length));
  while (tracking) {
    try {
      const pl = parsePlaylist(readFileSync(file, 'utf8'));
      pl.uris.forEach((uri, i) => {
        const seq = pl.sequence + i;
        if (!appearedAt.has(seq)) {
          appearedAt.set(seq, Date.now());
          fileBytes(`${LIVE}/${uri}`);
        }
      });
    } catch {
      // not written yet
    }
    await sleep(20);
  }
}

interface OriginHit {
  from: string;
  method: string;
  uri: string;
  status: number;
}

function originLog(): OriginHit[] {
  return readFileSync(join(dir, 'origin', 'access.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [from = '', method = '', uri = '', status = '0'] = l.split(' ');
      return { from, method, uri, status: Number(status) };
    });
}
const originCount = (uri: string, from?: string) =>
  originLog().filter((h) => h.uri === uri && (from === undefined || h.from === from)).length;
/**
 * The origin's fetches of `uri` from each address in `froms`. nginx logs an answer once it has sent it, so
 * a moment after an edge relayed it: the log is read until it holds `want`, for 2 s at most (then as is).
 */
async function originCounts(uri: string, froms: (string | undefined)[], want: number[]): Promise<number[]> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const counts = froms.map((from) => originCount(uri, from));
    if (counts.every((n, i) => n === want[i]) || Date.now() > deadline) return counts;
    await sleep(20);
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sky-edge-'));
  media = join(dir, 'media');
  const liveDir = join(media, LIVE.slice('/media/'.length));
  const vodDir = join(media, VOD.slice('/media/'.length));
  for (const d of [liveDir, vodDir, join(dir, 'origin'), join(dir, 'edge0'), join(dir, 'edge1')])
    mkdirSync(d, { recursive: true });

  // a packaged VOD lesson: 1 s fMP4 segments
  // prettier-ignore
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=6',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25',
    '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '64k',
    '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4',
    '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', join(vodDir, 'seg_%05d.m4s'),
    join(vodDir, 'index.m3u8'),
  ], { timeout: 60_000 });

  // the live lesson as the sfu's bridge writes it (live-bridge-args): 1 s fMP4 segments of run 0, a keyframe
  // every segment, a sliding list of 8 whose old segments are deleted; the playlist is renamed into place
  // prettier-ignore
  encoder = startProcess('ffmpeg-live', 'ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '120',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-b:v', '300k',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '8', '-hls_delete_threshold', '2',
    '-hls_flags', 'delete_segments+program_date_time+independent_segments+temp_file',
    '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init_0.mp4',
    '-hls_segment_filename', join(liveDir, 'seg_0_%05d.m4s'),
    join(liveDir, 'index.m3u8'),
  ], { logFile: join(dir, 'ffmpeg-live.log') });

  // the origin: deploy/nginx.conf's maps and /media/ location over this media store, logging each request
  const conf = deployConf();
  const location = block(conf, conf.indexOf('location /media/')).replaceAll('/media/;', `${media}/;`);
  origin = await startNginx(
    join(dir, 'origin'),
    `root ${join(dir, 'html')}; access_log ${join(dir, 'origin', 'access.log')} sky_origin; ${location}`,
    [...maps(conf), `log_format sky_origin '$remote_addr $request_method $uri $status';`],
  );
  originPort = Number(new URL(origin.base).port);
  for (const [i, from] of EDGE_ADDR.entries()) {
    const edgeDir = join(dir, `edge${i}`);
    edges.push(
      await startNginxHttp(
        edgeDir,
        (listen) =>
          `proxy_bind ${from};\n${edgeConf({ origin: `127.0.0.1:${originPort}`, cacheDir: edgeDir, listen })}`,
      ),
    );
  }
  tracker = trackLive();
  // the live playlist has the 3 segments hls.js starts behind the live edge (bounded: 30 s)
  for (let i = 0; i < 300 && appearedAt.size < 4; i++) await sleep(100);
  assert.ok(
    appearedAt.size >= 4,
    `the live encoder wrote its first segments: ${readFileSync(join(dir, 'ffmpeg-live.log'), 'utf8')}`,
  );
});

after(async () => {
  tracking = false;
  await tracker;
  for (const edge of edges) edge.stop();
  origin?.stop();
  await encoder?.stop(2_000);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface ViewerReport {
  edge: number;
  requests: number;
  segments: number[];
  /** What went wrong, as the viewer saw it. */
  problems: string[];
  /** For each playlist reload: how long a newer segment had been on the origin when the viewer asked (0: it
   * was the newest), and when the answer came (this machine's delivery too). */
  lagsMs: number[];
  lagsSeenMs: number[];
  /** For each playlist reload: how many segments the origin had that it lacked, when the viewer asked. */
  segmentsBehind: number[];
  cache: Record<string, number>;
  /** The longest any one request took. */
  slowestMs: number;
}

/** One hls.js-like viewer: the init segment once, then the playlist every target duration (half when it had
 * nothing new), each new segment once, starting 3 segments behind the live edge. */
async function watchLive(edge: number, startIn: number, until: number): Promise<ViewerReport> {
  const base = edges[edge]!.base;
  const report: ViewerReport = {
    edge,
    requests: 0,
    segments: [],
    problems: [],
    lagsMs: [],
    lagsSeenMs: [],
    segmentsBehind: [],
    cache: {},
    slowestMs: 0,
  };
  const get = async (path: string) => {
    report.requests++;
    const t0 = Date.now();
    const res = await fetch(`${base}${path}`);
    const status = res.headers.get('x-cache-status') ?? 'none';
    report.cache[status] = (report.cache[status] ?? 0) + 1;
    const bytes = Buffer.from(await res.arrayBuffer());
    report.slowestMs = Math.max(report.slowestMs, Date.now() - t0);
    return { res, bytes };
  };
  await sleep(startIn);
  const init = await get(`${LIVE}/init_0.mp4`);
  if (init.res.status !== 200 || !init.bytes.equals(fileBytes(`${LIVE}/init_0.mp4`)))
    report.problems.push(`init_0.mp4: ${init.res.status}, ${init.bytes.length} bytes`);
  let next: number | undefined;
  let lastEnd = -1;
  while (Date.now() < until) {
    const asked = Date.now();
    const { res, bytes } = await get(LIVE_LIST);
    const seen = Date.now();
    if (res.status !== 200) {
      report.problems.push(`playlist: ${res.status}`);
      await sleep(500);
      continue;
    }
    const pl = parsePlaylist(bytes.toString());
    const end = pl.sequence + pl.uris.length - 1;
    const newer = appearedAt.get(end + 1);
    report.lagsMs.push(newer !== undefined && newer < asked ? asked - newer : 0);
    report.lagsSeenMs.push(newer !== undefined && newer < seen ? seen - newer : 0);
    report.segmentsBehind.push([...appearedAt].filter(([seq, at]) => seq > end && at <= asked).length);
    if (end < lastEnd) report.problems.push(`playlist went back from ${lastEnd} to ${end}`);
    next ??= Math.max(pl.sequence, end - 2);
    for (; next <= end; next++) {
      const uri = pl.uris[next - pl.sequence];
      if (uri === undefined) {
        report.problems.push(
          `segment ${next} left the playlist before it was fetched (slowest request so far ${report.slowestMs} ms)`,
        );
        continue;
      }
      const seg = await get(`${LIVE}/${uri}`);
      if (seg.res.status !== 200 || !seg.bytes.equals(fileBytes(`${LIVE}/${uri}`)))
        report.problems.push(`${uri}: ${seg.res.status}, ${seg.bytes.length} bytes`);
      else report.segments.push(next);
    }
    const reload = (end !== lastEnd ? pl.target : pl.target / 2) * 1000;
    lastEnd = end;
    await sleep(Math.max(0, asked + reload - Date.now()));
  }
  return report;
}

test('two edges carry a live lesson to 300 viewers: ~1 origin fetch per playlist per second per edge, each segment once per edge, playlists ~2 s stale at most', async () => {
  const logStart = originLog().length;
  const started = Date.now();
  const until = started + WATCH_MS;
  const reports = await Promise.all(
    Array.from({ length: VIEWERS }, (_, i) => watchLive(i % 2, (i / VIEWERS) * STAGGER_MS, until)),
  );
  const seconds = (Date.now() - started) / 1000;
  const hits = originLog().slice(logStart);

  // every viewer got every segment from where it joined, in order, each with 200 and the encoder's bytes
  for (const [i, r] of reports.entries()) {
    assert.deepEqual(r.problems, [], `viewer ${i}`);
    assert.ok(
      r.segments.length >= (WATCH_MS - STAGGER_MS) / 1000 - 2,
      `viewer ${i} got ${r.segments.length} segments`,
    );
    r.segments.forEach(
      (s, k) => k > 0 && assert.equal(s, r.segments[k - 1]! + 1, `viewer ${i}: segments in order`),
    );
  }
  const spread = (key: 'lagsMs' | 'lagsSeenMs') => {
    const all = reports.flatMap((r) => r[key]).sort((x, y) => x - y);
    const mean = all.reduce((n, x) => n + x, 0) / all.length;
    return { n: all.length, mean, p99: all[Math.floor(all.length * 0.99)]!, max: all.at(-1)! };
  };
  const lag = spread('lagsMs');
  const lagSeen = spread('lagsSeenMs');

  const perEdge = EDGE_ADDR.map(
    (from) => hits.filter((h) => h.from === from && h.uri === LIVE_LIST).length / seconds,
  );
  const segmentFetches = new Map<string, number[]>();
  for (const h of hits.filter((h) => h.uri.endsWith('.m4s'))) {
    const counts = segmentFetches.get(h.uri) ?? [0, 0];
    counts[EDGE_ADDR.indexOf(h.from)]! += 1;
    segmentFetches.set(h.uri, counts);
  }
  const maxSegment = Math.max(...[...segmentFetches.values()].map(([a = 0, b = 0]) => a + b));
  const maxSegmentPerEdge = Math.max(...[...segmentFetches.values()].flat());
  const edgeRequests = reports.reduce((n, r) => n + r.requests, 0);
  const cache: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.cache)) cache[k] = (cache[k] ?? 0) + v;
  const hitRatio = 1 - hits.length / edgeRequests;
  const slowest = reports.map((r) => r.slowestMs).sort((x, y) => x - y);
  const behind: Record<number, number> = {};
  for (const n of reports.flatMap((r) => r.segmentsBehind)) behind[n] = (behind[n] ?? 0) + 1;
  console.log(
    `[edge-cache] ${VIEWERS} viewers, ${seconds.toFixed(1)} s, 2 edges: ${edgeRequests} requests at the edges ` +
      `(${(edgeRequests / seconds).toFixed(0)}/s), ${hits.length} at the origin (${(hits.length / seconds).toFixed(1)}/s); ` +
      `hit ratio ${(hitRatio * 100).toFixed(2)}%; X-Cache-Status ${JSON.stringify(cache)}; ` +
      `origin live playlist fetches/s per edge ${perEdge.map((r) => r.toFixed(2)).join(', ')} ` +
      `(both: ${perEdge.reduce((n, r) => n + r, 0).toFixed(2)}); ` +
      `origin fetches per segment max ${maxSegment} (per edge max ${maxSegmentPerEdge}) over ${segmentFetches.size} segments; ` +
      `playlist behind the encoder when asked: mean ${lag.mean.toFixed(0)} ms, p99 ${lag.p99} ms, max ${lag.max} ms ` +
      `over ${lag.n} reloads (when answered: mean ${lagSeen.mean.toFixed(0)}, p99 ${lagSeen.p99}, max ${lagSeen.max} ms); ` +
      `media sequence behind the origin's when asked (segments: reloads) ${JSON.stringify(behind)}; ` +
      `slowest request of a viewer: median ${slowest[VIEWERS / 2]} ms, max ${slowest.at(-1)} ms`,
  );
  for (const rate of perEdge)
    assert.ok(rate <= 1.2, `origin playlist fetches per edge: ${rate.toFixed(2)}/s`);
  assert.ok(maxSegment <= 2, `a segment reached the origin ${maxSegment} times`);
  assert.equal(maxSegmentPerEdge, 1, 'each edge fetched each segment once');
  // an edge keeps a live playlist to the end of the next whole second (deploy/nginx-edge.conf), and answers
  // that copy until its refresh is back: 2 s and a round trip to the origin (tens of ms on a loaded machine)
  assert.ok(lag.max <= 2_250, `a viewer was handed a playlist ${lag.max} ms behind the encoder's`);
});

const SANDBOX = /default-src 'none'.*sandbox|sandbox.*default-src 'none'/;

/** What a browser needs on every media answer of an edge: the origin's CORS, nosniff and sandboxing CSP. */
function assertBrowserHeaders(res: Response, url: string, type: string, cache: string) {
  assert.equal(res.headers.get('content-type')?.split(';')[0], type, `${url}: type`);
  assert.equal(res.headers.get('cache-control'), cache, `${url}: cache-control`);
  assert.equal(res.headers.get('access-control-allow-origin'), '*', `${url}: CORS`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${url}: nosniff`);
  assert.match(res.headers.get('content-security-policy') ?? '', SANDBOX, `${url}: sandbox CSP`);
  assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin', `${url}: CORP`);
  // the edge's own directives stay between the edge and the origin
  assert.equal(res.headers.get('x-accel-expires'), null, `${url}: X-Accel-Expires`);
}

test('an edge answers media with the headers a browser needs, and says whether it came from its cache', async () => {
  const edge = edges[0]!.base;
  const live = await fetch(`${edge}${LIVE_LIST}`);
  assert.equal(live.status, 200);
  // browsers must ask again on every reload; only shared caches keep a live playlist, for 1 s
  assertBrowserHeaders(live, LIVE_LIST, 'application/vnd.apple.mpegurl', 'public, max-age=0, s-maxage=1');
  assert.match(live.headers.get('x-cache-status') ?? '', /^(HIT|MISS|STALE|UPDATING|EXPIRED)$/);
  const liveInit = await fetch(`${edge}${LIVE}/init_0.mp4`);
  assertBrowserHeaders(liveInit, 'live init_0.mp4', 'video/mp4', 'public, max-age=0, s-maxage=1');
  const list = parsePlaylist(await live.text());
  const segment = await fetch(`${edge}${LIVE}/${list.uris.at(-1)!}`);
  assertBrowserHeaders(segment, 'live segment', 'video/iso.segment', 'public, max-age=31536000, immutable');
  const vodList = await fetch(`${edge}${VOD}/index.m3u8`);
  assertBrowserHeaders(vodList, 'VOD playlist', 'application/vnd.apple.mpegurl', 'public, max-age=2');
  const vodInit = await fetch(`${edge}${VOD}/init.mp4`);
  assertBrowserHeaders(vodInit, 'VOD init.mp4', 'video/mp4', 'public, max-age=31536000, immutable');
  // a HEAD is answered from the same copy, without a body
  const head = await fetch(`${edge}${VOD}/init.mp4`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('x-cache-status'), 'HIT');
  assert.equal(Number(head.headers.get('content-length')), fileBytes(`${VOD}/init.mp4`).length);
});

test('a VOD segment reaches the origin once per edge: the second viewer at each edge gets a HIT', async () => {
  const uri = `${VOD}/seg_00001.m4s`;
  for (const [i, edge] of edges.entries()) {
    const first = await fetch(`${edge.base}${uri}`);
    assert.equal(first.headers.get('x-cache-status'), 'MISS', `edge ${i}: first`);
    assert.ok(Buffer.from(await first.arrayBuffer()).equals(fileBytes(uri)));
    const second = await fetch(`${edge.base}${uri}`);
    assert.equal(second.headers.get('x-cache-status'), 'HIT', `edge ${i}: second`);
    assert.ok(Buffer.from(await second.arrayBuffer()).equals(fileBytes(uri)));
    // a query string (a cache-buster) is the same copy
    const busted = await fetch(`${edge.base}${uri}?t=${Date.now()}`);
    assert.equal(busted.headers.get('x-cache-status'), 'HIT', `edge ${i}: with a query string`);
    await busted.arrayBuffer();
  }
  assert.deepEqual(await originCounts(uri, EDGE_ADDR, [1, 1]), [1, 1]);
});

test('a cold segment that 200 viewers ask an edge for at once reaches the origin once (cache lock)', async () => {
  const uri = `${VOD}/seg_00003.m4s`;
  const answers = await Promise.all(
    edges.flatMap((edge) =>
      Array.from({ length: 200 }, async () => {
        const t0 = Date.now();
        const res = await fetch(`${edge.base}${uri}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        return { status: res.status, cache: res.headers.get('x-cache-status'), bytes, ms: Date.now() - t0 };
      }),
    ),
  );
  const statuses: Record<string, number> = {};
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.ok(a.bytes.equals(fileBytes(uri)), 'the segment as the origin has it');
    statuses[a.cache ?? 'none'] = (statuses[a.cache ?? 'none'] ?? 0) + 1;
  }
  const perEdge = await originCounts(uri, EDGE_ADDR, [1, 1]);
  // the viewers that wait for the lock look again every 500 ms (nginx's lock wait)
  const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
  console.log(
    `[edge-cache] cold segment, 200 viewers at once on each of 2 edges: origin fetches per edge ${perEdge.join(', ')}; ` +
      `X-Cache-Status ${JSON.stringify(statuses)}; answered in median ${ms[ms.length / 2]} ms, max ${ms.at(-1)} ms`,
  );
  assert.deepEqual(perEdge, [1, 1]);
});

test('a missing file is answered from the cache for a second, then asked again', async () => {
  const uri = `/media/live/${LESSON}/web/360p/index.m3u8`;
  const first = await fetch(`${edges[0]!.base}${uri}`);
  assert.equal(first.status, 404);
  const again = await fetch(`${edges[0]!.base}${uri}`);
  assert.equal(again.status, 404);
  assert.equal(again.headers.get('x-cache-status'), 'HIT');
  assert.deepEqual(await originCounts(uri, [undefined], [1]), [1]);
  await sleep(2_100);
  const later = await fetch(`${edges[0]!.base}${uri}`);
  assert.equal(later.status, 404);
  // answered stale while it was asked again (proxy_cache_background_update), or asked again at once
  for (let i = 0; i < 50 && originCount(uri) < 2; i++) await sleep(20);
  assert.equal(originCount(uri), 2, 'a 404 is kept briefly, not for long');
});

test('an edge carries media only: the api, socket.io and the TV gateway never go through it, nor writes', async () => {
  const before = originLog().length;
  for (const path of [
    '/api/lessons',
    '/socket.io/?EIO=4&transport=polling',
    '/tv/api/epg',
    '/healthz',
    '/',
  ]) {
    const res = await fetch(`${edges[0]!.base}${path}`);
    assert.equal(res.status, 404, path);
    await res.arrayBuffer();
  }
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await fetch(`${edges[0]!.base}${VOD}/index.m3u8`, {
      method,
      body: method === 'DELETE' ? null : 'x',
    });
    assert.equal(res.status, 403, method);
    await res.arrayBuffer();
  }
  assert.deepEqual(originLog().slice(before), []);
});

test('with the origin down, an edge keeps answering the copies it has (stale), and 502 for the rest', async () => {
  const edge = edges[1]!.base;
  const vodList = `${VOD}/index.m3u8`;
  const warm = await fetch(`${edge}${vodList}`);
  assert.equal(warm.status, 200);
  await warm.arrayBuffer();
  origin!.stop();
  // past the VOD playlist's max-age=2 (whole seconds: up to 3 s)
  await sleep(3_100);
  const list = await fetch(`${edge}${vodList}`);
  assert.equal(list.status, 200, 'the VOD playlist');
  assert.equal(list.headers.get('x-cache-status'), 'STALE');
  assert.equal(await list.text(), fileBytes(vodList).toString());
  const segment = await fetch(`${edge}${VOD}/seg_00001.m4s`);
  assert.equal(segment.status, 200, 'a VOD segment');
  assert.ok(Buffer.from(await segment.arrayBuffer()).equals(fileBytes(`${VOD}/seg_00001.m4s`)));
  const live = await fetch(`${edge}${LIVE_LIST}`);
  assert.equal(live.status, 200, 'the last live playlist');
  assert.equal(live.headers.get('x-cache-status'), 'STALE');
  await live.arrayBuffer();
  const cold = await fetch(`${edge}${VOD}/seg_00005.m4s`);
  assert.equal(cold.status, 502, 'a segment the edge never had');
  await cold.arrayBuffer();
});
