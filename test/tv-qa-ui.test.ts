// Q&A beside a lesson on TV, end to end in Chromium: a paired box plays a channel and an on-demand lesson
// and shows the lesson's code and a QR of the phone page; a signed-in phone opens that page, claims the
// code and asks; the teacher sees the question with the moment the TV was showing; a second phone is
// refused. A real api, curriculum and gateway (test/tv-stack.ts); screenshots in test-results/tv-qa/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type {
  DeviceTokenResponse,
  GuideProgramme,
  Problem,
  Question,
  QuestionPage,
  TvQaPairing,
} from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, type TestApi } from '../api/test/helpers.js';
import { actorOf } from './fixtures.js';
import { p1MathPlan, startTvStack, type TvStack } from './tv-stack.js';
import { tvRemote } from './tv-remote.js';

const ROOT = join(import.meta.dirname, '..');
const TV_UI_DIR = join(ROOT, 'web-client', 'dist', 'tv');
const WEB_DIST_DIR = join(ROOT, 'web-client', 'dist');
const SHOTS = join(ROOT, 'test-results', 'tv-qa');
const TERM_START = '2026-11-23'; // a Monday (p1MathPlan's week)
/**
 * The gateway's clock starts this far into a programme: the box, two 6-second ticks and its buffer behind
 * the edge, plays the 30 s lesson from about its 10th second.
 */
const INTO_PROGRAMME_SEC = 24;

let stack: TvStack;
let api: TestApi;
let base: string;
let web: string;
let browser: Browser & { dispose(): Promise<void> };
let tv: Page;
let onAir: GuideProgramme;
let secondStudent: string;

const plan = (vodLessonId: string) =>
  p1MathPlan(
    vodLessonId,
    Array.from({ length: 5 }, (_, i) => `认识钟表（${i + 1}）`),
  );

/** A box paired by the account of `userToken` (RFC 8628 through the gateway, as the /pair page does). */
async function pairBox(userToken: string): Promise<DeviceTokenResponse> {
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const code = (await (await post('/device/code', { name: '客厅电视' })).json()) as {
    device_code: string;
    user_code: string;
  };
  const approved = await post('/device/approve', { user_code: code.user_code }, userToken);
  assert.equal(approved.status, 200, await approved.text());
  const token = await post('/device/token', {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code: code.device_code,
  });
  assert.equal(token.status, 200);
  return (await token.json()) as DeviceTokenResponse;
}

