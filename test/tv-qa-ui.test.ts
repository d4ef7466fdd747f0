// Q&A beside a lesson on TV, end to end in Chromium: a paired box plays a channel and an on-demand lesson
// and shows the lesson's code and a QR of the phone page; a signed-in phone opens that page, claims the
// code and asks; the teacher sees the question with the moment the TV was showing; a second phone is
// refused. A real api, curriculum and gateway (test/tv-stack.ts); screenshots in test-results/tv-qa/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeviceTokenResponse, GuideProgramme, Plan, Question, QuestionPage } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, type TestApi } from '../api/test/helpers.js';
import { actorOf } from './fixtures.js';
import { startTvStack, type TvStack } from './tv-stack.js';

const ROOT = join(import.meta.dirname, '..');
const TV_UI_DIR = join(ROOT, 'web-client', 'dist', 'tv');
const WEB_DIST_DIR = join(ROOT, 'web-client', 'dist');
const SHOTS = join(ROOT, 'test-results', 'tv-qa');
const TERM_START = '2026-11-23'; // a Monday
/** The gateway's clock starts this far into a programme: the box, ~20 s behind the edge, sees the lesson. */
const INTO_PROGRAMME_SEC = 40;

let stack: TvStack;
let api: TestApi;
let base: string;
let web: string;
let browser: Browser & { dispose(): Promise<void> };
let tv: Page;
let onAir: GuideProgramme;
let secondStudent: string;

const plan = (vodLessonId: string): Plan => {
  const rules = { slots: ['08:00', '09:00'], maxDaily: 2, lessonMinutes: 20 };
  return {
    term: {
      name: 'test',
      startDate: TERM_START,
      endDate: '2026-11-27',
      weekdays: [1, 2, 3, 4, 5],
      holidays: [],
      extraSchoolDays: [],
      stages: { primary: rules, junior: rules, senior: rules },
      maxPerSubjectPerDay: 2,
    },
    subjects: [{ code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 10, core: true }],
    teachers: [{ id: 't-p1', name: '王老师', subjects: ['math'], grades: ['p1'], unavailable: [] }],
    channels: [{ id: 'tv-p1', kind: 'tv', number: 1, zh: '空中课堂 一年级', en: 'Sky P1', grades: ['p1'] }],
    lessons: Array.from({ length: 10 }, (_, i) => ({
      id: `p1-math-${i + 1}`,
      title: `认识钟表（${i + 1}）`,
      grade: 'p1' as const,
      subject: 'math',
      unit: '第一单元',
      order: i + 1,
      durationMin: 20,
      teacherId: 't-p1',
      recording: 'ready' as const,
      vodLessonId,
    })),
  };
};

/** Presses a remote key and lets the UI settle. */
async function press(page: Page, key: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    await page.keyboard.press(key);
    await page.waitForTimeout(150);
  }
}
const waitScreen = (page: Page, name: string, timeout = 10_000) =>
  page.waitForFunction(
    (n) => document.querySelector<HTMLElement>('.tv-root')?.dataset['screen'] === n,
    name,
    { timeout },
  );
const currentTime = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')!.currentTime);

/** The code the player shows, once it shows one, and its QR's text. */
async function shownCode(page: Page): Promise<{ code: string; qr: string; digits: string }> {
  await page.locator('.tv-qa img').waitFor({ timeout: 20_000 });
  const code = (await page.getByTestId('qa').getAttribute('data-code')) ?? '';
  const qr = (await page.locator('.tv-qa img').getAttribute('data-qr')) ?? '';
  const digits = await page.getByTestId('qa-code').innerText();
  return { code, qr, digits };
}

/** A phone signed in as `username` (mobile viewport, Chinese), on `url`. */
async function phone(username: string, url: string): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  const page = await ctx.newPage();
  // scanned before signing in: the login page brings the phone back to the code
  await page.goto(url);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => u.pathname.startsWith('/qa/tv/'));
  return page;
}

/** The lesson's questions as its teacher sees them (the api, not the page under test). */
async function teacherSees(text: string): Promise<Question> {
  const res = await fetch(`${web}/api/lessons/${stack.lessonId}/questions?filter=new`, {
    headers: { authorization: `Bearer ${api.tokens.teacher}` },
  });
  assert.equal(res.status, 200);
  const q = ((await res.json()) as QuestionPage).questions.find((x) => x.text === text);
  assert.ok(q, `the teacher sees “${text}”`);
  return q;
}

async function ask(page: Page, text: string): Promise<void> {
  await page.getByTestId('qa-panel').waitFor();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="qa-panel"]')?.getAttribute('data-connected') === 'true',
  );
  await page.getByTestId('qa-ask-input').fill(text);
  await page.getByTestId('qa-ask-submit').click();
  await page.locator('[data-testid="qa-text"]', { hasText: text }).waitFor({ timeout: 15_000 });
}

