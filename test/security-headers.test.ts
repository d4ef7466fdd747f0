// Security headers over the whole running platform: every HTML page (the web app, the 10-foot UI, the
// curriculum's /docs, the transcoder's /queues), a JSON answer and an error of each service, and each media
// type served (m3u8, ts, m4s, mp4, jpg, png, vtt, xml, m3u) carries a CSP with frame-ancestors 'none',
// nosniff, a Referrer-Policy and the right Content-Type. Then the pages run in Chromium under that CSP
// while a lesson plays, and the browser reports no violation.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { redisTarget, type Lesson } from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { createTicketIssuer } from '@sky/contracts/tokens';
import { deployConf, freePort, launchChromium, testLogger, useInfra } from '@sky/devkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD } from '../api/test/helpers.js';
import { createApiClient } from '../sfu/src/adapters/api-client.js';
import { startSfu, type TestSfu } from '../sfu/test/helpers.js';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { createApp as createTranscoder } from '../transcoder/src/app.js';
import { composeStorage } from '../transcoder/src/compose.js';
import { loadConfig as transcoderConfig } from '../transcoder/src/config.js';
import { p1MathPlan, SECRET, startTvStack, tokens, type TvStack } from './tv-stack.js';

const ROOT = join(import.meta.dirname, '..');
const WEB_DIST_DIR = join(ROOT, 'web-client', 'dist');
const TV_UI_DIR = join(WEB_DIST_DIR, 'tv');

let stack: TvStack;
let sfu: TestSfu;
let transcoder: Awaited<ReturnType<typeof createTranscoder>>;
let queues: JobQueues;
let closeInfra: () => Promise<void>;
const origins = {} as Record<'api' | 'gateway' | 'curriculum' | 'transcoder' | 'sfu', string>;
const admin = () => tokens.sign({ sub: 'admin-headers', role: 'admin' });
const tickets = createTicketIssuer(SECRET);

before(async () => {
  stack = await startTvStack({
    plan: (id) => p1MathPlan(id, ['认识钟表']),
    apiEnv: { WEB_DIST_DIR },
    gatewayEnv: { TV_UI_DIR },
  });
  origins.api = stack.web;
  origins.gateway = stack.base;
  const curriculumPort = (stack.curriculum.http.server.address() as { port: number }).port;
  origins.curriculum = `http://127.0.0.1:${curriculumPort}`;

  const infra = await useInfra();
  closeInfra = () => infra.close();
  const config = transcoderConfig({
    REDIS_URL: infra.redisUrl,
    QUEUE_PREFIX: infra.prefix,
    MEDIA_DIR: stack.api.mediaDir,
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'silent',
  });
  queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
  transcoder = await createTranscoder({
    config,
    logger: testLogger('transcoder', logOptions('transcoder', 'info')),
    queues,
    ffmpeg: createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    ...(await composeStorage(config)),
    version: 'test',
  });
  await transcoder.http.listen({ host: '127.0.0.1', port: 0 });
  origins.transcoder = `http://127.0.0.1:${(transcoder.http.server.address() as { port: number }).port}`;
  sfu = await startSfu({ api: createApiClient(stack.web) });
  origins.sfu = sfu.url;
});

after(async () => {
  await sfu?.close();
  await transcoder?.close();
  await queues?.close();
  await closeInfra?.();
  await stack?.close();
});

interface Answer {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'follow', ...init });
  const body = (res.headers.get('content-type') ?? '').startsWith('video/')
    ? `${(await res.arrayBuffer()).byteLength} bytes`
    : await res.text();
  return { url, status: res.status, headers: res.headers, body };
}

