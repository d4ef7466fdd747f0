// Production serves the web app from nginx (deploy/nginx.conf): its /assets/ location sends the build's
// precompressed .gz files as they are (gzip_static), with Vary, to the clients that take gzip (issue 17).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { block, deployConf, maps, startNginx, type Nginx } from './nginx-conf.js';

let dir: string;
let nginx: Nginx | undefined;
const js = `console.log(${JSON.stringify('空中课堂 '.repeat(400))});\n`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sky-nginx-web-'));
  const html = join(dir, 'html');
  mkdirSync(join(html, 'assets'), { recursive: true });
  writeFileSync(join(html, 'index.html'), '<!doctype html><title>空中课堂</title>');
  writeFileSync(join(html, 'assets', 'index-abc.js'), js);
  writeFileSync(join(html, 'assets', 'index-abc.js.gz'), gzipSync(js, { level: 9 }));
  const conf = deployConf();
  const at = conf.indexOf('location /assets/');
  assert.ok(at > 0, 'deploy/nginx.conf has an /assets/ location');
  nginx = await startNginx(dir, `root ${html}; ${block(conf, at)}`, maps(conf));
});
after(() => {
  nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('nginx sends the precompressed .gz of an asset to a client that takes gzip, with Vary', async () => {
  const { request } = await import('node:http');
  // node's fetch would decompress by itself: read the bytes as they come
  const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request(
      `${nginx!.base}/assets/index-abc.js`,
      { headers: { 'accept-encoding': 'gzip' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(raw.headers['content-encoding'], 'gzip');
  assert.match(String(raw.headers['vary']), /accept-encoding/i);
  assert.match(String(raw.headers['cache-control']), /immutable/);
  assert.deepEqual(raw.body, readFileSync(join(dir, 'html', 'assets', 'index-abc.js.gz')));
  assert.equal(gunzipSync(raw.body).toString(), js);
});

test('a client that takes no gzip gets the file itself', async () => {
  const res = await fetch(`${nginx!.base}/assets/index-abc.js`, {
    headers: { 'accept-encoding': 'identity' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), null);
  assert.equal(await res.text(), js);
});
