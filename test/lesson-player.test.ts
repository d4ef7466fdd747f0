// The lesson player's own controls (issue 17): one seek bar (the video has no native controls besides it),
// which a click, a drag or the arrow keys move; play, volume with mute, full screen; in Chinese and
// English, on a desktop and on a phone. A real 30-s HLS ladder from ffmpeg, served by the real api.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { addPlayableLesson } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = '/tmp/shots-web';

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let lessonId: string;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  api = await startTestApi({ WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  lessonId = (await addPlayableLesson(api, { title: '认识钟表', grade: 'p3', subject: '数学' })).id;
  browser = await launchChromium();
});
after(async () => {
  await browser?.dispose();
  await api?.close();
});

async function lessonPage(lang: 'zh-CN' | 'en', viewport = { width: 1280, height: 720 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.addInitScript((l) => localStorage.setItem('sky.lang', l), lang);
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(`student.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.goto(`${base}/lessons/${lessonId}`);
  await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('#player')?.duration ?? 0) > 20);
  return page;
}

const video = <T>(page: Page, read: (v: HTMLVideoElement) => T) => page.locator('#player').evaluate(read);

test('one seek bar: the video has no native controls, the player’s own bar seeks by click, drag and keys', async () => {
  const page = await lessonPage('zh-CN');
  assert.equal(
    await video(page, (v) => v.controls),
    false,
    'no native controls (their seek bar was the second)',
  );
  assert.equal(await page.getByRole('slider', { name: '播放进度' }).count(), 1);
  const bar = page.getByTestId('seek-bar');
  const box = (await bar.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.waitForFunction(
    () => Math.abs(document.querySelector<HTMLVideoElement>('#player')!.currentTime - 15) < 1.5,
  );
  // a drag from a quarter to three quarters ends there
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(
    () => Math.abs(document.querySelector<HTMLVideoElement>('#player')!.currentTime - 22.5) < 1.5,
  );
  const before = await video(page, (v) => v.currentTime);
  await bar.focus();
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(
    (t) => Math.abs(document.querySelector<HTMLVideoElement>('#player')!.currentTime - (t - 5)) < 0.5,
    before,
  );
  assert.match((await bar.getAttribute('aria-valuetext')) ?? '', /^0:1\d \/ 0:30$/);
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#player')!.currentTime < 0.5);
  await page.close();
});

test('the lesson starts on a light rung and climbs: its first frame does not wait for a 720p segment', async () => {
  const page = await lessonPage('zh-CN');
  await page.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('#player')?.readyState ?? 0) >= 2,
  );
  const first = await video(page, (v) => v.videoHeight);
  assert.ok(first > 0 && first <= 360, `the first frame is ${first} lines high`);
  await page.close();
});

test('play, volume, mute and full screen from the bar', async () => {
  const page = await lessonPage('zh-CN');
  await page.getByRole('button', { name: '播放', exact: true }).click();
  await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#player')!.currentTime > 1);
  await page.getByRole('button', { name: '暂停' }).click();
  assert.equal(await video(page, (v) => v.paused), true);
  await page.getByTestId('volume').fill('0.3');
  assert.ok(Math.abs((await video(page, (v) => v.volume)) - 0.3) < 0.01);
  await page.getByRole('button', { name: '静音' }).click();
  assert.equal(await video(page, (v) => v.muted), true);
  await page.getByRole('button', { name: '取消静音' }).click();
  assert.equal(await video(page, (v) => v.muted), false);
  await page.screenshot({ path: join(SHOTS, 'lesson.desktop.zh-CN.png') });
  await page.getByRole('button', { name: '全屏' }).click();
  await page.waitForFunction(() => document.fullscreenElement?.classList.contains('player-box') === true);
  // in full screen the bar is still there, at the bottom of the screen
  const barBox = (await page.locator('.player-bar').boundingBox())!;
  assert.ok(barBox.y + barBox.height <= 720 + 1 && barBox.y > 600, `the bar at the bottom (${barBox.y})`);
  await page.screenshot({ path: join(SHOTS, 'lesson-fullscreen.desktop.zh-CN.png') });
  await page.getByRole('button', { name: '退出全屏' }).click();
  await page.waitForFunction(() => document.fullscreenElement === null);
  await page.close();
});

test('the lesson page in English and on a phone', async () => {
  for (const lang of ['en', 'zh-CN'] as const) {
    const phone = await lessonPage(lang, { width: 390, height: 844 });
    await phone.screenshot({ path: join(SHOTS, `lesson.phone.${lang}.png`) });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `fits the phone (${overflow}px over)`);
    // the seek bar keeps room beside the buttons
    const seek = (await phone.getByTestId('seek-bar').boundingBox())!.width;
    assert.ok(seek > 120, `the seek bar is ${seek}px wide`);
    await phone.close();
  }
  const page = await lessonPage('en');
  await page.getByRole('slider', { name: 'Position' }).waitFor();
  await page.getByRole('button', { name: 'Full screen' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'lesson.desktop.en.png') });
  await page.close();
});