/** The directives of a CSP header, by name. */
function csp(answer: Answer): Map<string, string[]> {
  const header = answer.headers.get('content-security-policy');
  assert.ok(header, `${answer.url}: no Content-Security-Policy`);
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

/** What every answer carries, whatever it is. */
function assertHeaders(answer: Answer, contentType: RegExp): void {
  const where = `${answer.url} (${answer.status})`;
  assert.ok(answer.status < 500, `${where}: ${answer.body.slice(0, 200)}`);
  assert.match(answer.headers.get('content-type') ?? '', contentType, `${where}: Content-Type`);
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', `${where}: nosniff`);
  assert.match(
    answer.headers.get('referrer-policy') ?? '',
    /^(no-referrer|strict-origin-when-cross-origin)$/,
    `${where}: Referrer-Policy`,
  );
  const policy = csp(answer);
  assert.deepEqual(policy.get('frame-ancestors'), ["'none'"], `${where}: frame-ancestors`);
  assert.equal(answer.headers.get('x-frame-options'), 'DENY', `${where}: X-Frame-Options`);
  assert.equal(answer.headers.get('strict-transport-security'), null, `${where}: HSTS over plain http`);
}

/** A page: also scripts only from its own origin, nothing inline, no eval, no plugins. */
function assertPage(answer: Answer): void {
  assert.equal(answer.status, 200, `${answer.url}: ${answer.body.slice(0, 200)}`);
  assertHeaders(answer, /^text\/html/);
  const policy = csp(answer);
  const scripts = policy.get('script-src') ?? policy.get('default-src');
  assert.deepEqual(scripts, ["'self'"], `${answer.url}: script-src`);
  assert.deepEqual(policy.get('object-src'), ["'none'"], `${answer.url}: object-src`);
  // the page itself has no inline script to be refused (a JSON data block is not run)
  const inline = [...answer.body.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].filter(
    (m) => !/type="application\/json"/.test(m[1] ?? ''),
  );
  assert.deepEqual(
    inline.map((m) => m[0]),
    [],
    `${answer.url}: inline scripts`,
  );
}

const JSON_TYPE = /^application\/(problem\+)?json/;

/** The media files an HLS playlist names (variants, init segments, segments), as absolute URLs. */
function playlistEntries(playlist: string, base: string): string[] {
  const uris = playlist
    .split('\n')
    .map((l) => l.trim())
    .flatMap((l) => {
      if (l.startsWith('#')) return [...l.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!);
      return l ? [l] : [];
    });
  return uris.map((u) => new URL(u, base).href);
}

describe('headers on every answer', () => {
  test('the web app’s pages: the shell, the SPA routes, a lesson page', async () => {
    for (const path of ['/', '/login', `/lessons/${stack.lessonId}`, '/status', '/admin']) {
      assertPage(await get(`${origins.api}${path}`));
    }
    const shell = await get(`${origins.api}/`);
    // and the bundle it loads is served as script, nosniff
    const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(shell.body)?.[1];
    assert.ok(bundle, 'the shell loads a bundle');
    assertHeaders(await get(`${origins.api}${bundle}`), /^(text|application)\/javascript/);
  });

  test('the 10-foot UI on the gateway', async () => {
    assertPage(await get(`${origins.gateway}/`));
  });

  test('the curriculum’s /docs (swagger UI) and the transcoder’s /queues (bull-board)', async () => {
    const docs = await get(`${origins.curriculum}/docs`);
    assertPage(docs);
    const docAssets = [...docs.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    assert.ok(docAssets.length > 0);
    for (const asset of docAssets) {
      assertHeaders(
        await get(new URL(asset, `${origins.curriculum}/docs/`).href),
        /^(text|application)\/(javascript|css)/,
      );
    }
    assertHeaders(await get(`${origins.curriculum}/docs/json`), JSON_TYPE);

    const anonymous = await get(`${origins.transcoder}/queues`);
    assert.equal(anonymous.status, 401);
    assertHeaders(anonymous, JSON_TYPE);
    assertPage(
      await get(`${origins.transcoder}/queues`, { headers: { authorization: `Bearer ${admin()}` } }),
    );
  });

  test('a JSON answer and an error of each service', async () => {
    const student = { authorization: `Bearer ${stack.api.tokens.student}` };
    const answers = [
      await get(`${origins.api}/api/lessons/${stack.lessonId}`, { headers: student }),
      await get(`${origins.api}/api/status`),
      await get(`${origins.api}/api/nothing-here`),
      await get(`${origins.api}/api/lessons`),
      await get(`${origins.gateway}/api/channels`),
      await get(`${origins.gateway}/healthz`),
      await get(`${origins.gateway}/channels/nothing.m3u8`),
      await get(`${origins.curriculum}/grades`),
      await get(`${origins.curriculum}/plan`, { method: 'PUT' }),
      await get(`${origins.transcoder}/healthz`),
      await get(`${origins.sfu}/healthz`),
      await get(`${origins.sfu}/nothing`),
    ];
    for (const answer of answers) assertHeaders(answer, JSON_TYPE);
    // the public plan as CSV, too
    assertHeaders(await get(`${origins.curriculum}/plan/lessons.csv`), /^text\/csv/);
  });

  test('each media type: m3u8, mp4, m4s, ts, jpg and vtt from the api; m3u, xml, m3u8, ts and png from the gateway', async () => {
    const lesson = (
      await get(`${origins.api}/api/lessons/${stack.lessonId}`, {
        headers: { authorization: `Bearer ${stack.api.tokens.student}` },
      })
    ).body;
    const { playbackUrl, tvPlaybackUrl, posterUrl, storyboardUrl } = JSON.parse(lesson) as Lesson;
    const seen = new Set<string>();
    const check = async (url: string, type: RegExp, kind: string) => {
      const answer = await get(url);
      assert.equal(answer.status, 200, `${url}: ${answer.body.slice(0, 200)}`);
      assertHeaders(answer, type);
      seen.add(kind);
      return answer;
    };
    const TYPES: Record<string, RegExp> = {
      m3u8: /^application\/(vnd\.apple\.mpegurl|x-mpegurl)/i,
      mp4: /^video\/mp4/,
      m4s: /^video\/(iso\.segment|mp4)/,
      ts: /^video\/mp2t/,
      jpg: /^image\/jpeg/,
      png: /^image\/png/,
      vtt: /^text\/vtt/,
    };
    const kindOf = (url: string) => /\.([a-z0-9]+)$/.exec(new URL(url).pathname)?.[1] ?? '';
    /** A playlist and the first of each kind of file under it. */
    const walk = async (url: string) => {
      const playlist = await check(url, TYPES['m3u8']!, 'm3u8');
      const byKind = new Map<string, string>();
      for (const entry of playlistEntries(playlist.body, url)) {
        if (!byKind.has(kindOf(entry))) byKind.set(kindOf(entry), entry);
      }
      for (const [kind, entry] of byKind) {
        if (kind === 'm3u8') await walk(entry);
        else await check(entry, TYPES[kind] ?? /^$/, kind);
      }
    };
    assert.ok(playbackUrl && tvPlaybackUrl && posterUrl && storyboardUrl, lesson);
    await walk(new URL(playbackUrl, origins.api).href);
    await walk(new URL(tvPlaybackUrl, origins.api).href);
    await check(new URL(posterUrl, origins.api).href, TYPES['jpg']!, 'jpg');
    const storyboard = await check(new URL(storyboardUrl, origins.api).href, TYPES['vtt']!, 'vtt');
    const sprite = /^(\S+\.jpg)/m.exec(storyboard.body)?.[1];
    if (sprite) await check(new URL(sprite, new URL(storyboardUrl, origins.api)).href, TYPES['jpg']!, 'jpg');

    const m3u = await check(`${origins.gateway}/channels.m3u`, /^audio\/x-mpegurl/, 'm3u');
    await check(`${origins.gateway}/guide.xml`, /^(application|text)\/xml/, 'xml');
    const logo = /tvg-logo="([^"]+)"/.exec(m3u.body)?.[1];
    assert.ok(logo, m3u.body);
    await check(new URL(logo, origins.gateway).href, TYPES['png']!, 'png');
    const channel = m3u.body.split('\n').find((l) => /^https?:\/\//.test(l.trim()));
    assert.ok(channel, m3u.body);
    await walk(channel.trim());
    assert.deepEqual([...seen].sort(), ['jpg', 'm3u', 'm3u8', 'm4s', 'mp4', 'png', 'ts', 'vtt', 'xml']);
  });

  test('HSTS only on answers that went out over https', async () => {
    const overHttps = await stack.api.app.http.inject({
      url: '/api/status',
      headers: { 'x-forwarded-proto': 'https' },
    });
    assert.match(String(overHttps.headers['strict-transport-security']), /max-age=\d+/);
    const plain = await stack.api.app.http.inject({ url: '/api/status' });
    assert.equal(plain.headers['strict-transport-security'], undefined);
  });
});

test('nginx (deploy/nginx.conf) serves the built web app with the api’s headers', async () => {
  // the compose file's nginx, on a free port, with the built app as its root and the stack behind it
  const dir = mkdtempSync(join(tmpdir(), 'sky-nginx-'));
  const port = await freePort();
  const sfuPublic = 'http://203.0.113.7:8081';
  // rendered as the nginx image renders it (deploy/nginx-csp.envsh, then its template)
  const site = deployConf({ SFU_PUBLIC_URL: sfuPublic })
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('root /usr/share/nginx/html;', `root ${WEB_DIST_DIR};`)
    .replaceAll('http://api:8080', origins.api)
    .replaceAll('http://tv-gateway:8090', origins.gateway);
  writeFileSync(join(dir, 'site.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir};`);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;\nevents {}\n` +
      `http { access_log off; ${temp.join(' ')} include /etc/nginx/mime.types; include ${dir}/site.conf; }\n`,
  );
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (
        await fetch(base).then(
          () => true,
          () => false,
        )
      )
        break;
      // nginx refusing the conf says why in its log (read only then: nginx may not have made it yet)
      if (i >= 50) {
        const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
        assert.fail(`nginx answers within 5 s: ${log.slice(-800) || 'its error log is empty'}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const shell = await get(`${base}/`);
    for (const path of ['/', '/login', `/lessons/${stack.lessonId}`]) assertPage(await get(`${base}${path}`));
    const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(shell.body)?.[1];
    assert.ok(bundle);
    assertHeaders(await get(`${base}${bundle}`), /^(text|application)\/javascript/);
    // the same policy as the api gives the same pages, but for the sfu this deployment names
    const fromApi = csp(await get(`${origins.api}/`));
    const fromNginx = csp(shell);
    fromApi.set('connect-src', ["'self'", sfuPublic, sfuPublic.replace(/^http/, 'ws')]);
    assert.deepEqual(fromNginx, fromApi);
    // what nginx proxies keeps the service's own headers
    assertHeaders(await get(`${base}/api/status`), JSON_TYPE);
    assertPage(await get(`${base}/tv/`));
  } finally {
    nginx.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the pages run under their CSP in Chromium', () => {
  let browser: Browser & { dispose(): Promise<void> };
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.dispose();
  });

  /** A page that records every CSP violation it meets (events and console reports). */
  async function watched(context: BrowserContext): Promise<{ page: Page; violations: string[] }> {
    const page = await context.newPage();
    const violations: string[] = [];
    await page.exposeFunction('__cspViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __cspViolation(v: string): void }).__cspViolation(
          `${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`,
        );
      });
    });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    return { page, violations };
  }

  test('the web app: a student signs in and a lesson plays, with no CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, violations } = await watched(context);
    await page.goto(`${origins.api}/login`);
    await page.getByTestId('login-username').fill(`student.${stack.api.prefix}`);
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.goto(`${origins.api}/lessons/${stack.lessonId}`);
    await page.waitForSelector('#player');
    await page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('#player')!;
      v.muted = true;
      return v.play().catch(() => undefined);
    });
    await page
      .waitForFunction(
        () => (document.querySelector<HTMLVideoElement>('#player')?.currentTime ?? 0) > 2,
        null,
        {
          timeout: 30_000,
        },
      )
      .catch((err: unknown) => {
        throw new Error(`the lesson did not play (CSP violations: ${JSON.stringify(violations)})`, {
          cause: err,
        });
      });
    await page.goto(`${origins.api}/status`);
    await page.getByTestId('status-card').first().waitFor();
    assert.deepEqual(violations, []);
    await context.close();
  });

  test('the 10-foot UI starts with no CSP violation (playback: tv-ui.test.ts)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const { page, violations } = await watched(context);
    await page.goto(`${origins.gateway}/`);
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('.tv-root')?.dataset['screen'],
      null,
      {
        timeout: 15_000,
      },
    );
    await page.waitForTimeout(1000);
    assert.deepEqual(violations, []);
    await context.close();
  });

  test('swagger UI at /docs and bull-board at /queues render with no CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, violations } = await watched(context);
    await page.goto(`${origins.curriculum}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 15_000 });
    await page.locator('.opblock').first().waitFor();
    await page.goto(
      `${origins.transcoder}/queues/login?ticket=${tickets.sign({ sub: 'admin-headers', role: 'admin', use: 'queues' })}`,
    );
    await page.waitForURL(/\/queues/);
    await page.getByText('transcode', { exact: false }).first().waitFor({ timeout: 15_000 });
    // bull-board links Google Fonts: refused on purpose (no third party on an admin page), system fonts
    const deliberate = /fonts\.googleapis\.com/;
    assert.deepEqual(
      violations.filter((v) => !deliberate.test(v)),
      [],
    );
    await context.close();
  });
});