describe('Q&A beside a lesson on TV: the box shows a code, a phone claims it and asks with the TV’s moment', () => {
  before(async () => {
    assert.ok(
      existsSync(join(TV_UI_DIR, 'index.html')),
      'build the web client first: npm run build -w web-client',
    );
    mkdirSync(SHOTS, { recursive: true });
    stack = await startTvStack({ plan, apiEnv: { WEB_DIST_DIR }, gatewayEnv: { TV_UI_DIR } });
    ({ api, base, web } = stack);
    secondStudent = `student-2.${api.prefix}`;
    await api.app.services.users.create({
      username: secondStudent,
      password: PASSWORD,
      displayName: '李小红',
      role: 'student',
      grade: 'p1',
    });

    const term = Date.parse(`${TERM_START}T00:00:00+08:00`) / 1000;
    const guide = await stack.gateway.channels.guide(term, term + 7 * 86400, 'tv-p1');
    const first = guide[0];
    assert.ok(first, 'tv-p1 has programmes');
    onAir = first;
    stack.shift = Date.parse(onAir.start) / 1000 + INTO_PROGRAMME_SEC - Date.now() / 1000;

    // The family pairs the box (RFC 8628 through the gateway, as the /pair page does).
    const family = await actorOf(api, 'family');
    const codeRes = await fetch(`${base}/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '客厅电视' }),
    });
    const code = (await codeRes.json()) as { device_code: string; user_code: string };
    const approved = await fetch(`${base}/device/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.tokens.family}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_code: code.user_code }),
    });
    assert.equal(approved.status, 200, await approved.text());
    const tokenRes = await fetch(`${base}/device/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: code.device_code,
      }),
    });
    const paired = (await tokenRes.json()) as DeviceTokenResponse;
    assert.equal(paired.device.householdId, family.sub);
    assert.equal(paired.device.householdRole, 'family');

    browser = await launchChromium();
    tv = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await tv.addInitScript(
      (saved) => localStorage.setItem('sky.tv.device', saved),
      JSON.stringify({
        token: paired.access_token,
        device: paired.device,
      }),
    );
  });

  after(async () => {
    await browser?.dispose();
    await stack?.close();
  });

  test('a box that is not paired gets no code from the gateway', async () => {
    const res = await fetch(`${base}/device/qa/pairing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'vod', lessonId: stack.lessonId }),
    });
    assert.equal(res.status, 401);
    const forged = await fetch(`${base}/device/qa/pairing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.tokens.family}` },
      body: JSON.stringify({ kind: 'vod', lessonId: stack.lessonId }),
    });
    assert.equal(forged.status, 401, 'a user token is not a device token');
  });

  test('on a channel: the player shows the code and a QR; a phone claims it and asks with the live offset; a second phone is refused', async () => {
    await tv.goto(`${base}/`);
    await waitScreen(tv, 'home');
    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    assert.equal(await tv.getByTestId('player').getAttribute('data-kind'), 'live');
    const { code, qr, digits } = await shownCode(tv);
    assert.match(code, /^\d{6}$/);
    assert.equal(qr, `${web}/qa/tv/${code}`);
    assert.equal(digits.replace(/\s/g, ''), code);
    assert.match(await tv.getByTestId('qa').innerText(), /扫码提问/);
    // the code takes no focus: the remote's keys stay with the player
    assert.equal(
      await tv.evaluate(() => document.querySelector('.tv-qa')?.contains(document.activeElement)),
      false,
    );
    await tv.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) > 2,
      null,
      { timeout: 30_000 },
    );
    await press(tv, 'Enter');
    assert.match(
      (await tv.getByTestId('infobar').getAttribute('class')) ?? '',
      /is-shown/,
      'OK still reaches the player',
    );
    await tv.waitForTimeout(400);
    await tv.screenshot({ path: join(SHOTS, 'tv-live.png') });

    const a = await phone(`student.${api.prefix}`, qr);
    await a.getByTestId('tvqa-room').waitFor({ timeout: 15_000 });
    assert.equal(await a.getByTestId('tvqa-room').getAttribute('data-lesson'), stack.lessonId);
    await a.waitForFunction(
      () =>
        /电视正在直播 · \d\d:\d\d/.test(document.querySelector('[data-testid="tvqa-tv"]')?.textContent ?? ''),
      null,
      { timeout: 20_000 },
    );
    const text = '时针和分针怎么分？';
    const gatewayNow = Date.now() / 1000 + stack.shift;
    await ask(a, text);
    await a.screenshot({ path: join(SHOTS, 'phone-asked.zh-CN.png'), fullPage: true });

    const q = await teacherSees(text);
    assert.equal(q.position, undefined);
    assert.ok(q.liveOffset !== undefined, 'the question carries the live offset');
    // the box plays some 20 s behind the channel's edge (3 segments of 6 s, and its buffer)
    const edge = gatewayNow - Date.parse(onAir.start) / 1000;
    assert.ok(
      q.liveOffset <= edge + 1 && q.liveOffset >= edge - 40,
      `liveOffset ${q.liveOffset} s: the programme's second on the TV (its edge is at ${edge.toFixed(1)} s)`,
    );

    // the teacher's page shows it with that moment
    const teacher = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    await teacher.goto(`${web}/login`);
    await teacher.getByTestId('login-username').fill(`teacher.${api.prefix}`);
    await teacher.getByTestId('login-password').fill(PASSWORD);
    await teacher.getByTestId('login-submit').click();
    await teacher.waitForURL((u) => !u.pathname.startsWith('/login'));
    await teacher.goto(`${web}/lessons/${stack.lessonId}`);
    const mm = String(Math.floor(q.liveOffset / 60)).padStart(2, '0');
    const ss = String(Math.floor(q.liveOffset % 60)).padStart(2, '0');
    await teacher
      .locator('[data-testid="qa-question"]', { hasText: text })
      .filter({ hasText: `${mm}:${ss}` })
      .waitFor({ timeout: 15_000 });
    await teacher.close();

    // the same phone again (a reload) keeps the room; another phone is refused, in Chinese
    await a.reload();
    await a.getByTestId('tvqa-room').waitFor({ timeout: 15_000 });
    const b = await phone(secondStudent, qr);
    await b.getByTestId('tvqa-error').waitFor({ timeout: 15_000 });
    assert.match(await b.getByTestId('tvqa-error').innerText(), /已被另一部手机使用/);
    assert.equal(await b.getByTestId('tvqa-room').count(), 0);
    await b.screenshot({ path: join(SHOTS, 'phone-refused.zh-CN.png'), fullPage: true });
    await b.context().close();
    await a.context().close();
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
  });

  test('on demand: the code of that lesson, typed on the phone; a question carries the position the TV is at, after a seek', async () => {
    // the phone refused before (a room allows one question per person every 10 s: another person),
    // signed in already, on the page where a code is typed
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const p = await ctx.newPage();
    await p.goto(`${web}/login`);
    await p.getByTestId('login-username').fill(secondStudent);
    await p.getByTestId('login-password').fill(PASSWORD);
    await p.getByTestId('login-submit').click();
    await p.waitForURL((u) => !u.pathname.startsWith('/login'));
    await p.goto(`${web}/qa/tv`);

    await press(tv, 'ArrowUp');
    await press(tv, 'ArrowRight');
    await press(tv, 'Enter');
    await waitScreen(tv, 'ondemand');
    await press(tv, 'Enter');
    await tv.getByTestId('subject-数学').waitFor();
    await press(tv, 'Enter');
    await tv.locator('.lesson-row').first().waitFor();
    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    assert.equal(await tv.getByTestId('player').getAttribute('data-kind'), 'vod');
    const { qr, digits } = await shownCode(tv);
    await tv.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) > 1,
      null,
      { timeout: 30_000 },
    );
    // Right: 10 s on; the TV tells the api at once
    await press(tv, 'ArrowRight');
    await tv.waitForTimeout(400);
    await tv.screenshot({ path: join(SHOTS, 'tv-vod.png') });

    await p.getByTestId('tvqa-code').fill(digits);
    await p.screenshot({ path: join(SHOTS, 'phone-enter-code.zh-CN.png'), fullPage: true });
    await p.getByTestId('tvqa-submit').click();
    await p.getByTestId('tvqa-room').waitFor({ timeout: 15_000 });
    assert.equal(new URL(p.url()).pathname, new URL(qr).pathname, 'the typed code leads where the QR does');
    await p.waitForFunction(
      () =>
        /电视正在播放 · \d\d:\d\d/.test(document.querySelector('[data-testid="tvqa-tv"]')?.textContent ?? ''),
      null,
      { timeout: 20_000 },
    );
    await p.getByTestId('qa-panel').waitFor();
    await p.waitForFunction(
      () => document.querySelector('[data-testid="qa-panel"]')?.getAttribute('data-connected') === 'true',
    );
    const text = '分针走一圈是多久？';
    await p.getByTestId('qa-ask-input').fill(text);
    await p.getByTestId('qa-ask-submit').click();
    const onTv = await currentTime(tv);
    await p.locator('[data-testid="qa-text"]', { hasText: text }).waitFor({ timeout: 15_000 });
    await p.screenshot({ path: join(SHOTS, 'phone-vod.zh-CN.png'), fullPage: true });
    const q = await teacherSees(text);
    assert.equal(q.liveOffset, undefined);
    assert.ok(q.position !== undefined, 'the question carries the position');
    assert.ok(Math.abs(q.position - onTv) <= 2, `position ${q.position} s, the TV at ${onTv.toFixed(2)} s`);
    assert.ok(q.position >= 10, 'after the 10 s seek');
    await ctx.close();
  });
});
