// What the web client costs a phone (issue 17): the JavaScript Chromium transfers for the login page and
// the lesson page on a cold cache (brotli, which Chromium offers to HTTPS and localhost; gzip, all it offers
// a plain-http address on the LAN), and on a 4 Mbit/s line with 150 ms round trips the time from the
// sign-in click to the lesson's first frame (a student who opened the lesson's link signed out) and from
// opening the lesson, signed in, to its first frame. Served by the api (its static plugin, as `npm start`);
// the lesson is a real 30-s 720p HLS ladder. BEFORE_DIST=<a web-client/dist built from an older commit>
// measures that build the same way, beside it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi } from '../api/test/helpers.js';
import { addPlayableLesson } from '../test/fixtures.js';
import { firstFrame, kB, watchScripts, weighPage, type WeighOptions } from '../test/web-weight.js';

const ROOT = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const LINE = { bitsPerSecond: 4_000_000, rttMs: 150 };
const BUDGET_KB = 200;
const ENCODINGS = { br: ['br', 'gzip', 'deflate'], gzip: ['gzip', 'deflate'] } as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(dist: string, browser: Browser) {
  const api = await startTestApi({ WEB_DIST_DIR: dist });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  const lesson = await addPlayableLesson(api, { title: '认识钟表', grade: 'p3', subject: '数学' });
  const username = `student.${api.prefix}`;
  const newPage = async () => (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const signIn = async (page: Page) => {
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
  };
  const lessonUrl = `${base}/lessons/${lesson.id}`;
  const lessonReady = (p: Page) => p.locator('video').waitFor();
  const loginReady = (p: Page) => p.getByTestId('login-username').waitFor();

  const out: Record<string, unknown> = {};
  for (const [enc, encodings] of Object.entries(ENCODINGS)) {
    const opts: Omit<WeighOptions, 'ready'> = { encodings: [...encodings] };
    const loginPage = await newPage();
    const login = await weighPage(loginPage, `${base}/login`, { ...opts, ready: loginReady });
    await loginPage.context().close();

    const page = await newPage();
    await page.goto(`${base}/login`);
    await signIn(page);
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.waitForLoadState('networkidle');
    const afterSignIn = await weighPage(page, lessonUrl, { ...opts, warm: true, ready: lessonReady });
    const cold = await weighPage(page, lessonUrl, { ...opts, ready: lessonReady, firstFrame: true });
    await page.context().close();

    // On the phone line: sign in from the lesson's link, and open the lesson signed in, each ROUNDS times.
    const signInMs: number[] = [];
    const openMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const p = await newPage();
      const watch = await watchScripts(p, { ...opts, network: LINE });
      await p.goto(lessonUrl);
      await p.waitForURL(/\/login/);
      await loginReady(p);
      await watch.quiet();
      watch.restart();
      await signIn(p);
      await firstFrame(p);
      signInMs.push(watch.elapsed());
      await watch.detach();
      // the lesson is still loading segments: leave it, so none of its requests are counted below
      await p.goto('about:blank');
      const again = await weighPage(p, lessonUrl, {
        ...opts,
        network: LINE,
        ready: lessonReady,
        firstFrame: true,
      });
      openMs.push(again.firstFrameMs!);
      await p.context().close();
    }
    out[enc] = {
      login_js_kb: kB(login.js),
      lesson_js_kb: kB(cold.js),
      lesson_js_before_first_frame_kb: kB(cold.jsBeforeFirstFrame ?? 0),
      lesson_after_sign_in_js_kb: kB(afterSignIn.js),
      login_js_decoded_kb: kB(login.jsDecoded),
      lesson_js_decoded_kb: kB(cold.jsDecoded),
      lesson_js_files: cold.files.length,
      phone_line_sign_in_to_first_frame_ms: median(signInMs),
      phone_line_open_lesson_to_first_frame_ms: median(openMs),
      rounds_ms: { sign_in_to_first_frame: signInMs, open_lesson_to_first_frame: openMs },
    };
  }
  await api.close();
  return out;
}

const browser = await launchChromium();
try {
  const after = await measure(process.env['WEB_DIST_DIR'] ?? join(ROOT, 'web-client', 'dist'), browser);
  const before = process.env['BEFORE_DIST'] ? await measure(process.env['BEFORE_DIST'], browser) : undefined;
  const result = {
    ...after,
    ...(before ? { before } : {}),
    budget_kb: BUDGET_KB,
    line: { mbit_per_s: LINE.bitsPerSecond / 1e6, rtt_ms: LINE.rttMs },
    rounds: ROUNDS,
    method:
      'Chromium (playwright-core), CDP Network events: JavaScript bytes on the wire (headers included, as ' +
      'DevTools counts them) from navigation until a second without requests, cold cache unless said; a ' +
      '390x844 page. br: what Chromium offers HTTPS and localhost; gzip: all it offers a plain-http LAN ' +
      'address (a phone on the same network). First frame: the <video> reaches HAVE_CURRENT_DATA (hls.js ' +
      'loads the first segments without play()); line emulated by CDP (4 Mbit/s down and up, 150 ms added ' +
      'per request), no CPU slowdown. Medians of the rounds. lesson_js_before_first_frame_kb: the scripts ' +
      "the page asked for before its video's first loadeddata (Q&A and socket.io are asked for after it).",
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'web.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await browser.dispose();
}
process.exit(0);
