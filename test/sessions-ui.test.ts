// Where the web client keeps its tokens, and the admin's session controls (issue 15), in Chromium.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PublicUser } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';

const ROOT = join(import.meta.dirname, '..');

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };

before(async () => {
  api = await startTestApi({ WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await api?.close();
});

let serial = 0;
async function newStudent(): Promise<PublicUser> {
  serial += 1;
  return api.app.services.users.create({
    username: `ui${serial}.${api.prefix}`,
    password: PASSWORD,
    displayName: `学生${serial}`,
    role: 'student',
    grade: 'p3',
  });
}

async function signIn(username: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return { ctx, page };
}

/** After a reload: still signed in (true), or sent to the login page (false). */
async function signedInAfterReload(page: Page): Promise<boolean> {
  await page.goto(`${base}/`);
  await page.waitForFunction(
    () => location.pathname.startsWith('/login') || document.querySelector('.user-name') !== null,
    undefined,
    { timeout: 15_000 },
  );
  return !new URL(page.url()).pathname.startsWith('/login');
}

test('no token where a script can read it; the httpOnly cookie keeps the session over a reload', async () => {
  const user = await newStudent();
  const { ctx, page } = await signIn(user.username);
  const readable = await page.evaluate(() => ({
    storage: JSON.stringify({ ...localStorage, ...sessionStorage }),
    cookies: document.cookie,
  }));
  // A JWT starts with eyJ; a refresh token is <uuid>.<secret>.
  assert.doesNotMatch(readable.storage, /eyJ|[0-9a-f-]{36}\.[\w-]{20,}/, 'no token in web storage');
  assert.doesNotMatch(readable.cookies, /sky_refresh/, 'the refresh cookie is not readable by scripts');
  const cookie = (await ctx.cookies(`${base}/api/auth/refresh`)).find((c) => c.name === 'sky_refresh');
  assert.ok(cookie, 'the refresh token is in a cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/api/auth');

  assert.equal(await signedInAfterReload(page), true, 'a reload stays signed in');
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.waitForURL(/\/login/);
  assert.equal(
    (await ctx.cookies(`${base}/api/auth/refresh`)).find((c) => c.name === 'sky_refresh'),
    undefined,
  );
  assert.equal(await signedInAfterReload(page), false, 'signed out stays signed out');
  await ctx.close();
});

test('“在所有设备上退出” ends the other devices too', async () => {
  const user = await newStudent();
  const phone = await signIn(user.username);
  const laptop = await signIn(user.username);
  await laptop.page.getByTestId('logout-everywhere').click();
  await laptop.page.waitForURL(/\/login/);
  assert.equal(await signedInAfterReload(phone.page), false, 'the other device is signed out');
  await phone.ctx.close();
  await laptop.ctx.close();
});

test('an admin disables, enables, signs out and deletes a user from the users page', async () => {
  const user = await newStudent();
  const student = await signIn(user.username);
  const admin = await signIn(`admin.${api.prefix}`);
  const row = admin.page.getByTestId(`user-${user.username}`);
  await row.waitFor({ timeout: 15_000 });
  const done = admin.page.getByTestId('user-action-done');

  await admin.page.getByTestId(`disable-${user.username}`).click({ timeout: 5_000 });
  await done.filter({ hasText: '已停用' }).waitFor();
  await row.getByText('已停用').waitFor();
  assert.equal(await signedInAfterReload(student.page), false, 'the disabled student is signed out');
  await student.page.getByTestId('login-username').fill(user.username);
  await student.page.getByTestId('login-password').fill(PASSWORD);
  await student.page.getByTestId('login-submit').click();
  await student.page.getByRole('alert').filter({ hasText: '已被停用' }).waitFor();

  await admin.page.getByTestId(`enable-${user.username}`).click();
  await done.filter({ hasText: '已启用' }).waitFor();
  await student.page.getByTestId('login-submit').click();
  await student.page.waitForURL((u) => !u.pathname.startsWith('/login'));

  await admin.page.getByTestId(`sign-out-${user.username}`).click();
  await done.filter({ hasText: '所有设备' }).waitFor();
  assert.equal(await signedInAfterReload(student.page), false, 'signed out everywhere');

  await admin.page.getByTestId(`delete-${user.username}`).click();
  await admin.page.getByTestId(`confirm-delete-${user.username}`).click();
  await done.filter({ hasText: '已删除' }).waitFor();
  await row.waitFor({ state: 'detached' });
  // The admin's own row offers none of these.
  await admin.page.getByTestId(`user-admin.${api.prefix}`).waitFor();
  assert.equal(await admin.page.getByTestId(`delete-admin.${api.prefix}`).count(), 0);
  await student.ctx.close();
  await admin.ctx.close();
});
