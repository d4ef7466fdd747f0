// The media store over HTTP: MIME types, byte ranges, cache headers, and nothing outside it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
before(async () => {
  api = await startTestApi();
  mkdirSync(join(api.mediaDir, 'lessons', 'l1', 'v1', 'web', '720p'), { recursive: true });
  writeFileSync(join(api.mediaDir, 'lessons/l1/v1/web/master.m3u8'), '#EXTM3U\n');
  writeFileSync(join(api.mediaDir, 'lessons/l1/v1/web/720p/seg_00000.m4s'), Buffer.alloc(10_000, 7));
  writeFileSync(join(api.mediaDir, 'lessons/l1/v1/tv.ts'), Buffer.alloc(1000, 1));
  writeFileSync(join(api.mediaDir, '.secret'), 'no');
  mkdirSync(join(api.mediaDir, 'live', 'l2', 'web', '720p'), { recursive: true });
  for (const f of ['index.m3u8', 'init_3.mp4', 'seg_3_00041.m4s', '.ffmpeg.m3u8'])
    writeFileSync(join(api.mediaDir, 'live/l2/web/720p', f), f);
});
after(() => api.close());

test('playlists: HLS MIME type and a short cache', async () => {
  const res = await api.app.http.inject({ url: '/media/lessons/l1/v1/web/master.m3u8' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/vnd.apple.mpegurl');
  assert.equal(res.headers['cache-control'], 'public, max-age=2');
});

test('segments: immutable, and byte ranges answer 206 with the exact bytes', async () => {
  const full = await api.app.http.inject({ url: '/media/lessons/l1/v1/web/720p/seg_00000.m4s' });
  assert.equal(full.headers['content-type'], 'video/iso.segment');
  assert.equal(full.headers['cache-control'], 'public, max-age=31536000, immutable');
  const part = await api.app.http.inject({
    url: '/media/lessons/l1/v1/web/720p/seg_00000.m4s',
    headers: { range: 'bytes=100-199' },
  });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], 'bytes 100-199/10000');
  assert.equal(part.rawPayload.length, 100);
  assert.equal(
    (await api.app.http.inject({ url: '/media/lessons/l1/v1/tv.ts' })).headers['content-type'],
    'video/mp2t',
  );
});

test('a live lesson: playlists and per-run init segments are revalidated, its segments kept', async () => {
  const header = async (f: string) =>
    (await api.app.http.inject({ url: `/media/live/l2/web/720p/${f}` })).headers['cache-control'];
  assert.equal(await header('index.m3u8'), 'public, max-age=0, s-maxage=1');
  assert.equal(await header('init_3.mp4'), 'public, max-age=0, s-maxage=1');
  assert.equal(await header('seg_3_00041.m4s'), 'public, max-age=31536000, immutable');
  // ffmpeg's own playlist (every run with the newest init segment) is never served
  const own = await api.app.http.inject({ url: '/media/live/l2/web/720p/.ffmpeg.m3u8' });
  assert.ok(own.statusCode >= 400 && own.body !== '.ffmpeg.m3u8', `refused: ${own.statusCode}`);
});

test('nothing outside the media store, and no dotfiles', async () => {
  for (const url of [
    '/media/../package.json',
    '/media/%2e%2e/%2e%2e/etc/passwd',
    '/media/..%2f..%2fetc%2fpasswd',
    '/media/.secret',
  ]) {
    const res = await api.app.http.inject({ url });
    assert.ok([400, 403, 404].includes(res.statusCode), `${url} → ${res.statusCode}`);
    assert.ok(!res.body.includes('root:') && res.body !== 'no');
  }
});
