// Production serves /media from nginx (deploy/nginx.conf), not from the api: its media block, run by a real
// nginx over a media store, must apply the same allow-list and headers as the api (issue 15).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
let base: string;
let nginx: ChildProcess | undefined;

/** A `name … { … }` block of the conf, braces matched. */
function block(conf: string, start: number): string {
  let depth = 0;
  for (let i = conf.indexOf('{', start); i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    if (conf[i] === '}' && --depth === 0) return conf.slice(start, i + 1);
  }
  throw new Error('unbalanced braces in deploy/nginx.conf');
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

before(async () => {
  // setup installs nginx (nginx-light): a machine without it fails here, it does not skip
  assert.equal(spawnSync('nginx', ['-v']).status, 0, 'nginx is installed (npm run setup)');
  dir = mkdtempSync(join(tmpdir(), 'sky-nginx-'));
  const media = join(dir, 'media');
  // a template: the nginx image fills in SFU_PUBLIC_URL (compose), as this does
  const conf = readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8').replaceAll(
    '${SFU_PUBLIC_URL}',
    'http://127.0.0.1:8081',
  );
  // top-level maps (http context) and the /media/ location, with the volume where this test put it
  const maps = [...conf.matchAll(/^map\s/gm)].map((m) => block(conf, m.index));
  const at = conf.indexOf('location /media/');
  assert.ok(at > 0, 'deploy/nginx.conf has a /media/ location');
  const location = block(conf, at).replaceAll('/media/;', `${media}/;`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const tmp = (n: string) => `${n} ${join(dir, n)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; master_process off; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};
events {}
http {
  include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;
  ${['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'].map(tmp).join(' ')}
  ${maps.join('\n')}
  server { listen 127.0.0.1:${port}; root ${join(dir, 'html')}; ${location} }
}`,
  );
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
  nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/`).then(
        () => true,
        () => false,
      )
    )
      return;
    if (nginx.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not start: ${stderr}`);
});
after(() => {
  nginx?.kill();
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
    [`${live}/index.m3u8`, 'application/vnd.apple.mpegurl', 'no-cache'],
    [`${live}/init_0.mp4`, 'video/mp4', 'no-cache'],
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
