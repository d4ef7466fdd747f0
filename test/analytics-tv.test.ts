// The 10-foot UI's viewing beacons, end to end: a box (Chromium, remote keys only) served by a real
// gateway plays a really transcoded lesson on demand; its beacons (platform tv) reach the api's real
// ingest and the lesson's TV views show up in the dashboard API.
//
// The box posts to `api/analytics/beacons` relative to the page, i.e. to the gateway's beacon route,
// which forwards each batch to the api unchanged.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AnalyticsTopLessons, type Beacon } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { p1MathPlan, startTvStack, type TvStack } from './tv-stack.js';

const ROOT = join(import.meta.dirname, '..');
const TV_UI_DIR = process.env['SKY_TV_DIST'] ?? join(ROOT, 'web-client', 'dist', 'tv');

let stack: TvStack;
let browser: Browser & { dispose(): Promise<void> };

before(async () => {
  assert.ok(existsSync(join(TV_UI_DIR, 'index.html')), `build the TV UI first (${TV_UI_DIR})`);
  const plan = (vodLessonId: string) =>
    p1MathPlan(vodLessonId, ['认识钟表', '认识图形', '找规律', '认识人民币', '两位数加减法']);
  stack = await startTvStack({ plan, gatewayEnv: { TV_UI_DIR } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await stack?.close();
});

const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el?.getAttribute('data-focus-key') ?? el?.getAttribute('data-testid') ?? el?.tagName;
  });
const waitScreen = (page: Page, name: string, timeout = 15_000) =>
  page.waitForFunction(
    (n) => document.querySelector<HTMLElement>('.tv-root')?.dataset['screen'] === n,
    name,
    {
      timeout,
    },
  );
async function press(page: Page, key: string): Promise<void> {
  await page.keyboard.press(key);
  await page.waitForTimeout(200);
}

test('a TV box playing a lesson on demand sends tv beacons that the ingest counts', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const posts: { status: number; events: Beacon[] }[] = [];
  // The box posts to the gateway that serves it (`api/analytics/beacons`), which passes the batch on to
  // the api's ingest: watch those posts and the answers they get.
  page.on('response', (res) => {
    if (!res.url().includes('/api/analytics/beacons')) return;
    assert.ok(res.url().startsWith(stack.base), `beacons go to the gateway: ${res.url()}`);
    posts.push({
      status: res.status(),
      events: (JSON.parse(res.request().postData() ?? '{"events":[]}') as { events: Beacon[] }).events,
    });
  });
  await page.goto(`${stack.base}/`);
  await waitScreen(page, 'pairing');
  await page.waitForFunction(
    () => document.activeElement?.getAttribute('data-testid') === 'pairing-skip',
    null,
    {
      timeout: 10_000,
    },
  );
  await press(page, 'Enter');
  await waitScreen(page, 'home');
  // to the on-demand menu item, then grade → subject → lesson
  for (let i = 0; i < 4 && (await focused(page)) !== 'menu:ondemand'; i++) {
    await press(page, (await focused(page))?.startsWith('menu:') ? 'ArrowRight' : 'ArrowUp');
  }
  assert.equal(await focused(page), 'menu:ondemand');
  await press(page, 'Enter');
  await waitScreen(page, 'ondemand');
  await press(page, 'Enter');
  await page.getByTestId('subject-数学').waitFor();
  await press(page, 'Enter');
  await page.locator('.lesson-row').first().waitFor();
  await press(page, 'Enter');
  await waitScreen(page, 'player');
  await page.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) >= 11.5,
    null,
    { timeout: 45_000 },
  );
  await press(page, 'Escape'); // Back: the session ends
  await waitScreen(page, 'ondemand');

  const end = Date.now() + 20_000;
  while (Date.now() < end && !posts.some((p) => p.events.some((e) => e.type === 'end')))
    await new Promise((r) => setTimeout(r, 250));
  const events = posts.flatMap((p) => p.events);
  assert.ok(
    posts.length > 0 && posts.every((p) => p.status === 202),
    JSON.stringify(posts.map((p) => p.status)),
  );
  assert.deepEqual(
    [events[0]?.type, events.some((e) => e.type === 'heartbeat'), events.at(-1)?.type],
    ['start', true, 'end'],
  );
  for (const e of events) {
    assert.equal(e.platform, 'tv');
    assert.equal(e.lessonId, stack.lessonId);
    assert.equal(e.grade, 'p1');
    assert.equal(e.subject, '数学');
  }
  const watched = events.reduce((s, e) => s + ('watchedSec' in e ? e.watchedSec : 0), 0);
  assert.ok(watched >= 10 && watched <= 16, `watched ${watched} s`);

  const deadline = Date.now() + 20_000;
  let row: AnalyticsTopLessons['items'][number] | undefined;
  while (Date.now() < deadline) {
    const res = await stack.api.app.http.inject({
      url: '/api/analytics/top-lessons?limit=10',
      headers: { authorization: `Bearer ${stack.api.tokens.analyst}` },
    });
    row = AnalyticsTopLessons.parse(res.json()).items.find((l) => l.lessonId === stack.lessonId);
    if (row?.views.tv === 1) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(row?.views.tv, 1, JSON.stringify(row));
  assert.equal(row?.views.web, 0);
  assert.ok((row?.watchSec ?? 0) >= 10);
  await page.close();
});