/** The gateway's Q&A routes as a box calls them. */
const boxCall = (token: string | undefined, method: 'POST' | 'PUT', path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

const { press, waitScreen } = tvRemote({ shots: SHOTS });
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

/** Signs in on the login page the browser is on (it then goes where it was headed). */
async function signIn(page: Page, username: string): Promise<void> {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
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
  await signIn(page, username);
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

    const family = await actorOf(api, 'family');
    const paired = await pairBox(api.tokens.family);
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

  test('the gateway asks the api as the box’s household; the api’s refusals come back as they are', async () => {
    const vod = { kind: 'vod', lessonId: stack.lessonId };
    assert.equal((await boxCall(undefined, 'POST', '/device/qa/pairing', vod)).status, 401, 'not paired');
    assert.equal(
      (await boxCall(api.tokens.family, 'POST', '/device/qa/pairing', vod)).status,
      401,
      'a user token is not a device token',
    );
    // a student's own box: the api takes the household for the student it is
    const student = await pairBox(api.tokens.student);
    assert.equal(student.device.householdRole, 'student');
    const made = await boxCall(student.access_token, 'POST', '/device/qa/pairing', vod);
    const madeBody = await made.text();
    assert.equal(made.status, 201, madeBody);
    const pairing = JSON.parse(madeBody) as TvQaPairing;
    assert.equal(pairing.lessonId, stack.lessonId);
    assert.equal(pairing.url, `${web}/qa/tv/${pairing.code}`);
    const report = (token: string, body: unknown) =>
      boxCall(token, 'PUT', `/device/qa/pairing/${pairing.code}/playback`, body);
    const reported = await report(student.access_token, { position: 3, playing: true });
    assert.equal(reported.status, 200);
    assert.deepEqual(await reported.json(), { claimed: false });
    // another household's box cannot move this code's moment (the api's 403, passed on)
    const other = await pairBox(api.tokens.family);
    const refused = await report(other.access_token, { position: 3, playing: true });
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as Problem).detail, /only the TV that made this code/);
    assert.equal((await report(student.access_token, { playing: true })).status, 400, 'a moment is needed');

    const missing = await boxCall(student.access_token, 'POST', '/device/qa/pairing', {
      kind: 'vod',
      lessonId: 'ffffffffffffffffffffffff',
    });
    assert.equal(missing.status, 404, 'no such lesson in the api');
    // a programme is the recording it airs; one that is not on the channel has no room
    const programme = { kind: 'programme', channelId: 'tv-p1', lessonId: onAir.lessonId, start: onAir.start };
    const aired = await boxCall(student.access_token, 'POST', '/device/qa/pairing', programme);
    assert.equal(aired.status, 201);
    assert.equal(((await aired.json()) as TvQaPairing).lessonId, stack.lessonId);
    const later = new Date(Date.parse(onAir.start) + 60_000).toISOString();
    const notOnAir = await boxCall(student.access_token, 'POST', '/device/qa/pairing', {
      ...programme,
      start: later,
    });
    assert.equal(notOnAir.status, 404);
  });

  test('on a channel: the player shows the code and a QR; a phone claims it and asks with the live offset; a second phone is refused', async (t) => {
    await tv.goto(`${base}/`);
    // a cold browser on a loaded machine: the first screen may take a while
    await waitScreen(tv, 'home', 30_000);
    // until the channels have come, the menu's first item (the guide) has the focus, and OK opens it
    await tv.waitForFunction(
      () => document.activeElement?.getAttribute('data-focus-key')?.startsWith('channel:') === true,
      null,
      { timeout: 30_000 },
    );
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
    const claimedAt = Date.now();
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
    // the box plays two 6-second ticks behind the newest one listed, and its buffer
    const edge = gatewayNow - Date.parse(onAir.start) / 1000;
    t.diagnostic(
      `liveOffset ${q.liveOffset} s; the channel's edge at ${edge.toFixed(1)} s into the programme`,
    );
    assert.ok(
      q.liveOffset <= edge + 1 && q.liveOffset >= edge - 30,
      `liveOffset ${q.liveOffset} s: the programme's second on the TV (its edge is at ${edge.toFixed(1)} s)`,
    );

    // the teacher's page shows it with that moment
    const teacher = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    await teacher.goto(`${web}/login`);
    await signIn(teacher, `teacher.${api.prefix}`);
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

    // one code, one phone: within half a minute the TV hears that a phone holds its code and shows a new
    // one for the next phone, which joins the same room with it
    await tv.waitForFunction(
      (old) => {
        const el = document.querySelector('[data-testid="qa"]');
        return !!el?.getAttribute('data-code') && el.getAttribute('data-code') !== old;
      },
      code,
      { timeout: 40_000 },
    );
    const rotatedAfter = (Date.now() - claimedAt) / 1000;
    t.diagnostic(`the TV showed a new code ${rotatedAfter.toFixed(1)} s after a phone claimed the first`);
    assert.ok(rotatedAfter <= 35, `a new code ${rotatedAfter.toFixed(1)} s after the claim`);
    assert.equal(await tv.getByTestId('qa').getAttribute('data-phones'), '1');
    assert.match(await tv.getByTestId('qa-phones').innerText(), /已有 1 部手机在提问/);
    await tv.screenshot({ path: join(SHOTS, 'tv-live-next-code.png') });
    const next = await shownCode(tv);
    assert.notEqual(next.code, code);
    await b.goto(next.qr);
    await b.getByTestId('tvqa-room').waitFor({ timeout: 15_000 });
    assert.equal(await b.getByTestId('tvqa-room').getAttribute('data-lesson'), stack.lessonId);
    await b.context().close();
    await a.context().close();
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
  });

  test('on demand: the code of that lesson, typed on the phone; a question carries the position the TV is at, after a seek', async (t) => {
    // the phone refused before (a room allows one question per person every 10 s: another person),
    // signed in already, on the page where a code is typed
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const p = await ctx.newPage();
    await p.goto(`${web}/login`);
    await signIn(p, secondStudent);
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
    t.diagnostic(`position ${q.position} s; the TV's video at ${onTv.toFixed(2)} s`);
    assert.ok(Math.abs(q.position - onTv) <= 2, `position ${q.position} s, the TV at ${onTv.toFixed(2)} s`);
    assert.ok(q.position >= 10, 'after the 10 s seek');
    await ctx.close();
  });
});
