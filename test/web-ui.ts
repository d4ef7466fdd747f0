// What the Chromium tests of the web pages share: both languages, both screen sizes, a browser context
// of one language, signing in through the login page, and screenshots that also check nothing is wider
// than the screen.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { PASSWORD } from '../api/test/helpers.js';

export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];
/** A laptop and a phone. */
export const VIEWPORTS = [
  { width: 1280, height: 720 },
  { width: 390, height: 844 },
] as const;

/** A browser of its own (cookies, storage) that speaks `lang`, at the laptop size. */
export async function newContext(browser: Browser, lang: Lang): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: VIEWPORTS[0] });
  await ctx.addInitScript((l) => localStorage.setItem('sky.lang', l), lang);
  return ctx;
}

/** Signs in on `web`'s login page as a user would; the page once it has left /login. */
export async function signIn(
  ctx: BrowserContext,
  web: string,
  username: string,
  password = PASSWORD,
): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`[${username}] pageerror ${e.message}`));
  await page.goto(`${web}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

/**
 * Screenshots into `dir` of the page as it is now, at both sizes (it reflows; open dialogs stay open),
 * `focus` in view; each asserts nothing is wider than the screen. Named `name.lang.WxH.png`.
 */
export function shooter(dir: string) {
  return async (page: Page, name: string, lang: Lang, focus?: Locator): Promise<void> => {
    for (const size of VIEWPORTS) {
      await page.setViewportSize(size);
      await page.waitForTimeout(200);
      await focus?.scrollIntoViewIfNeeded();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${name} fits ${size.width}px (overflow ${overflow}px)`);
      await page.screenshot({ path: join(dir, `${name}.${lang}.${size.width}x${size.height}.png`) });
    }
    await page.setViewportSize(VIEWPORTS[0]);
  };
}
