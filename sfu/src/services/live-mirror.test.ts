import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { MediaStorage, PutOptions } from '@sky/contracts/storage';
import { LiveMirror, playlistUris, type StoredSegment } from './live-mirror.js';

const dir = mkdtempSync(join(tmpdir(), 'sky-mirror-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['init_7.mp4', 'seg_7_00001.m4s', 'seg_7_00002.m4s', 'seg_7_00003.m4s'])
  writeFileSync(join(dir, f), f);

const playlist = (...segs: string[]) =>
  [
    '#EXTM3U',
    '#EXT-X-MEDIA-SEQUENCE:1',
    '#EXT-X-MAP:URI="init_7.mp4"',
    ...segs.flatMap((s) => ['#EXTINF:1.000000,', '#EXT-X-PROGRAM-DATE-TIME:2026-12-05T00:00:00.000+0000', s]),
  ].join('\n') + '\n';

/** A store that keeps the order of its PUTs, and fails the ones `fail` names. */
function recordingStore(fail = new Set<string>()) {
  const puts: { key: string; opts: PutOptions | undefined }[] = [];
  const put = async (key: string, _b: unknown, opts?: PutOptions) => {
    if (fail.has(key)) throw new Error(`refused ${key}`);
    puts.push({ key, opts });
  };
  return { puts, store: { kind: 's3', putFile: put, putBytes: put } as unknown as MediaStorage };
}

test('playlistUris: segments and init segments, once each, in order', () => {
  assert.deepEqual(playlistUris(playlist('seg_7_00001.m4s', 'seg_7_00002.m4s')), [
    'init_7.mp4',
    'seg_7_00001.m4s',
    'seg_7_00002.m4s',
  ]);
  assert.deepEqual(playlistUris('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n'), [
    '720p/index.m3u8',
  ]);
});

test('every file a playlist names is stored before it, each once, with live caching', async () => {
  const { puts, store } = recordingStore();
  const seen: StoredSegment[] = [];
  const m = new LiveMirror(store, (s) => seen.push(s));
  await m.publish('live/l/web/720p', dir, [{ name: 'index.m3u8', text: playlist('seg_7_00001.m4s') }]);
  await m.publish('live/l/web/720p', dir, [
    { name: 'index.m3u8', text: playlist('seg_7_00001.m4s', 'seg_7_00002.m4s') },
  ]);
  assert.deepEqual(
    puts.map((p) => p.key.slice('live/l/web/720p/'.length)),
    ['init_7.mp4', 'seg_7_00001.m4s', 'index.m3u8', 'seg_7_00002.m4s', 'index.m3u8'],
  );
  assert.equal(puts[1]!.opts?.cacheControl, 'public, max-age=31536000, immutable');
  assert.equal(puts[2]!.opts?.cacheControl, 'public, max-age=0, s-maxage=1');
  assert.equal(puts[2]!.opts?.contentType, 'application/vnd.apple.mpegurl');
  assert.equal(puts[0]!.opts?.cacheControl, 'public, max-age=0, s-maxage=1');
  // init segments are not segments' lag
  assert.deepEqual(
    seen.map((s) => s.key),
    ['live/l/web/720p/seg_7_00001.m4s', 'live/l/web/720p/seg_7_00002.m4s'],
  );
});

test('a segment that fails to store keeps its playlist out of the bucket; the next publish stores both', async () => {
  const fail = new Set(['live/l/tv/360p/seg_7_00003.m4s']);
  const { puts, store } = recordingStore(fail);
  const m = new LiveMirror(store);
  await assert.rejects(
    m.publish('live/l/tv/360p', dir, [{ name: 'index.m3u8', text: playlist('seg_7_00003.m4s') }]),
    /refused/,
  );
  assert.ok(!puts.some((p) => p.key.endsWith('index.m3u8')), 'no playlist naming a missing segment');
  fail.clear();
  await m.publish('live/l/tv/360p', dir, [{ name: 'index.m3u8', text: playlist('seg_7_00003.m4s') }]);
  assert.deepEqual(
    puts.map((p) => p.key.split('/').pop()),
    ['init_7.mp4', 'seg_7_00003.m4s', 'index.m3u8'],
  );
});

test('a master that fails is stored again before the next playlist', async () => {
  const fail = new Set(['live/l/web/master.m3u8']);
  const { puts, store } = recordingStore(fail);
  const m = new LiveMirror(store);
  await assert.rejects(m.putMaster('live/l/web/master.m3u8', '#EXTM3U\n'), /refused/);
  fail.clear();
  await m.publish('live/l/web/720p', dir, [{ name: 'index.m3u8', text: playlist('seg_7_00001.m4s') }]);
  assert.equal(puts[0]!.key, 'live/l/web/master.m3u8');
});
