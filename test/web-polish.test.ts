// Issue 17's polish, in Chromium against the real api and the built web client: the api's refusals read in
// the page's language and name the field; the login page shows the demo hint only in npm start's demo;
// an unknown address gets a proper page with the way home. Screenshots (zh-CN and English, desktop and
// phone) land in /tmp/shots-web/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = '/tmp/shots-web';
const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };
/** What zod, ajv or the api say in English: none of it may reach the Chinese page. */
const SERVER_ENGLISH = /Too (small|big)|Invalid|expected|received|must be|characters|taken|unknown field/i;

let api: TestApi;
let demo: TestApi;
let base: string;
let demoBase: string;
let browser: Browser & { dispose(): Promise<void> };

const origin = (t: TestApi) => `http://127.0.0.1:${(t.app.http.server.address() as { port: number }).port}`;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const web = { WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') };
  api = await startTestApi(web);
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  base = origin(api);
  demo = await startTestApi({ ...web, DEMO_MODE: 'true' });
  await demo.app.http.listen({ host: '127.0.0.1', port: 0 });
  demoBase = origin(demo);
  browser = await launchChromium();
});
after(async () => {
  await browser?.dispose();
  await api?.close();
  await demo?.close();
});

async function newPage(lang: 'zh-CN' | 'en', viewport = DESKTOP): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.addInitScript((l) => localStorage.setItem('sky.lang', l), lang);
  return page;
}

/** The login page, once it has heard from the api whether this is the demo. */
async function loginPage(page: Page, at: string): Promise<void> {
  const info = page.waitForResponse((r) => r.url().endsWith('/api/public/sign-in'));
  await page.goto(`${at}/login`);
  await page.getByTestId('login-username').waitFor();
  await (await info).finished();
}

async function signIn(page: Page, username: string): Promise<void> {
  await loginPage(page, base);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

test('the login page shows no demo hint outside the demo; npm start’s demo says where its logins are', async () => {
  for (const lang of ['zh-CN', 'en'] as const) {
    for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
      const page = await newPage(lang, viewport);
      await loginPage(page, base);
      await page.waitForTimeout(200);
      assert.equal(await page.getByTestId('demo-hint').count(), 0, 'no demo hint in a real deployment');
      assert.doesNotMatch(await page.locator('body').innerText(), /demo-logins|演示账号/);
      await page.screenshot({ path: join(SHOTS, `login.${size}.${lang}.png`) });
      await page.close();
    }
  }
  const page = await newPage('zh-CN');
  await loginPage(page, demoBase);
  assert.match(await page.getByTestId('demo-hint').innerText(), /演示账号.*\.data\/demo-logins\.json/);
  await page.screenshot({ path: join(SHOTS, 'login-demo.desktop.zh-CN.png') });
  await page.close();
});

test('a refused sign-in names the field in Chinese, not in the server’s English', async () => {
  const page = await newPage('zh-CN', PHONE);
  await loginPage(page, base);
  await page.getByTestId('login-username').fill('ab');
  await page.getByTestId('login-password').fill('whatever');
  await page.getByTestId('login-submit').click();
  const error = page.locator('#login-username-error');
  await error.waitFor();
  assert.equal(await error.innerText(), '用户名至少 3 个字符');
  assert.equal(await page.getByTestId('login-username').getAttribute('aria-invalid'), 'true');
  assert.doesNotMatch(await page.locator('main').innerText(), SERVER_ENGLISH);
  await page.screenshot({ path: join(SHOTS, 'login-refused.phone.zh-CN.png') });
  await page.close();
});

test('the admin’s new-user form: each refused field says what is wrong, in Chinese and in English', async () => {
  const page = await newPage('zh-CN');
  await signIn(page, `admin.${api.prefix}`);
  // the new-user form (beside the users table), in whichever language
  const form = page.locator('aside form');
  await form.waitFor();
  const username = form.getByRole('textbox').nth(0);
  const password = form.locator('input[type="password"]');
  await username.fill('ab');
  await password.fill('short');
  await form.getByRole('button', { name: '创建用户' }).click();
  await page.getByTestId('error-username').waitFor();
  assert.equal(await page.getByTestId('error-username').innerText(), '用户名至少 3 个字符');
  assert.equal(await page.getByTestId('error-password').innerText(), '密码至少 8 个字符');
  assert.equal(await page.getByTestId('error-displayName').innerText(), '姓名不能为空');
  assert.match(await form.getByRole('alert').innerText(), /请按标出的提示修改/);
  assert.doesNotMatch(await form.innerText(), SERVER_ENGLISH);
  await page.screenshot({ path: join(SHOTS, 'admin-refused.desktop.zh-CN.png') });

  // a name another account has: the field says so
  await username.fill(`student.${api.prefix}`);
  await form.getByRole('textbox').nth(1).fill('王小明');
  await password.fill('long-enough-1');
  await form.getByRole('button', { name: '创建用户' }).click();
  await page.getByTestId('error-username').filter({ hasText: '用户名已被占用' }).waitFor();
  assert.doesNotMatch(await form.innerText(), SERVER_ENGLISH);

  await page.locator('.lang button[lang="en"]').click();
  await password.fill('short');
  await form.getByRole('button', { name: 'Create user' }).click();
  await page
    .getByTestId('error-password')
    .filter({ hasText: 'Password needs at least 8 characters' })
    .waitFor();
  await page.screenshot({ path: join(SHOTS, 'admin-refused.desktop.en.png') });
  await page.close();
});

test('an unknown address: a page that says so in the reader’s language, with the way home', async () => {
  for (const lang of ['zh-CN', 'en'] as const) {
    for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
      const page = await newPage(lang, viewport);
      await page.goto(`${base}/lessons-that-are-not-here/42`);
      const notFound = page.getByTestId('not-found');
      await notFound.waitFor();
      assert.match(await notFound.innerText(), lang === 'zh-CN' ? /找不到这个页面/ : /Page not found/);
      assert.match(await notFound.innerText(), /\/lessons-that-are-not-here\/42/);
      // signed out, the way home is the sign-in
      assert.equal(
        await page.getByTestId('not-found-home').innerText(),
        lang === 'zh-CN' ? '去登录' : 'Sign in',
      );
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `fits the width (${overflow}px over)`);
      await page.screenshot({ path: join(SHOTS, `not-found.${size}.${lang}.png`) });
      await page.close();
    }
  }
  // signed in: 返回首页 leads to the student's home
  const page = await newPage('zh-CN');
  await signIn(page, `student.${api.prefix}`);
  await page.goto(`${base}/no/such/page`);
  await page.getByTestId('not-found-home').filter({ hasText: '返回首页' }).click();
  await page.waitForURL(`${base}/`);
  await page.getByText('我的课程').first().waitFor();
  await page.close();
});
