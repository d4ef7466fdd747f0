// A family's home on the web (issue 17), in Chromium, in Chinese and in English, on a real api, curriculum
// service and TV gateway: a family without a grade is asked its child's grade first, the choice is kept by
// the account (a reload, another sign-in), and the home then shows the grade's day — the lesson airing now,
// leading to its recording and to the grade's channel, and a lesson a teacher is teaching live, leading to
// the live page — with the family's TVs below. Today's timetable is built around the machine's clock (Beijing
// time): the recorded lesson's slot began a minute ago, the live one is the next slot (or, in the last hours
// before midnight, the one before). Screenshots at 1280×720 and 390×844 land in SHOTS_DIR (test-results/manage).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { beijingToday, type Lesson, type Plan, type PublicUser } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD } from '../api/test/helpers.js';
import { actorOf, dayTerm } from './fixtures.js';
import { boxAsksForCode, boxPicksUpToken, startTvStack, type TvStack } from './tv-stack.js';
import { LANGS, newContext, shooter, signIn as signInAt, type Lang } from './web-ui.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = process.env['SHOTS_DIR'] ?? join(ROOT, 'test-results', 'manage');
const RECORDED_TITLE = '认识钟表';
const LIVE_TITLE = '认识时间（直播）';
const LESSON_MIN = 30;

