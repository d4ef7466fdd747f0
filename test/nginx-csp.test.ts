// The pages nginx serves (deploy/nginx.conf, rendered as the nginx image renders its template) let
// browsers connect to every sfu node the api may hand out: the same list (SFU_PUBLIC_URL, SFU_PUBLIC_URLS)
// makes nginx's connect-src and the api's (issue 16).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sfuPublicOrigins } from '../api/src/services/sfu-nodes.js';
import { block, deployConf, maps, startNginx, type Nginx } from './nginx-conf.js';

const SFU_PUBLIC_URL = 'http://203.0.113.7:8081';
const SFU_PUBLIC_URLS = 'http://203.0.113.7:8081,https://sfu-2.example.org:8443/socket';
let dir: string;
let nginx: Nginx | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sky-nginx-csp-'));
  const html = join(dir, 'html');
  mkdirSync(join(html, 'assets'), { recursive: true });
  writeFileSync(join(html, 'index.html'), '<!doctype html><title>空中课堂</title>');
  writeFileSync(join(html, 'assets', 'index-abc.js'), '1;');
  const conf = deployConf({ SFU_PUBLIC_URL, SFU_PUBLIC_URLS });
  const pages = ['location /assets/', 'location / '].map((l) => {
    const at = conf.indexOf(l);
    assert.ok(at > 0, `deploy/nginx.conf has ${l}`);
    return block(conf, at);
  });
  nginx = await startNginx(dir, `root ${html}; ${pages.join('\n')}`, maps(conf));
});
after(() => {
  nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the pages and their assets may connect to every sfu node the api names, and their websockets', async () => {
  const origins = sfuPublicOrigins(SFU_PUBLIC_URL, SFU_PUBLIC_URLS.split(','));
  assert.equal(origins.length, 2);
  const expected = ["'self'", ...origins, ...origins.map((o) => o.replace(/^http/, 'ws'))];
  for (const path of ['/', '/lessons/abc', '/assets/index-abc.js']) {
    const res = await fetch(`${nginx!.base}${path}`);
    assert.equal(res.status, 200, path);
    const csp = res.headers.get('content-security-policy') ?? '';
    const connect = /connect-src ([^;]*)/.exec(csp)?.[1]?.trim().split(/\s+/);
    assert.deepEqual(connect, expected, `${path}: ${csp}`);
  }
});

test('with no sfu named the pages connect to their own origin only', () => {
  const conf = deployConf({});
  assert.ok(!conf.includes('${'), 'every placeholder is filled in');
  assert.match(conf, /connect-src 'self' ?;/);
});
