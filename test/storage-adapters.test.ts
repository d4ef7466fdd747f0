// One behaviour, two stores: the local folder and S3 (a real Swift with s3api) answer the media port alike.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import type { MediaStorage } from '@sky/contracts/storage';
import { createLocalStorage } from '@sky/contracts/storage-local';
import { startS3, type S3Stack } from './s3-stack.ts';

let s3: S3Stack;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sky-storage-'));
  s3 = await startS3();
  console.log(`swift + s3api up in ${s3.startSec.toFixed(2)} s`);
});
after(async () => {
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A small finished rendition on disk: two rungs, their playlists and segments, a master. */
function rendition(dir: string): void {
  for (const rung of ['720p', '360p']) {
    mkdirSync(join(dir, 'web', rung), { recursive: true });
    writeFileSync(join(dir, 'web', rung, 'index.m3u8'), `#EXTM3U\n#EXTINF:2,\nseg_0.m4s\n#EXT-X-ENDLIST\n`);
    writeFileSync(join(dir, 'web', rung, 'seg_0.m4s'), randomBytes(4096));
  }
  writeFileSync(join(dir, 'web', 'master.m3u8'), '#EXTM3U\n720p/index.m3u8\n360p/index.m3u8\n');
  writeFileSync(join(dir, 'poster.jpg'), randomBytes(512));
}

for (const kind of ['local', 's3'] as const) {
  describe(`${kind} store`, () => {
    let store: MediaStorage;
    before(async () => {
      if (kind === 'local') store = createLocalStorage(mkdtempSync(join(work, 'media-')));
      else {
        store = s3.store(await s3.createBucket(`sky-${randomBytes(4).toString('hex')}`));
      }
    });

    test('a put object reads back whole and by range, with the type and caching a player needs', async () => {
      await store.putBytes('lessons/a/v1/web/720p/index.m3u8', '#EXTM3U\n#EXT-X-ENDLIST\n');
      const head = await store.head('lessons/a/v1/web/720p/index.m3u8');
      assert.equal(head?.size, 23);
      assert.equal(head?.contentType, 'application/vnd.apple.mpegurl');
      assert.equal(head?.cacheControl, 'no-cache');
      const whole = await store.get('lessons/a/v1/web/720p/index.m3u8');
      assert.equal(await text(whole!.body), '#EXTM3U\n#EXT-X-ENDLIST\n');
      const part = await store.get('lessons/a/v1/web/720p/index.m3u8', { start: 1, end: 6 });
      assert.equal(await text(part!.body), 'EXTM3U');
      assert.deepEqual(part!.range, { start: 1, end: 6, total: 23 });
      assert.equal(await store.get('lessons/a/v1/none.ts'), undefined);
      assert.equal(await store.head('lessons/a/v1/none.ts'), undefined);
    });

    test('a tree goes up with types by extension; list and delete take a prefix and nothing beside it', async () => {
      const dir = mkdtempSync(join(work, 'tree-'));
      rendition(dir);
      assert.equal(await store.putTree('lessons/b/v1', dir), 6);
      await store.putBytes('lessons/b/v10/web/master.m3u8', '#EXTM3U\n');
      const listed = await store.list('lessons/b/v1');
      assert.deepEqual(
        listed.map((o) => o.key),
        [
          'lessons/b/v1/poster.jpg',
          'lessons/b/v1/web/360p/index.m3u8',
          'lessons/b/v1/web/360p/seg_0.m4s',
          'lessons/b/v1/web/720p/index.m3u8',
          'lessons/b/v1/web/720p/seg_0.m4s',
          'lessons/b/v1/web/master.m3u8',
        ],
      );
      assert.equal((await store.head('lessons/b/v1/web/720p/seg_0.m4s'))?.contentType, 'video/iso.segment');
      assert.equal(
        (await store.head('lessons/b/v1/web/720p/seg_0.m4s'))?.cacheControl,
        'public, max-age=31536000, immutable',
      );
      assert.equal((await store.head('lessons/b/v1/poster.jpg'))?.contentType, 'image/jpeg');
      assert.equal(await store.deletePrefix('lessons/b/v1/poster.jpg'), 1, 'a prefix may be one object');
      assert.equal(await store.deletePrefix('lessons/b/v1'), 5);
      assert.deepEqual(await store.list('lessons/b/v1'), []);
      assert.equal((await store.list('lessons/b/v10')).length, 1, 'v10 is not under v1');
    });

    test('a published rendition is there whole, its master last; the work folder is consumed', async () => {
      const dir = mkdtempSync(join(work, 'pub-'));
      rendition(dir);
      const seg = readFileSync(join(dir, 'web', '720p', 'seg_0.m4s'));
      await store.publish('lessons/c/v1', dir, { last: ['web/master.m3u8'] });
      const got = await store.get('lessons/c/v1/web/720p/seg_0.m4s');
      const chunks: Buffer[] = [];
      for await (const c of got!.body) chunks.push(c as Buffer);
      assert.deepEqual(Buffer.concat(chunks), seg);
      assert.equal((await store.list('lessons/c/v1')).length, 6);
      const local = await store.localCopy('lessons/c/v1/poster.jpg', mkdtempSync(join(work, 'copy-')));
      assert.equal(readFileSync(local).length, 512);
      assert.throws(() => readFileSync(join(dir, 'poster.jpg')), /ENOENT/);
    });

    test('keys that climb out of the store are refused', async () => {
      await assert.rejects(store.putBytes('../escape.m3u8', 'x'), /not a media key/);
      await assert.rejects(store.head('lessons//a'), /not a media key/);
    });
  });
}

test('an S3 reader polling the master while a rendition is published never finds a master before its rungs', async () => {
  const store = s3.store(await s3.createBucket(`sky-${randomBytes(4).toString('hex')}`));
  const dir = mkdtempSync(join(work, 'race-'));
  rendition(dir);
  let publishing = true;
  const published = store.publish('lessons/d/v1', dir, { last: ['web/master.m3u8'] }).finally(() => {
    publishing = false;
  });
  let polls = 0;
  let seenMaster = false;
  while (publishing || !seenMaster) {
    polls++;
    if (await store.head('lessons/d/v1/web/master.m3u8')) {
      seenMaster = true;
      assert.equal((await store.list('lessons/d/v1')).length, 6, 'every file is there once the master is');
    }
    if (polls > 500) break;
  }
  await published;
  assert.ok(seenMaster);
});

test('a missing bucket fails a listing (what the transcoder’s /healthz asks), not only reads of its keys', async () => {
  const store = s3.store(`sky-missing-${randomBytes(4).toString('hex')}`);
  await assert.rejects(store.list('.healthz'), /NoSuchBucket|bucket/i);
});
