// Resume where you stopped, on any browser of yours: the position is kept per signed-in user on the
// server. The same student in a fresh browser resumes there; another student starts at the beginning.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { addPlayableLesson } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let lessonId: string;
let other: string;

before(async () => {
  api = await startTestApi({ WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  lessonId = (await addPlayableLesson(api, { title: '认识钟表', grade: 'p3', subject: '数学' })).id;
  other = `student-b.${api.prefix}`;
  await api.app.services.users.create({
    username: other,
    password: PASSWORD,
    displayName: '李小红',
    role: 'student',
    grade: 'p3',
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.dispose();
  await api?.close();
});

/** A fresh browser context (its own storage, as another browser would be), signed in, on the lesson. */
async function openLesson(username: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.goto(`${base}/lessons/${lessonId}`);
  await page.waitForSelector('#player');
  return page;
}

const currentTime = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLVideoElement>('#player')!.currentTime);

test('the same student in a new browser resumes where they stopped; another student starts at 0', async () => {
  const first = await openLesson(`student.${api.prefix}`);
  await first.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('#player')!;
    v.muted = true;
    return v.play().catch(() => undefined);
  });
  await first.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('#player')?.currentTime ?? 0) > 1,
    null,
    { timeout: 30_000 },
  );
  await first.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('#player')!;
    v.currentTime = 14;
  });
  await first.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('#player')?.currentTime ?? 0) >= 14,
  );
  await first.evaluate(() => document.querySelector<HTMLVideoElement>('#player')!.pause());
  await first.waitForTimeout(1000);
  await first.context().close();

  const again = await openLesson(`student.${api.prefix}`);
  await again.getByTestId('resumed').waitFor({ timeout: 30_000 });
  const resumed = await currentTime(again);
  assert.ok(resumed >= 13 && resumed < 20, `resumed at ${resumed}s`);
  await again.context().close();

  const someoneElse = await openLesson(other);
  await someoneElse.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('#player')?.duration ?? 0) > 0,
    null,
    { timeout: 30_000 },
  );
  await someoneElse.waitForTimeout(2000);
  assert.equal(await someoneElse.getByTestId('resumed').count(), 0, 'no resume for another student');
  assert.ok((await currentTime(someoneElse)) < 5, `starts at ${await currentTime(someoneElse)}s`);
  await someoneElse.context().close();
});
