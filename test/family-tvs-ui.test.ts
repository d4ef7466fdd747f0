// A family manages its TVs from the web (issue 17), in Chromium, in Chinese and in English, on a real
// gateway, api and curriculum: the home links to /pair, the box is paired there with the code it shows,
// the home lists it (name, when paired, when last seen) and unpairs it, after which the box's token is
// refused. Screenshots at 1280×720 and 390×844 land in SHOTS_DIR (default test-results/manage).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '@sky/devkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { boxAsksForCode, boxPicksUpToken, p1MathPlan, startTvStack, type TvStack } from './tv-stack.js';
import { LANGS, newContext, shooter, signIn as signInAt, type Lang } from './web-ui.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = process.env['SHOTS_DIR'] ?? join(ROOT, 'test-results', 'manage');

let stack: TvStack;
let browser: Browser & { dispose(): Promise<void> };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startTvStack({
    plan: (id) => p1MathPlan(id, ['认识钟表']),
    apiEnv: { WEB_DIST_DIR: join(ROOT, 'web-client', 'dist') },
  });
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

/** What the box reads about itself with its token (a paired box does on start); the status. */
const boxAsksWhoItIs = async (token: string) =>
  (await fetch(`${stack.base}/device/me`, { headers: { authorization: `Bearer ${token}` } })).status;

const TEXT = {
  'zh-CN': {
    name: '客厅电视',
    empty: /还没有配对的电视/,
    never: /尚未连接/,
    seen: /最近在线/,
    paired: /配对于/,
    unpaired: /已解除/,
  },
  en: {
    name: 'Living room TV',
    empty: /No TV is paired yet/,
    never: /Not connected yet/,
    seen: /Last seen/,
    paired: /Paired/,
    unpaired: /Unpaired/,
  },
} as const;

for (const lang of LANGS) {
  test(`[${lang}] a family pairs a TV from its home, sees it listed with when it was paired and last seen, and unpairs it`, async () => {
    const text = TEXT[lang];
    const { ctx, page } = await signIn(lang, `family.${stack.api.prefix}`);
    const tvs = page.getByTestId('my-tvs');
    await tvs.getByText(text.empty).waitFor({ timeout: 15_000 });
    await shoot(page, 'family-home-no-tv', lang, tvs);

    // The box shows a code; from the home, the family opens the pairing page and types it.
    const code = await boxAsksForCode(stack.base);
    await tvs.getByTestId('pair-link').click();
    await page.waitForURL(/\/pair$/);
    await page.getByTestId('pair-code').fill(code.user_code);
    await page.getByTestId('pair-name').fill(text.name);
    await shoot(page, 'family-pair', lang);
    await page.getByTestId('pair-submit').click();
    await page.getByTestId('pair-done').waitFor();
    await shoot(page, 'family-pair-done', lang);
    await page.getByTestId('pair-home').click();
    await page.waitForURL((u) => u.pathname === '/');

    // Listed at once: the name, when it was paired; the box has not connected yet.
    const item = tvs.getByTestId('tv-item');
    await item.waitFor({ timeout: 15_000 });
    assert.equal(await item.count(), 1);
    assert.equal(await item.getByTestId('tv-name').innerText(), text.name);
    assert.match(await item.innerText(), text.paired);
    assert.match(await item.getByTestId('tv-seen').innerText(), text.never);

    // The box picks up its token and starts: the home says when it was last seen.
    const token = (await boxPicksUpToken(stack.base, code)).access_token;
    assert.equal(await boxAsksWhoItIs(token), 200);
    await page.reload();
    await item.getByTestId('tv-seen').filter({ hasText: text.seen }).waitFor({ timeout: 15_000 });
    await shoot(page, 'family-home-tv-listed', lang, tvs);

    // Unpair, after the question: gone from the list, and the box's token no longer works.
    await item.getByTestId('tv-unpair').click();
    await page.getByTestId('unpair-dialog').waitFor();
    await shoot(page, 'family-unpair-confirm', lang);
    await page.getByTestId('unpair-dialog-confirm').click();
    await tvs.getByTestId('tv-action-done').filter({ hasText: text.unpaired }).waitFor();
    await item.waitFor({ state: 'detached' });
    await tvs.getByText(text.empty).waitFor();
    assert.equal(await boxAsksWhoItIs(token), 401, 'the unpaired box is refused');
    await ctx.close();
  });
}

test('a student’s home has its TVs too; a teacher’s does not', async () => {
  const student = await signIn('zh-CN', `student.${stack.api.prefix}`);
  const tvs = student.page.getByTestId('my-tvs');
  await tvs.waitFor({ timeout: 15_000 });
  assert.equal(await tvs.getByTestId('pair-link').getAttribute('href'), '/pair');
  await student.ctx.close();
  const teacher = await signIn('zh-CN', `teacher.${stack.api.prefix}`);
  await teacher.page.getByTestId('inbox-link').waitFor({ timeout: 15_000 });
  assert.equal(await teacher.page.getByTestId('my-tvs').count(), 0);
  await teacher.ctx.close();
});
