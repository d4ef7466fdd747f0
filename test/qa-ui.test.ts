// The lesson page's Q&A in real browsers: two students and the teacher in one room on a really
// transcoded replay. A question typed as HTML stays text; answers arrive live; the FAQ seeks the video.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { actorOf, addPlayableLesson } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results', 'qa');
const XSS = '<img src=x onerror=alert(1)>怎么看钟表？';
const ASKED_AT = 12;

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let lessonId: string;
let studentB: string;
let studentBId: string;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  api = await startTestApi({ WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  lessonId = (await addPlayableLesson(api, { title: '认识钟表', grade: 'p3', subject: '数学' })).id;
  studentB = `student-b.${api.prefix}`;
  const created = await api.app.services.users.create({
    username: studentB,
    password: PASSWORD,
    displayName: '李小红',
    role: 'student',
    grade: 'p3',
  });
  studentBId = created.id;
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await api?.close();
});

interface Viewer {
  page: Page;
  dialogs: string[];
  /** Every websocket frame the page sent. */
  sent: string[];
}

async function open(username: string, locale = 'zh-CN'): Promise<Viewer> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
  const page = await ctx.newPage();
  const dialogs: string[] = [];
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.goto(`${base}/lessons/${lessonId}`);
  await page.getByTestId('qa-panel').waitFor();
  return { page, dialogs, sent };
}

/** Waits until the panel's first question shows text matching `re` in its `testid` part. */
async function shows(page: Page, testid: string, re: RegExp): Promise<void> {
  await page.waitForFunction(
    ([id, source]) =>
      [...document.querySelectorAll(`[data-testid="qa-panel"] [data-testid="${id}"]`)].some((el) =>
        new RegExp(source!).test((el as HTMLElement).innerText),
      ),
    [testid, re.source],
    { timeout: 15_000 },
  );
}

async function seekTo(page: Page, sec: number): Promise<void> {
  await page.waitForFunction(() => (document.querySelector('video')?.duration ?? 0) > 20, null, {
    timeout: 20_000,
  });
  await page.evaluate((s) => {
    const v = document.querySelector('video')!;
    v.currentTime = s;
  }, sec);
  await page.waitForFunction((s) => Math.abs(document.querySelector('video')!.currentTime - s) < 0.5, sec);
}

