// The TV gateways' slate with media on S3 (a real Swift with s3api): three gateways' artwork on one bucket
// and one Redis ask for a rung's slate at once; one renders it with ffmpeg, the others wait for it in the
// bucket and copy it, so every gateway serves the same bytes and the slate is rendered once in all.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { useInfra, type TestInfra } from '@sky/devkit';
import { Redis } from 'ioredis';
import { ffmpegRenderer, type Renderer } from '../tv-gateway/src/adapters/ffmpeg.js';
import { Artwork, redisClaims, SLATE_TICKS_FILES } from '../tv-gateway/src/services/artwork.js';
import { startS3, type S3Stack } from './s3-stack.ts';

let s3: S3Stack;
let infra: TestInfra;
let redis: Redis;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sky-slate-s3-'));
  s3 = await startS3();
  infra = await useInfra();
  redis = new Redis(infra.redisUrl);
});
after(async () => {
  redis?.disconnect();
  await infra?.close();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

test('three gateways on one bucket: the slate is rendered once, the others copy it byte for byte', async () => {
  const bucket = await s3.createBucket(`sky-slate-${randomBytes(4).toString('hex')}`);
  const store = s3.store(bucket);
  const claim = redisClaims(redis, infra.prefix);
  let renders = 0;
  const counting: Renderer = {
    async render(args) {
      renders++;
      await ffmpegRenderer('ffmpeg').render(args);
    },
  };
  const gateways = [1, 2, 3].map((i) => new Artwork(counting, join(work, `gw${i}`), { store, claim }));
  const t0 = performance.now();
  const dirs = await Promise.all(gateways.map((g) => g.slateDir('360p')));
  const sec = ((performance.now() - t0) / 1000).toFixed(1);
  assert.equal(renders, 1, 'one gateway rendered the slate');
  const digest = (dir: string) =>
    SLATE_TICKS_FILES.map((f) =>
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    );
  for (const dir of dirs.slice(1)) assert.deepEqual(digest(dir), digest(dirs[0]!), `${dir} = ${dirs[0]}`);
  const stored = await store.list('slates');
  assert.equal(stored.length, SLATE_TICKS_FILES.length, 'the slate is in the bucket, each segment once');
  // a gateway started later copies it at once; its other rung it renders (once) and shares too
  const later = new Artwork(counting, join(work, 'gw4'), { store, claim });
  assert.deepEqual(digest(await later.slateDir('360p')), digest(dirs[0]!));
  assert.equal(renders, 1, 'nothing rendered again');
  await later.slateDir('720p');
  assert.equal(renders, 2);
  assert.equal((await store.list('slates')).length, 2 * SLATE_TICKS_FILES.length);
  console.log(
    `[slate-s3] 3 gateways had the 360p slate in ${sec} s with 1 render; a 4th copied it with none; ` +
      `${stored.length} segments in the bucket`,
  );
});
