// Fixing mistakes from the web (issue 17), in Chromium, in Chinese and in English: an admin finds a
// user among more than 100, resets their password and disables them (their open page is signed out,
// their API calls answer 401); the user chooses a new password at the next sign-in; a user changes their
// own password; a teacher edits a lesson and deletes a failed one with its files. Screenshots of each
// step at 1280×720 and 390×844 land in SHOTS_DIR (default test-results/manage).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PasswordReset, PublicUser } from '@sky/contracts';
import { Types } from 'mongoose';
import { freePort, launchChromium } from '@sky/devkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { actorOf } from './fixtures.js';
import { LANGS, newContext as newContextOf, shooter, signIn as signInAt, type Lang } from './web-ui.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = process.env['SHOTS_DIR'] ?? join(ROOT, 'test-results', 'manage');

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  api = await startTestApi({
    WEB_DIST_DIR: join(ROOT, 'web-client', 'dist'),
    // no TV gateway in this file: nothing answers there (test/family-tvs-ui.test.ts runs a real one)
    TV_GATEWAY_URL: `http://127.0.0.1:${await freePort()}`,
  });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  // More accounts than one page holds (and more than the old cap of 100), all found by one word.
  for (let i = 0; i < 120; i += 12)
    await Promise.all(
      Array.from({ length: 12 }, (_, j) =>
        api.app.services.users.create({
          username: `pupil${i + j}.${api.prefix}`,
          password: PASSWORD,
          displayName: `春季班学生${i + j}`,
          role: 'student',
          grade: 'p4',
        }),
      ),
    );
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await api?.close();
});

const newContext = (lang: Lang) => newContextOf(browser, lang);
const signIn = (ctx: BrowserContext, username: string, password?: string) =>
  signInAt(ctx, base, username, password);
const shoot = shooter(SHOTS);

let serial = 0;
async function newStudent(lang: Lang): Promise<PublicUser> {
  serial += 1;
  return api.app.services.users.create({
    username: `fix${serial}.${api.prefix}`,
    password: PASSWORD,
    displayName: lang === 'en' ? `Mei Lin ${serial}` : `林小美${serial}`,
    role: 'student',
    grade: 'p4',
  });
}

/** The tab comes back into view: the page asks the api who is signed in. Returns that answer's status. */
async function lookAgain(page: Page): Promise<number> {
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/me'));
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  return (await answer).status();
}

/**
 * Watches from now for the api refusing the page's sign-in (401); the function returned makes the tab look
 * again and gives the refused path. The home's own poll (every 10 s) may ask first on a slow machine, and
 * the page is then signed out before the tab looks: either way the api refused it.
 */
function watchRefusal(page: Page): () => Promise<string> {
  const refused = page.waitForResponse(
    (r) => new URL(r.url()).pathname.startsWith('/api/') && r.status() === 401,
    { timeout: 30_000 },
  );
  refused.catch(() => undefined); // awaited by the caller; an earlier failure is the one to report
  return async () => {
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    return new URL((await refused).url()).pathname;
  };
}

const TEXT = {
  'zh-CN': {
    resetDone: /已重置/,
    disabledDone: /已停用/,
    disabled: /已被停用/,
    common: /^新密码太常见/,
    wrongCurrent: /^当前密码不正确$/,
    changed: /密码已修改/,
    saved: /已保存/,
    deleted: /已删除/,
    failed: /这不是可识别的视频或音频文件/,
    range: /第 1–50 人，共 120 人/,
    range2: /第 51–100 人，共 120 人/,
    tempExpired: /临时密码已过期，不能再使用。请联系学校管理员重新重置密码/,
    tempExpiredBadge: /^临时密码已过期$/,
  },
  en: {
    resetDone: /Reset the password/,
    disabledDone: /Disabled/,
    disabled: /disabled/i,
    common: /^New password is too common/,
    wrongCurrent: /^This is not your current password$/,
    changed: /Password changed/,
    saved: /Saved/,
    deleted: /Deleted/,
    failed: /not a video or audio file/,
    range: /1–50 of 120/,
    range2: /51–100 of 120/,
    tempExpired: /temporary password has expired and no longer works\. Ask your school admin/,
    tempExpiredBadge: /^Temporary password expired$/,
  },
} as const;