test('students ask and vote, the teacher answers, everyone sees it live; the FAQ seeks the replay', async () => {
  const a = await open(`student.${api.prefix}`);
  const b = await open(studentB);
  const teacher = await open(`teacher.${api.prefix}`);

  await seekTo(a.page, ASKED_AT);
  await a.page.getByTestId('qa-ask-input').fill(XSS);
  assert.match(await a.page.getByTestId('qa-ask-count').innerText(), new RegExp(`^${XSS.length}/500$`));
  await a.page.getByTestId('qa-ask-submit').click();

  // B sees the question arrive and upvotes it; A and the teacher see the vote
  await shows(b.page, 'qa-text', /怎么看钟表/);
  await b.page.getByTestId('qa-upvote').first().click();
  await shows(b.page, 'qa-votes', /^1$/);
  assert.equal(await b.page.getByTestId('qa-upvote').first().getAttribute('aria-pressed'), 'true');
  await shows(a.page, 'qa-votes', /^1$/);
  await shows(teacher.page, 'qa-votes', /^1$/);
  await b.page.screenshot({ path: join(SHOTS, 'student-b-voted.zh-CN.png'), fullPage: true });

  // the teacher answers in place; both students see the answer live
  await teacher.page.getByTestId('qa-answer-open').first().click();
  await teacher.page.getByTestId('qa-answer-input').fill('先看时针指向几，再看分针：分针指向 12 就是整点。');
  await teacher.page.screenshot({ path: join(SHOTS, 'teacher-answering.zh-CN.png'), fullPage: true });
  await teacher.page.getByTestId('qa-answer-submit').click();
  await shows(a.page, 'qa-answer', /分针指向 12/);
  await shows(b.page, 'qa-answer', /分针指向 12/);
  // the FAQ beside the player follows the room without a reload
  await a.page.getByTestId('faq-item').first().waitFor({ timeout: 10_000 });
  await a.page.screenshot({ path: join(SHOTS, 'student-a-answered.zh-CN.png'), fullPage: true });

  // B's connection drops; what happens meanwhile arrives once B is back (re-joined with `since`)
  for (const s of api.app.io.of('/qa').sockets.values()) {
    if ((s.data as { actor?: { sub: string } }).actor?.sub === studentBId) s.conn.close();
  }
  await b.page.waitForSelector('[data-testid="qa-panel"][data-connected="false"]');
  await teacher.page.getByTestId('qa-ask-input').fill('老师补充：钟面上有几个大格？');
  await teacher.page.getByTestId('qa-ask-submit').click();
  await b.page.waitForSelector('[data-testid="qa-panel"][data-connected="true"]');
  await shows(b.page, 'qa-text', /几个大格/);
  assert.equal(await b.page.getByTestId('qa-question').count(), 2);
  assert.ok(
    b.sent.some((f) => f.includes('"room:join"') && /"since":\d+/.test(f)),
    'B re-joined with since',
  );
  await shows(b.page, 'qa-answer', /分针指向 12/);

  // the HTML was shown as text: literally, with no element made of it and no script run
  for (const v of [a, b, teacher]) {
    const panel = v.page.getByTestId('qa-panel');
    assert.ok((await panel.innerText()).includes(XSS));
    assert.equal(await panel.locator('img').count(), 0);
    assert.deepEqual(v.dialogs, []);
  }

  // the replay's FAQ lists the answered question and seeks to where it was asked
  await b.page.reload();
  await b.page.getByTestId('faq-item').first().waitFor();
  assert.ok((await b.page.getByTestId('faq').innerText()).includes(XSS));
  assert.match(await b.page.getByTestId('faq-jump').first().innerText(), /跳到 00:12/);
  await b.page.waitForFunction(() => (document.querySelector('video')?.duration ?? 0) > 20, null, {
    timeout: 20_000,
  });
  await b.page.getByTestId('faq-jump').first().click();
  await b.page.waitForFunction(
    (s) => Math.abs(document.querySelector('video')!.currentTime - s) <= 2,
    ASKED_AT,
    { timeout: 10_000 },
  );
  await b.page.screenshot({ path: join(SHOTS, 'faq-jumped.zh-CN.png'), fullPage: true });
  assert.deepEqual(b.dialogs, []);

  // English
  const en = await open(`student.${api.prefix}`, 'en-US');
  await en.page.evaluate(() => localStorage.setItem('sky.lang', 'en'));
  await en.page.reload();
  await en.page.getByTestId('faq-item').first().waitFor();
  await en.page.screenshot({ path: join(SHOTS, 'lesson-qa.en.png'), fullPage: true });
  assert.match(await en.page.getByTestId('faq-jump').first().innerText(), /Jump to 00:12/);

  // on a phone the panel and the FAQ stack under the player, with nothing wider than the screen
  await b.page.setViewportSize({ width: 390, height: 844 });
  await b.page.screenshot({ path: join(SHOTS, 'lesson-qa.phone.zh-CN.png'), fullPage: true });
  assert.ok(await b.page.evaluate(() => document.documentElement.scrollWidth <= 390));
});

test('the teacher’s inbox lists unanswered questions across lessons and answers in place', async () => {
  // a family member (the students asked a moment ago: one question every 10 s each)
  const family = await actorOf(api, 'family');
  await api.app.services.qa.ask(family, {
    lessonId,
    text: '整点时分针指向几？',
    anonymous: false,
    position: 20,
  });
  const { page } = await open(`teacher.${api.prefix}`);
  await page.goto(`${base}/`);
  await page.getByTestId('inbox-link').click();
  const item = page.getByTestId('inbox-item').filter({ hasText: '整点时分针指向几？' });
  await item.waitFor();
  assert.match(await item.innerText(), /认识钟表/);
  await page.screenshot({ path: join(SHOTS, 'teacher-inbox.zh-CN.png') });
  await item.getByTestId('inbox-answer-input').fill('指向 12。');
  await item.getByTestId('inbox-answer-submit').click();
  await item.waitFor({ state: 'detached' });
  const faq = await api.app.http.inject({
    url: `/api/lessons/${lessonId}/faq`,
    headers: { authorization: `Bearer ${api.tokens.student}` },
  });
  assert.match(faq.body, /指向 12。/);
  await page.context().close();
});