// ---- Today's timetable around the machine's clock, in Beijing minutes of the day
const today = beijingToday();
const nowMin = Math.floor(((Date.now() / 60_000 + 8 * 60) % 1440) + 1440) % 1440;
const nowSlot = Math.max(0, nowMin - 1);
const later = nowSlot + 40 + LESSON_MIN < 1440;
const liveSlot = later ? nowSlot + 40 : nowSlot - 40;
const clock = (min: number) =>
  `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

function planOf(vodLessonId: string, liveId: string): Plan {
  const slots = [nowSlot, liveSlot].sort((a, b) => a - b).map(clock);
  const rules = { slots, maxDaily: 2, lessonMinutes: LESSON_MIN };
  const lesson = (i: number, title: string, recording: 'ready' | 'live', vod: string) => ({
    id: `p1-math-${i}`,
    title,
    grade: 'p1' as const,
    subject: 'math',
    unit: '第一单元',
    order: i,
    durationMin: LESSON_MIN,
    teacherId: 't-p1',
    recording,
    vodLessonId: vod,
  });
  // in slot order: the scheduler places lessons of a subject in their order
  const lessons = later
    ? [lesson(1, RECORDED_TITLE, 'ready', vodLessonId), lesson(2, LIVE_TITLE, 'live', liveId)]
    : [lesson(1, LIVE_TITLE, 'live', liveId), lesson(2, RECORDED_TITLE, 'ready', vodLessonId)];
  return {
    term: dayTerm(rules, today),
    subjects: [{ code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 3, core: true }],
    teachers: [{ id: 't-p1', name: '王老师', subjects: ['math'], grades: ['p1'], unavailable: [] }],
    channels: [
      { id: 'tv-p1', kind: 'tv', number: 1, zh: '空中课堂 一年级', en: 'Sky Classroom P1', grades: ['p1'] },
    ],
    lessons,
  };
}

let stack: TvStack;
let browser: Browser & { dispose(): Promise<void> };
let liveLesson: Lesson;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startTvStack({
    apiEnv: { WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') },
    plan: async (vodLessonId, api) => {
      liveLesson = await api.app.services.lessons.create(await actorOf(api, 'teacher'), {
        title: LIVE_TITLE,
        grade: 'p1',
        subject: '数学',
      });
      return planOf(vodLessonId, liveLesson.id);
    },
  });
  // the teacher goes live (what the studio's "go live" asks of the api)
  const started = await stack.api.app.http.inject({
    method: 'POST',
    url: `/api/lessons/${liveLesson.id}/live`,
    headers: { authorization: `Bearer ${stack.api.tokens.teacher}` },
  });
  assert.equal(started.statusCode, 201, started.body);
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await stack?.close();
});

async function signIn(lang: Lang, username: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await newContext(browser, lang);
  return { ctx, page: await signInAt(ctx, stack.web, username) };
}

const shoot = shooter(SHOTS);

const TEXT = {
  'zh-CN': {
    ask: /孩子在几年级/,
    childIn: '孩子在一年级',
    onNow: /正在播出/,
    accountGrade: /^一年级 · 在首页更改$/,
  },
  en: {
    ask: /Which grade is your child in/,
    childIn: 'Your child is in Primary 1',
    onNow: /On now/,
    accountGrade: /^Primary 1 · Change it on the home page$/,
  },
} as const;

const escape = (s: string) => s.replace(/[()（）]/g, '.');

for (const lang of LANGS) {
  test(`[${lang}] a family chooses its child’s grade once, then sees the lesson on now and the live lesson, and reaches them`, async () => {
    const text = TEXT[lang];
    const family: PublicUser = await stack.api.app.services.users.create({
      username: `home-${lang.toLowerCase()}.${stack.api.prefix}`,
      password: PASSWORD,
      displayName: lang === 'en' ? 'The Chens' : '陈家',
      role: 'family',
    });
    const { ctx, page } = await signIn(lang, family.username);

    // No grade yet: asked first; the TVs are there already, the day is not.
    const choice = page.getByTestId('family-grade-choice');
    await choice.getByText(text.ask).waitFor({ timeout: 15_000 });
    await page.getByTestId('my-tvs').waitFor();
    assert.equal(await page.getByTestId('today').count(), 0);
    await shoot(page, 'family-home-choose-grade', lang);
    await choice.getByTestId('family-grade-p1').click();
    await choice.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('family-grade').innerText(), text.childIn);

    // The grade's day: the live lesson, found by itself, and today's lessons with the one on now.
    const item = page.locator(`[data-testid="live-now-item"][data-lesson="${liveLesson.id}"]`);
    await item.waitFor({ timeout: 20_000 });
    assert.match(await item.innerText(), new RegExp(escape(LIVE_TITLE)));
    const now = page.locator('[data-testid="today-slot"][data-now="true"]');
    await now.waitFor({ timeout: 20_000 });
    assert.equal(await now.getAttribute('data-action'), 'recording');
    assert.match(await now.innerText(), new RegExp(RECORDED_TITLE));
    assert.match(await now.innerText(), text.onNow);
    const liveSlotRow = page.locator(`[data-testid="today-slot"][data-lesson="p1-math-${later ? 2 : 1}"]`);
    assert.match(await liveSlotRow.innerText(), new RegExp(escape(LIVE_TITLE)));
    await shoot(page, 'family-home-day', lang, page.getByTestId('today'));
    await shoot(page, 'family-home-tvs', lang, page.getByTestId('my-tvs'));

    // Kept by the account: a reload, and a new sign-in elsewhere, know the grade.
    await page.reload();
    await page.getByTestId('family-grade').waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('family-grade-choice').count(), 0);
    const other = await signIn(lang, family.username);
    assert.equal(await other.page.getByTestId('family-grade').innerText(), text.childIn);
    await other.ctx.close();

    // The lesson on now → its recording; the grade's channel; the live lesson → its live page.
    await now.getByTestId('today-watch').click();
    await page.waitForURL(`**/lessons/${stack.lessonId}`);
    await page.locator('video#player').waitFor();
    await page.goBack();
    await page.locator('[data-testid="today-slot"][data-now="true"]').getByTestId('today-channel').click();
    await page.waitForURL('**/channels/tv-p1');
    const onNow = page.getByTestId('channel-on-now');
    await onNow.waitFor({ timeout: 20_000 });
    assert.match(await onNow.innerText(), new RegExp(RECORDED_TITLE));
    await page.goBack();
    await item.getByTestId('live-now-join').click();
    await page.waitForURL(`**/live/${liveLesson.id}`);

    // The account page says the child's grade too, and where to change it.
    await page.goto(`${stack.web}/account`);
    const grade = page.getByTestId('account-grade');
    await grade.waitFor({ timeout: 15_000 });
    assert.match(await grade.innerText(), text.accountGrade);
    await shoot(page, 'family-account', lang);
    await ctx.close();
  });
}

test('a family changes its child’s grade: the home follows, and so does the next sign-in', async () => {
  const family = await stack.api.app.services.users.create({
    username: `home-change.${stack.api.prefix}`,
    password: PASSWORD,
    displayName: '李家',
    role: 'family',
    grade: 'p1',
  });
  const { ctx, page } = await signIn('zh-CN', family.username);
  await page.getByTestId('family-grade').waitFor({ timeout: 15_000 });
  await page.getByTestId('live-now-item').waitFor({ timeout: 20_000 });
  await page.getByTestId('family-change-grade').click();
  const choice = page.getByTestId('family-grade-choice');
  assert.equal(await choice.getByTestId('family-grade-p1').getAttribute('aria-pressed'), 'true');
  await shoot(page, 'family-home-change-grade', 'zh-CN', choice);
  await choice.getByTestId('family-grade-j2').click();
  await choice.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('family-grade').innerText(), '孩子在初二');
  await page.locator('[data-testid="live-now"][data-count="0"]').waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('live-now').innerText(), /初二现在没有直播课/);

  // A TV paired from this page now carries the new grade (the session was renewed to say it).
  const code = await boxAsksForCode(stack.base);
  await page.getByTestId('pair-link').click();
  await page.waitForURL(/\/pair$/);
  await page.getByTestId('pair-code').fill(code.user_code);
  await page.getByTestId('pair-submit').click();
  await page.getByTestId('pair-done').waitFor({ timeout: 15_000 });
  const box = await boxPicksUpToken(stack.base, code);
  assert.deepEqual(box.device.grades, ['j2'], 'the box carries the child’s grade');
  assert.equal(box.device.householdRole, 'family');
  await ctx.close();
  const again = await signIn('zh-CN', family.username);
  assert.equal(await again.page.getByTestId('family-grade').innerText(), '孩子在初二');
  await again.ctx.close();
});
