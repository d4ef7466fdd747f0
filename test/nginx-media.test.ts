// Production serves /media from nginx (deploy/nginx.conf), not from the api: its media block, run by a real
// nginx over a media store, must apply the same allow-list and headers as the api (issue 15).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { block, deployConf, maps, startNginx, type Nginx } from './nginx-conf.js';

let dir: string;
let base: string;
let nginx: Nginx | undefined;

before(async () => {
  // setup installs nginx (nginx-light): a machine without it fails here, it does not skip
  assert.equal(spawnSync('nginx', ['-v']).status, 0, 'nginx is installed (npm run setup)');
  dir = mkdtempSync(join(tmpdir(), 'sky-nginx-'));
  const media = join(dir, 'media');
  // the top-level maps and the /media/ location, with the volume where this test put it
  const conf = deployConf();
  const at = conf.indexOf('location /media/');
  assert.ok(at > 0, 'deploy/nginx.conf has a /media/ location');
  const location = block(conf, at).replaceAll('/media/;', `${media}/;`);
  const files: Record<string, string> = {
    'lessons/65f000000000000000000002/replay-abc/web/master.m3u8': '#EXTM3U',
    'lessons/65f000000000000000000002/replay-abc/web/720p/init.mp4': 'i',
    'lessons/65f000000000000000000002/replay-abc/web/720p/seg_00000.m4s': 's',
    'lessons/65f000000000000000000002/replay-abc/tv/360p/seg_00000.ts': 't',
    'lessons/65f000000000000000000002/replay-abc/poster.jpg': 'j',
    'lessons/65f000000000000000000002/replay-abc/storyboard.vtt': 'WEBVTT',
    'lessons/65f000000000000000000002/replay-abc/x.html': '<script>alert(1)</script>',
    'lessons/65f000000000000000000002/replay-abc/x.svg': '<svg><script>alert(1)</script></svg>',
    'lessons/65f000000000000000000002/replay-abc/x': '<script>alert(1)</script>',
    'live/65f000000000000000000003/web/720p/index.m3u8': '#EXTM3U',
    'live/65f000000000000000000003/web/720p/init_0.mp4': 'i',
    'live/65f000000000000000000003/web/720p/.ffmpeg.m3u8': 'own',
    'live/65f000000000000000000003/recording/recording.mp4': 'raw',
    'uploads/65f000000000000000000003/abc.mp4': 'raw',
    'uploads/65f000000000000000000003/abc.html': '<script>alert(1)</script>',
    'samples/demo.mp4': 'raw',
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(media, rel, '..'), { recursive: true });
    writeFileSync(join(media, rel), body);
  }
  nginx = await startNginx(dir, `root ${join(dir, 'html')}; ${location}`, maps(conf));
  base = nginx.base;
});
after(() => {
  nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = (path: string) => fetch(`${base}${path}`, { redirect: 'manual' });
const SANDBOX = /default-src 'none'.*sandbox|sandbox.*default-src 'none'/;

test('nginx serves the media types we write with their type, cache, nosniff and a sandboxing CSP', async () => {
  const vod = '/media/lessons/65f000000000000000000002/replay-abc';
  const live = '/media/live/65f000000000000000000003/web/720p';
  const cases: [string, string, string][] = [
    [`${vod}/web/master.m3u8`, 'application/vnd.apple.mpegurl', 'public, max-age=2'],
    [`${vod}/web/720p/init.mp4`, 'video/mp4', 'public, max-age=31536000, immutable'],
    [`${vod}/web/720p/seg_00000.m4s`, 'video/iso.segment', 'public, max-age=31536000, immutable'],
    [`${vod}/tv/360p/seg_00000.ts`, 'video/mp2t', 'public, max-age=31536000, immutable'],
    [`${vod}/poster.jpg`, 'image/jpeg', 'public, max-age=31536000, immutable'],
    [`${vod}/storyboard.vtt`, 'text/vtt', 'public, max-age=31536000, immutable'],
    [`${live}/index.m3u8`, 'application/vnd.apple.mpegurl', 'public, max-age=0, s-maxage=1'],
    [`${live}/init_0.mp4`, 'video/mp4', 'public, max-age=0, s-maxage=1'],
  ];
  for (const [url, type, cache] of cases) {
    const res = await get(url);
    assert.equal(res.status, 200, url);
    assert.equal(res.headers.get('content-type')?.split(';')[0], type, url);
    assert.equal(res.headers.get('cache-control'), cache, url);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${url}: nosniff`);
    assert.match(res.headers.get('content-security-policy') ?? '', SANDBOX, `${url}: sandbox CSP`);
  }
});

test('nginx never serves pages, raw uploads, recordings, samples or dot files from /media', async () => {
  for (const url of [
    '/media/lessons/65f000000000000000000002/replay-abc/x.html',
    '/media/lessons/65f000000000000000000002/replay-abc/x.svg',
    '/media/lessons/65f000000000000000000002/replay-abc/x',
    '/media/uploads/65f000000000000000000003/abc.mp4',
    '/media/uploads/65f000000000000000000003/abc.html',
    '/media/uploads%2F65f000000000000000000003%2Fabc.html',
    '/media/lessons/65f000000000000000000002/../../uploads/65f000000000000000000003/abc.mp4',
    '/media/lessons/65f000000000000000000002/%2e%2e/%2e%2e/uploads/65f000000000000000000003/abc.mp4',
    '/media/live/65f000000000000000000003/recording/recording.mp4',
    '/media/live/65f000000000000000000003/web/720p/.ffmpeg.m3u8',
    '/media/samples/demo.mp4',
  ]) {
    const res = await get(url);
    const body = await res.text();
    assert.ok(
      [400, 403, 404].includes(res.status),
      `${url} → ${res.status} ${res.headers.get('content-type')}`,
    );
    assert.ok(!body.includes('<script>') && body !== 'raw' && body !== 'own', `${url} answered the file`);
    if (res.status === 404) assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
  }
});
