// What a phone downloads before it can sign in, and before a lesson plays (issue 17): the JavaScript
// Chromium transfers on a cold cache, read from its network events, with the build's precompressed
// assets served by the api (brotli to browsers that offer it, gzip to those that do not).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { addPlayableLesson } from './fixtures.js';
import { kB, weighPage, type PageWeight } from './web-weight.js';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'web-client', 'dist');
/** The budget for each page's first load, compressed. */
const BUDGET = 200 * 1024;
/**
 * The lesson page's JavaScript, compressed, may not grow past these: what the page asks for before its
 * video's first frame — the first chunk (React DOM, the router, i18next, the Chinese strings), the page and
 * hls.js (light), about 199 kB in brotli with every file's response headers (about 1 kB each) — and all of
 * it on a cold cache, about 249 kB: zod with the contract schemas and the beacon client (the session's
 * events wait in the page for it), Q&A and socket.io come once the video shows its first frame.
 */
const LESSON_CEILING = 250 * 1024;
const FIRST_FRAME_CEILING = BUDGET;

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let lessonId: string;

before(async () => {
  api = await startTestApi({ WEB_DIST_DIR: DIST });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  lessonId = (await addPlayableLesson(api, { title: '认识钟表', grade: 'p3', subject: '数学' })).id;
  browser = await launchChromium();
});
after(async () => {
  await browser?.dispose();
  await api?.close();
});

const loginReady = (page: Page) => page.getByTestId('login-username').waitFor();
const lessonReady = (page: Page) => page.locator('#player').waitFor();

function report(name: string, w: PageWeight): void {
  for (const f of w.files)
    console.log(`  ${f.url.replace(/^.*\//, '')} ${kB(f.transferred)} kB ${f.encoding}`);
  console.log(
    `${name}: ${kB(w.js)} kB of JavaScript transferred (${kB(w.jsDecoded)} kB decoded) in ${w.files.length} files` +
      (w.firstFrameMs === undefined
        ? ''
        : `; first frame after ${w.firstFrameMs} ms, ${kB(w.jsBeforeFirstFrame ?? 0)} kB of it before`),
  );
}

async function signedInPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(`student.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.getByTestId('timetable').waitFor();
  await page.waitForLoadState('networkidle');
  return page;
}

test('the login page: at most 200 kB of JavaScript, every file brotli (or gzip) with Vary', async () => {
  for (const encodings of [
    ['br', 'gzip', 'deflate'],
    ['gzip', 'deflate'],
  ] as const) {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const w = await weighPage(page, `${base}/login`, { encodings: [...encodings], ready: loginReady });
    report(`login (${encodings.join(', ')})`, w);
    assert.ok(w.files.length > 0);
    for (const f of w.files) {
      if (f.decoded < 1024) continue; // the build leaves files under 1 kB as they are
      assert.equal(f.encoding, encodings[0], `${f.url} is sent ${encodings[0]}`);
      assert.match(f.vary, /accept-encoding/i, `${f.url}: Vary: Accept-Encoding`);
    }
    assert.ok(w.js <= BUDGET, `login page: ${kB(w.js)} kB of JavaScript (budget ${kB(BUDGET)} kB)`);
    // hls.js, ECharts, mediasoup-client and socket.io are not on the login page
    assert.ok(w.jsDecoded < 500 * 1024, `login page decodes ${kB(w.jsDecoded)} kB`);
    await page.close();
  }
});

test('the lesson page: its JavaScript after sign-in and on a cold cache, and the first frame', async () => {
  // signed in on a cold cache: the first chunk came with the login page, the lesson adds its own and hls.js
  const page = await signedInPage();
  const next = await weighPage(page, `${base}/lessons/${lessonId}`, { warm: true, ready: lessonReady });
  report('lesson after sign-in (br)', next);
  assert.ok(
    !next.files.some((f) => /\/index-/.test(f.url) && f.transferred > 1024),
    'the first chunk is cached',
  );
  const cold = await weighPage(page, `${base}/lessons/${lessonId}`, { ready: lessonReady, firstFrame: true });
  report('lesson, cold cache (br)', cold);
  for (const f of cold.files) if (f.decoded >= 1024) assert.equal(f.encoding, 'br', f.url);
  assert.ok(cold.js <= LESSON_CEILING, `lesson page: ${kB(cold.js)} kB (ceiling ${kB(LESSON_CEILING)} kB)`);
  const beforeFrame = cold.jsBeforeFirstFrame ?? Infinity;
  assert.ok(
    beforeFrame <= FIRST_FRAME_CEILING,
    `lesson page before its first frame: ${kB(beforeFrame)} kB (ceiling ${kB(FIRST_FRAME_CEILING)} kB)`,
  );
  // Q&A and the beacon client (with zod and the contract schemas) are asked for after the first frame
  const later = cold.files.filter((f) => /\/(QaPanel|socket\.io|beacons)-/.test(f.url));
  assert.equal(later.length, 3, 'the lesson page loads Q&A, socket.io and the beacon client');
  for (const f of later)
    assert.ok(f.requestedAt > cold.firstFrameAt!, `${f.url} is asked for after the first frame`);
  assert.ok(next.js < cold.js * 0.6, 'after sign-in the lesson costs its own chunks only');
  await page.close();
});

test('without Accept-Encoding the api sends the file itself', async () => {
  const js = readdirSync(join(DIST, 'assets')).find((f) => /^index-.*\.js$/.test(f))!;
  const res = await fetch(`${base}/assets/${js}`, { headers: { 'accept-encoding': 'identity' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), null);
  assert.equal(await res.text(), readFileSync(join(DIST, 'assets', js), 'utf8'));
});
