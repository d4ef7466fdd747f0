// Every page of the web shell, for every role, in Chinese (default) and English: it renders what that
// user needs, and a screenshot of each lands in test-results/ to be looked at.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Role } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { actorOf } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results', 'pages');

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  api = await startTestApi({ WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  // Lessons in several states, so the teacher and analyst pages have something to show.
  const teacher = await api.app.http.inject({
    url: '/api/me',
    headers: { authorization: `Bearer ${api.tokens.teacher}` },
  });
  const actor = { sub: teacher.json<{ id: string }>().id, role: 'teacher' as const, typ: 'access' as const };
  await api.app.services.lessons.create(actor, { title: '分数的初步认识', grade: 'p3', subject: '数学' });
  const failed = await api.app.services.lessons.create(actor, {
    title: '古诗二首',
    grade: 'p3',
    subject: '语文',
  });
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'failed',
    lessonId: failed.id,
    code: 'NOT_MEDIA',
    reason: 'not a readable media file (Invalid data found when processing input)',
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await api?.close();
});

/** Waits until <main> shows text matching `re` (the page renders after its data arrives). */
async function mainShows(page: Page, re: RegExp): Promise<string> {
  await page.waitForFunction(
    ([source, flags]) => new RegExp(source!, flags).test(document.querySelector('main')?.innerText ?? ''),
    [re.source, re.flags],
    { timeout: 15_000 },
  );
  return page.locator('main').innerText();
}

async function loginAs(page: Page, role: Role): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(`${role}.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

test('the login page speaks Chinese first and shows a wrong password as a message', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login/);
  assert.match(await page.content(), /空中课堂/);
  assert.match(await page.locator('body').innerText(), /登录/);
  await page.screenshot({ path: join(SHOTS, 'login.zh-CN.png') });
  await page.getByTestId('login-username').fill(`student.${api.prefix}`);
  await page.getByTestId('login-password').fill('wrong password');
  await page.getByTestId('login-submit').click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /用户名或密码错误/);
  await page.screenshot({ path: join(SHOTS, 'login-error.zh-CN.png') });
  await page.close();
});

const HOME_TEXT: Record<Role, RegExp> = {
  student: /我的课程/,
  family: /年级/,
  teacher: /古诗二首/,
  analyst: /课程/,
  admin: /用户/,
};

for (const role of Object.keys(HOME_TEXT) as Role[]) {
  test(`a ${role} lands on their own home page`, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await loginAs(page, role);
    assert.match(await mainShows(page, HOME_TEXT[role]), HOME_TEXT[role]);
    await page.screenshot({ path: join(SHOTS, `home-${role}.zh-CN.png`), fullPage: true });
    await page.close();
  });
}

test('the teacher sees why a lesson failed; English works too', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await loginAs(page, 'teacher');
  assert.match(await mainShows(page, /这不是可识别的视频或音频文件/), /失败/);
  await page
    .getByRole('button', { name: /English|EN/ })
    .first()
    .click();
  assert.match(await mainShows(page, /My lessons/), /This is not a video or audio file we can read/);
  await page.screenshot({ path: join(SHOTS, 'home-teacher.en.png'), fullPage: true });
  await page.close();
});

test('the status page shows each service, red when it is down', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/status`);
  await page.getByTestId('status-card').first().waitFor();
  const cards = page.getByTestId('status-card');
  assert.equal(await cards.count(), 5);
  // Only the api runs in this test: it is up, the other four are not.
  assert.equal(await page.locator('[data-testid="status-card"][data-ok="true"]').count(), 1);
  await page.screenshot({ path: join(SHOTS, 'status.zh-CN.png'), fullPage: true });
  await page.close();
});

test('the pages fit a phone', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
  await loginAs(page, 'student');
  await mainShows(page, /我的课程/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
  await page.screenshot({ path: join(SHOTS, 'home-student.phone.png'), fullPage: true });
  await page.close();
});

test('a teacher uploads a video from the browser; a text file renamed .mp4 is refused in Chinese', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { generateSampleVideo } = await import('@sky/devkit');
  const dir = mkdtempSync(join(tmpdir(), 'sky-web-upload-'));
  writeFileSync(join(dir, 'notes.mp4'), '这不是视频\n'.repeat(200));
  const video = await generateSampleVideo(join(dir, 'lesson.mp4'), {
    seconds: 6,
    width: 640,
    height: 360,
    fps: 25,
  });

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await loginAs(page, 'teacher');
  await mainShows(page, /分数的初步认识/);
  const draft = page.locator('.lesson-item').filter({ hasText: '分数的初步认识' });
  await draft.getByTestId('upload-input').setInputFiles(join(dir, 'notes.mp4'));
  await mainShows(page, /这不是可识别的视频或音频文件/);
  await page.screenshot({ path: join(SHOTS, 'teacher-upload-refused.zh-CN.png'), fullPage: true });

  const again = page.locator('.lesson-item').filter({ hasText: '分数的初步认识' });
  await again.getByTestId('upload-input').setInputFiles(video);
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('.lesson-item')].some(
        (e) => e.textContent?.includes('分数的初步认识') && e.textContent.includes('转码中'),
      ),
    undefined,
    { timeout: 20_000 },
  );
  await page.screenshot({ path: join(SHOTS, 'teacher-upload-processing.zh-CN.png'), fullPage: true });
  await page.close();
});

test('a student browses grade → subject → unit', async () => {
  const actor = await actorOf(api, 'teacher');
  for (const [title, unit] of [
    ['小数的意义', '第四单元'],
    ['小数的性质', '第四单元'],
    ['三角形的分类', '第五单元'],
  ] as const) {
    const l = await api.app.services.lessons.create(actor, { title, grade: 'p3', subject: '数学', unit });
    await api.app.services.lessons.applyTranscodeResult({
      outcome: 'ready',
      lessonId: l.id,
      master: `lessons/${l.id}/v1/web/master.m3u8`,
      tvMaster: `lessons/${l.id}/v1/tv/master.m3u8`,
      durationSec: 60,
    });
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await loginAs(page, 'student');
  await page.getByRole('button', { name: '数学', exact: true }).click();
  const chips = page.getByTestId('unit-chips');
  await chips.waitFor();
  assert.deepEqual(await chips.getByRole('button').allInnerTexts(), ['全部单元', '第四单元', '第五单元']);
  await chips.getByRole('button', { name: '第五单元' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="lesson-card"]').length === 1);
  assert.match(await page.getByTestId('lesson-card').innerText(), /三角形的分类/);
  await page.screenshot({ path: join(SHOTS, 'student-units.zh-CN.png') });
  await page.close();
});