for (const lang of LANGS) {
  test(`[${lang}] an admin finds a user among 120 by pages and by search, resets their password and disables them: their open page is signed out`, async () => {
    const text = TEXT[lang];
    const user = await newStudent(lang);
    const studentCtx = await newContext(lang);
    const student = await signIn(studentCtx, user.username);
    const adminCtx = await newContext(lang);
    const admin = await signIn(adminCtx, `admin.${api.prefix}`);

    // Pages past 100: the 120 spring-class pupils, 50 at a time, counted by the server.
    const search = admin.getByTestId('user-search');
    await search.fill('春季班');
    await admin.getByTestId('user-range').filter({ hasText: text.range }).waitFor({ timeout: 15_000 });
    assert.equal(await admin.locator('tbody tr').count(), 50);
    await admin.getByTestId('users-next').click();
    await admin.getByTestId('user-range').filter({ hasText: text.range2 }).waitFor();
    await admin.getByTestId('users-next').click();
    await admin.locator('tbody tr').nth(19).waitFor();
    assert.equal(await admin.locator('tbody tr').count(), 20, 'the third page holds the last 20');
    assert.equal(await admin.getByTestId('users-next').isDisabled(), true);
    await shoot(admin, 'admin-users-paged', lang, admin.getByTestId('users-page'));

    // Search by the user's name: one row.
    await search.fill(user.displayName);
    const row = admin.getByTestId(`user-${user.username}`);
    await row.waitFor({ timeout: 15_000 });
    await admin.locator('tbody tr').nth(1).waitFor({ state: 'detached' });

    // Reset: confirm, then the temporary password, shown once.
    await admin.getByTestId(`reset-${user.username}`).click();
    await admin.getByTestId('reset-dialog').waitFor();
    await shoot(admin, 'admin-reset-confirm', lang);
    const resetRefused = watchRefusal(student);
    const resetAt = Date.now();
    await admin.getByTestId('reset-dialog-confirm').click();
    const temporary = (await admin.getByTestId('temp-password').innerText()).trim();
    assert.match(temporary, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    // until when it works: 72 hours after the reset, in Beijing time (the day on either side of the click)
    const days = [resetAt, Date.now()].map((at) =>
      new Date(at + 72 * 3_600_000).toLocaleString(lang, { dateStyle: 'medium', timeZone: 'Asia/Shanghai' }),
    );
    const expires = await admin.getByTestId('temp-password-expires').innerText();
    assert.ok(
      days.some((d) => expires.includes(d)),
      `the dialog says it works until ${days.join(' or ')}: ${expires}`,
    );
    await shoot(admin, 'admin-reset-temporary', lang);
    await admin.getByTestId('temp-password-dialog-cancel').click();
    await admin.getByTestId('user-action-done').filter({ hasText: text.resetDone }).waitFor();
    await row.getByText(lang === 'en' ? 'New password due' : '待设新密码').waitFor();

    // The student's open page: its next call to the api is refused, and it is signed out, saying why.
    assert.match(await resetRefused(), /^\/api\//, 'their API calls answer 401');
    await student.waitForURL(/\/login/);
    await student.getByTestId('session-ended').waitFor();
    await shoot(student, 'student-signed-out', lang);

    // The temporary password only leads to choosing a new one.
    await student.getByTestId('login-username').fill(user.username);
    await student.getByTestId('login-password').fill(temporary);
    await student.getByTestId('login-submit').click();
    await student.getByTestId('renew-password').waitFor();
    await student.getByTestId('renew-newPassword').fill('password123');
    await student.getByTestId('renew-confirm').fill('password123');
    await student.getByTestId('renew-submit').click();
    assert.match(await student.getByTestId('renew-newPassword-error').innerText(), text.common);
    await shoot(student, 'student-new-password', lang);
    const chosen = `spring rain ${serial} falls`;
    await student.getByTestId('renew-newPassword').fill(chosen);
    await student.getByTestId('renew-confirm').fill(chosen);
    await student.getByTestId('renew-submit').click();
    await student.waitForURL((u) => !u.pathname.startsWith('/login'));
    await student.locator('.user-name').waitFor();
    assert.equal(new URL(student.url()).pathname, '/', 'they land on their home');
    await student.getByTestId('today').or(student.getByTestId('timetable')).first().waitFor();
    assert.equal(await lookAgain(student), 200, 'signed in with the new password');

    // Disable: the open page is signed out again, and signing in is refused.
    const disableRefused = watchRefusal(student);
    await admin.getByTestId(`disable-${user.username}`).click();
    await admin.getByTestId('user-action-done').filter({ hasText: text.disabledDone }).waitFor();
    assert.match(await disableRefused(), /^\/api\//);
    await student.waitForURL(/\/login/);
    await student.getByTestId('session-ended').waitFor();
    await student.getByTestId('login-username').fill(user.username);
    await student.getByTestId('login-password').fill(chosen);
    await student.getByTestId('login-submit').click();
    await student.getByRole('alert').filter({ hasText: text.disabled }).waitFor();
    await shoot(admin, 'admin-user-disabled', lang);
    await studentCtx.close();
    await adminCtx.close();
  });

  test(`[${lang}] a temporary password left unused past its 72 hours is refused, saying so; the admin list says so too`, async () => {
    const text = TEXT[lang];
    const user = await newStudent(lang);
    const reset = await api.app.http.inject({
      method: 'POST',
      url: `/api/users/${user.id}/password-reset`,
      headers: { authorization: `Bearer ${api.tokens.admin}` },
    });
    const { temporaryPassword } = reset.json<PasswordReset>();
    // 72 hours pass
    await api.mongo
      .collection('users')
      .updateOne(
        { _id: new Types.ObjectId(user.id) },
        { $set: { temporaryPasswordExpiresAt: new Date(Date.now() - 60_000) } },
      );
    const ctx = await newContext(lang);
    const page = await ctx.newPage();
    await page.goto(`${base}/login`);
    await page.getByTestId('login-username').fill(user.username);
    await page.getByTestId('login-password').fill(temporaryPassword);
    await page.getByTestId('login-submit').click();
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: text.tempExpired }).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('renew-password').count(), 0, 'no new password from it');
    assert.ok(new URL(page.url()).pathname.startsWith('/login'));
    await shoot(page, 'login-temp-expired', lang);

    const admin = await signIn(ctx, `admin.${api.prefix}`);
    await admin.getByTestId('user-search').fill(user.displayName);
    const row = admin.getByTestId(`user-${user.username}`);
    // the search has answered: its one row (the first page of everyone shows them too, before it)
    await admin.locator('tbody tr').nth(1).waitFor({ state: 'detached', timeout: 15_000 });
    await row.getByTestId('temp-expired-badge').waitFor({ timeout: 15_000 });
    assert.match(await row.getByTestId('temp-expired-badge').innerText(), text.tempExpiredBadge);
    await shoot(admin, 'admin-user-temp-expired', lang, row);
    await ctx.close();
  });

  test(`[${lang}] a user changes their own password: the other device is signed out, this one stays`, async () => {
    const text = TEXT[lang];
    const user = await newStudent(lang);
    const phoneCtx = await newContext(lang);
    const phone = await signIn(phoneCtx, user.username);
    const laptopCtx = await newContext(lang);
    const laptop = await signIn(laptopCtx, user.username);
    await laptop.getByTestId('account-link').click();
    await laptop.getByTestId('account-username').waitFor();

    // Wrong current password (the api's refusal, by its rule), then a mismatch: named, nothing changes.
    await laptop.getByTestId('change-password-currentPassword').fill('not my password');
    await laptop.getByTestId('change-password-newPassword').fill('a long new phrase');
    await laptop.getByTestId('change-password-confirm').fill('a long new phrase');
    await laptop.getByTestId('change-password-submit').click();
    await laptop.getByTestId('change-password-currentPassword-error').waitFor();
    assert.match(
      await laptop.getByTestId('change-password-currentPassword-error').innerText(),
      text.wrongCurrent,
    );
    await laptop.getByTestId('change-password-currentPassword').fill(PASSWORD);
    await laptop.getByTestId('change-password-confirm').fill('a long new phrasf');
    await laptop.getByTestId('change-password-submit').click();
    await laptop.getByTestId('change-password-confirm-error').waitFor();
    assert.equal(await lookAgain(phone), 200, 'nothing changed yet');

    const phoneRefused = watchRefusal(phone);
    await laptop.getByTestId('change-password-confirm').fill('a long new phrase');
    await laptop.getByTestId('change-password-submit').click();
    await laptop.getByTestId('password-changed').filter({ hasText: text.changed }).waitFor();
    await shoot(laptop, 'account-password-changed', lang);
    assert.match(await phoneRefused(), /^\/api\//, 'the phone is signed out');
    await phone.waitForURL(/\/login/);
    assert.equal(await lookAgain(laptop), 200, 'the laptop stays');
    await laptop.reload();
    await laptop.getByTestId('account-username').waitFor({ timeout: 15_000 });
    await phoneCtx.close();
    await laptopCtx.close();
  });

  test(`[${lang}] a teacher edits a lesson and deletes a failed one: gone from the list, its files gone, the api answers 404`, async () => {
    const text = TEXT[lang];
    const teacher = await actorOf(api, 'teacher');
    const title = lang === 'en' ? `Fractions draft ${serial}` : `分数的初步认识（草稿${serial}）`;
    const lesson = await api.app.services.lessons.create(teacher, { title, grade: 'p3', subject: '数学' });
    const keeper = lang === 'en' ? `Clocks ${serial}` : `认识钟表${serial}`;
    await api.app.services.lessons.create(teacher, { title: keeper, grade: 'p3', subject: '数学' });
    const dir = mkdtempSync(join(tmpdir(), 'sky-manage-'));
    writeFileSync(join(dir, 'notes.mp4'), '这不是视频\n'.repeat(200));

    const ctx = await newContext(lang);
    const page = await signIn(ctx, `teacher.${api.prefix}`);
    const item = page.locator('.lesson-item').filter({ hasText: title });
    await item.waitFor({ timeout: 15_000 });
    // A text file renamed .mp4: the upload fails, and stays in the media store with the lesson.
    await item.getByTestId('upload-input').setInputFiles(join(dir, 'notes.mp4'));
    await item.getByTestId('failure').filter({ hasText: text.failed }).waitFor({ timeout: 20_000 });
    const uploads = join(api.mediaDir, 'uploads', lesson.id);
    assert.equal(readdirSync(uploads).length, 1, 'the failed upload is on disk');

    // Edit: a better title.
    const fixed = lang === 'en' ? `Fractions, part 1 (${serial})` : `分数的初步认识（一）${serial}`;
    await item.getByTestId('lesson-edit').click();
    const dialog = page.getByTestId('edit-lesson-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('edit-title').fill(' ');
    await dialog.getByTestId('edit-lesson-save').click();
    await dialog.getByTestId('edit-error-title').waitFor();
    await shoot(page, 'teacher-edit-lesson-refused', lang);
    await dialog.getByTestId('edit-title').fill(fixed);
    await dialog.getByTestId('edit-error-title').waitFor({ state: 'detached' });
    await shoot(page, 'teacher-edit-lesson', lang);
    await dialog.getByTestId('edit-lesson-save').click();
    await page.getByTestId('lesson-action-done').filter({ hasText: text.saved }).waitFor();
    const edited = page.locator('.lesson-item').filter({ hasText: fixed });
    await edited.waitFor();

    // Delete, after the question.
    await edited.getByTestId('lesson-delete').click();
    await page.getByTestId('delete-lesson-dialog').waitFor();
    await shoot(page, 'teacher-delete-confirm', lang);
    await page.getByTestId('delete-lesson-dialog-confirm').click();
    await page.getByTestId('lesson-action-done').filter({ hasText: text.deleted }).waitFor();
    await edited.waitFor({ state: 'detached' });
    await shoot(page, 'teacher-lesson-deleted', lang);

    assert.equal(existsSync(uploads), false, 'its upload is gone from the media store');
    assert.equal(existsSync(join(api.mediaDir, 'lessons', lesson.id)), false);
    const answer = await api.app.http.inject({
      url: `/api/lessons/${lesson.id}`,
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
    });
    assert.equal(answer.statusCode, 404);
    // After a reload too: it is not in the list.
    await page.reload();
    await page.locator('.lesson-item').filter({ hasText: keeper }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.lesson-item').filter({ hasText: fixed }).count(), 0);
    await ctx.close();
  });
}

test('while the TV gateway is away, a student’s home says its TVs cannot be read, and they stay signed in', async () => {
  const user = await newStudent('zh-CN');
  const ctx = await newContext('zh-CN');
  const page = await signIn(ctx, user.username);
  const tvs = page.getByTestId('my-tvs');
  await tvs
    .getByRole('alert')
    .filter({ hasText: /暂时读不到电视列表/ })
    .waitFor({ timeout: 15_000 });
  assert.equal(await tvs.getByTestId('pair-link').getAttribute('href'), '/pair');
  assert.equal(await lookAgain(page), 200, 'still signed in');
  await page.locator('.user-name').waitFor();
  await ctx.close();
});
