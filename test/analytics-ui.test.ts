// The bureau's viewing dashboard and the web player's beacons in Chromium, on a real api (real mongod,
// redis-server, the real ingest and its inline aggregator). A known set of beacons goes through the
// ingest over HTTP; the dashboard must show exactly those figures, change them with the range, export
// them as CSV with a BOM; a student playing a really transcoded lesson must show up in it; students
// are kept out. Screenshots (zh-CN, en; desktop, phone) land in test-results/analytics/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  AnalyticsSummary,
  AnalyticsTopLessons,
  chinaDay,
  type Beacon,
  type Platform,
  type Role,
} from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addPlaces, publishLesson, signedViewer } from '../api/test/analytics-ids.js';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import { actorOf, addPlayableLesson } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const DIST = process.env['SKY_WEB_DIST'] ?? join(ROOT, 'web-client', 'dist');
const SHOTS = join(ROOT, 'test-results', 'analytics');
const DAY_MS = 86_400_000;

let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let fractions: string;
let poems: string;
/** The really transcoded lesson the player tests play. */
let playable: string;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  api = await startTestApi({ WEB_DIST_DIR: DIST });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const teacher = await actorOf(api, 'teacher');
  fractions = (
    await api.app.services.lessons.create(teacher, { title: '分数的初步认识', grade: 'p3', subject: '数学' })
  ).id;
  poems = (
    await api.app.services.lessons.create(teacher, { title: '古诗二首', grade: 'p4', subject: '语文' })
  ).id;
  // The ingest counts published lessons and places some profile names only (issue 15).
  for (const lesson of [fractions, poems]) await publishLesson(api.app, lesson, 600);
  await addPlaces(api.app, api.prefix, [
    ['haidian', 'hd-001'],
    ['haidian', 'hd-002'],
    ['chaoyang', 'cy-001'],
  ]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await api?.close();
});

// ---- feeding the real ingest ----

let seq = 0;
const id = (p: string) =>
  `${p}-${api.prefix.replace(/[^A-Za-z0-9]/g, '')}-${String(++seq).padStart(5, '0')}`.slice(0, 64);

/** One playback session: start, heartbeats of ≤ 30 s, end; `watched` seconds in all. */
function session(o: {
  lessonId: string;
  platform: Platform;
  viewer: string;
  watched: number;
  at: number;
  district?: string;
  school?: string;
  startupMs?: number;
  stallMs?: number;
}): Beacon[] {
  const sessionId = id('s');
  const common = {
    viewerId: o.viewer,
    sessionId,
    lessonId: o.lessonId,
    platform: o.platform,
    duration: 600,
    rendition: '720p',
    ...(o.district ? { district: o.district } : {}),
    ...(o.school ? { school: o.school } : {}),
  };
  const out: Beacon[] = [
    { ...common, eventId: id('e'), type: 'start', at: o.at, position: 0, startupMs: o.startupMs ?? 800 },
  ];
  let left = o.watched;
  let pos = 0;
  let t = o.at;
  while (left > 30) {
    pos += 30;
    t += 30_000;
    left -= 30;
    out.push({ ...common, eventId: id('e'), type: 'heartbeat', at: t, position: pos, watchedSec: 30 });
  }
  if (o.stallMs)
    out.push({
      ...common,
      eventId: id('e'),
      type: 'stall',
      at: t + 1000,
      position: pos,
      durationMs: o.stallMs,
    });
  out.push({
    ...common,
    eventId: id('e'),
    type: 'end',
    at: t + left * 1000,
    position: pos + left,
    watchedSec: left,
  });
  return out;
}

async function ingest(events: Beacon[]): Promise<void> {
  const res = await fetch(`${base}/api/analytics/beacons`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  assert.equal(res.status, 202, await res.text());
}

async function get<T>(path: string, schema: { parse(d: unknown): T }, role: Role = 'analyst'): Promise<T> {
  const res = await api.app.http.inject({
    url: path,
    headers: { authorization: `Bearer ${api.tokens[role]}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  return schema.parse(res.json());
}

/** Polls until the aggregator has applied what the test expects (bounded). */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not reached in ${ms} ms; last ${JSON.stringify(last)}`);
}

// ---- the browser ----

async function signIn(role: Role, o: { lang?: 'zh-CN' | 'en'; width?: number } = {}): Promise<Page> {
  const ctx: BrowserContext = await browser.newContext({
    viewport: { width: o.width ?? 1280, height: 900 },
    acceptDownloads: true,
  });
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  if (o.lang === 'en') {
    await page.evaluate(() => localStorage.setItem('sky.lang', 'en'));
    await page.reload();
  }
  await page.getByTestId('login-username').fill(`${role}.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

async function waitText(page: Page, testId: string, want: string | RegExp, timeout = 15_000): Promise<void> {
  const re = typeof want === 'string' ? new RegExp(`^${want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : want;
  await page.waitForFunction(
    ([tid, src, flags]) => {
      const el = document.querySelector<HTMLElement>(`[data-testid="${tid}"]`);
      return !!el && new RegExp(src, flags).test(el.innerText.trim());
    },
    [testId, re.source, re.flags] as const,
    { timeout },
  );
}

/** Viewer ids as the platform signs them (the ingest counts no others). */
const viewers = {
  a: signedViewer('viewer-aaaaaaaa'),
  b: signedViewer('viewer-bbbbbbbb'),
  c: signedViewer('viewer-cccccccc'),
  d: signedViewer('viewer-dddddddd'),
  e: signedViewer('viewer-eeeeeeee'),
  f: signedViewer('viewer-ffffffff'),
  g: signedViewer('viewer-gggggggg'),
};

test('the dashboard shows exactly the figures of the beacons sent through the ingest; the range changes them', async () => {
  const now = Date.now() - 120_000;
  const earlier = now - 3 * DAY_MS;
  // Today: 分数的初步认识 3 web views (Haidian) + 2 TV views (Chaoyang); 古诗二首 1 web view;
  // one web session of 5 s is no view. Three days ago: one more web view of 古诗二首.
  const events = [
    ...session({
      lessonId: fractions,
      platform: 'web',
      viewer: viewers.a,
      watched: 75,
      at: now,
      district: 'haidian',
      school: 'hd-001',
      stallMs: 1500,
    }),
    ...session({
      lessonId: fractions,
      platform: 'web',
      viewer: viewers.b,
      watched: 40,
      at: now,
      district: 'haidian',
      school: 'hd-001',
    }),
    ...session({
      lessonId: fractions,
      platform: 'web',
      viewer: viewers.c,
      watched: 12,
      at: now,
      district: 'haidian',
      school: 'hd-002',
    }),
    ...session({
      lessonId: fractions,
      platform: 'tv',
      viewer: viewers.d,
      watched: 60,
      at: now,
      district: 'chaoyang',
      startupMs: 2400,
    }),
    ...session({
      lessonId: fractions,
      platform: 'tv',
      viewer: viewers.e,
      watched: 20,
      at: now,
      district: 'chaoyang',
      startupMs: 1800,
    }),
    ...session({
      lessonId: poems,
      platform: 'web',
      viewer: viewers.a,
      watched: 15,
      at: now,
      district: 'haidian',
      school: 'hd-001',
    }),
    ...session({ lessonId: poems, platform: 'web', viewer: viewers.f, watched: 5, at: now }),
    ...session({ lessonId: poems, platform: 'web', viewer: viewers.g, watched: 20, at: earlier }),
  ];
  await ingest(events);
  // A replayed batch changes nothing.
  await ingest(events.slice(0, 10));
  const summary = await until(
    'today aggregated',
    () => get('/api/analytics/summary', AnalyticsSummary),
    (s) => s.views.total === 6 && s.watchSec.total === 75 + 40 + 12 + 60 + 20 + 15 + 5,
  );
  assert.deepEqual({ web: summary.views.web, tv: summary.views.tv }, { web: 4, tv: 2 });
  await until(
    'the week aggregated',
    () => get(`/api/analytics/summary?from=${chinaDay(earlier)}&to=${chinaDay(now)}`, AnalyticsSummary),
    (s) => s.views.total === 7,
  );

  const page = await signIn('analyst');
  await page.goto(`${base}/analytics`);
  await waitText(page, 'views-value', '6');
  assert.equal(await text(page, 'views-web-value'), '4');
  assert.equal(await text(page, 'views-tv-value'), '2');
  assert.equal(await text(page, 'uniques-value'), '6');
  assert.match(await text(page, 'concurrent-value'), /^\d+$/);
  assert.match(await text(page, 'watch'), /3\.8 分钟/); // 227 s
  assert.match(await text(page, 'updated'), /更新于 \d{2}:\d{2}:\d{2}/);

  // top lessons, in order, with their platforms
  const top = page.getByTestId('top-table');
  await top.waitFor();
  const rows = await top.locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /^1\s+分数的初步认识\s+三年级\s+数学\s+3\s+2\s+5\s+5/);
  assert.match(rows[1]!, /^2\s+古诗二首\s+四年级\s+语文\s+1\s+0\s+1/);
  assert.equal(await top.locator('.an-badge').count(), 0, 'no lesson here has 100k views');

  // grade and subject
  const grades = await page.getByTestId('grade-table').locator('tbody tr').allInnerTexts();
  assert.match(grades.join('\n'), /三年级\s+3\s+2\s+0\s+5/);
  assert.match(grades.join('\n'), /四年级\s+1\s+0\s+0\s+1/);
  assert.match(await page.getByTestId('subject-table').innerText(), /数学[\s\S]*语文/);

  // district → school
  await page.getByTestId('by-district').getByRole('button', { name: 'haidian' }).click();
  await page.getByTestId('school-table').waitFor();
  const schools = await page.getByTestId('school-table').locator('tbody tr').allInnerTexts();
  assert.match(schools.join('\n'), /hd-001\s+3\s+0\s+0\s+3/);
  assert.match(schools.join('\n'), /hd-002\s+1\s+0\s+0\s+1/);
  await page.getByTestId('drill-up').click();
  await page.getByTestId('district-table').waitFor();

  // quality: TV startup from its two starts; web had a 1.5 s stall
  const quality = await page.getByTestId('quality-table').locator('tbody tr').allInnerTexts();
  const tvRow = quality.find((r) => r.startsWith('电视')) ?? '';
  assert.match(tvRow, /电视\s+2\s+/);
  const webRow = quality.find((r) => r.startsWith('网页')) ?? '';
  assert.match(webRow, /\s1\s+\d+\.\d{2}%$/);

  // retention of the top lesson
  await waitText(page, 'retention-sessions', /共 \d+ 次观看会话/);

  await page.screenshot({ path: join(SHOTS, 'dashboard.zh-CN.png'), fullPage: true });

  // the range picker: the last 7 days include the older view
  await page.getByTestId('range').getByRole('button', { name: '近 7 天' }).click();
  await waitText(page, 'views-value', '7');
  assert.equal(await text(page, 'views-web-value'), '5');
  // a custom range of that one earlier day
  await page.getByTestId('range').getByRole('button', { name: '自定义' }).click();
  await page.getByTestId('range-from').fill(chinaDay(earlier));
  await page.getByTestId('range-to').fill(chinaDay(earlier));
  await waitText(page, 'views-value', '1');
  assert.match(await page.getByTestId('top-table').innerText(), /古诗二首/);
  // a range with no viewing: zeros and a clear empty state, never made-up figures
  await page.getByTestId('range-from').fill(chinaDay(now - 20 * DAY_MS));
  await page.getByTestId('range-to').fill(chinaDay(now - 19 * DAY_MS));
  await waitText(page, 'views-value', '0');
  await page.getByTestId('summary-empty').waitFor();
  assert.match(await page.getByTestId('top-lessons').innerText(), /所选时段暂无数据/);
  assert.equal(await page.getByTestId('top-lessons').getByTestId('csv').count(), 0, 'nothing to export');
  // from after to: said, and no figures asked for
  await page.getByTestId('range-from').fill(chinaDay(now + DAY_MS));
  await page.getByRole('alert').filter({ hasText: '开始日期不能晚于结束日期' }).waitFor();
  await page.close();
});

test('CSV export: UTF-8 with BOM, Chinese headers and titles intact', async () => {
  const page = await signIn('analyst');
  await page.goto(`${base}/analytics`);
  await page.getByTestId('top-table').waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('top-lessons').getByTestId('csv').click(),
  ]);
  const file = await download.path();
  const bytes = readFileSync(file);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 BOM');
  const csv = bytes.subarray(3).toString('utf8');
  assert.match(csv.split(/\r?\n/)[0]!, /排名,课程编号,课程名称,年级,学科/);
  assert.match(csv, /分数的初步认识/);
  assert.match(download.suggestedFilename(), /\.csv$/);

  // the three breakdowns: each its own file name and its own first column
  const breakdowns: [string, RegExp, string][] = [
    ['by-grade', /breakdown-grade/, '年级'],
    ['by-subject', /breakdown-subject/, '学科'],
    ['by-district', /breakdown-district/, '区'],
  ];
  const names = new Set<string>();
  for (const [panel, file, column] of breakdowns) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId(panel).getByTestId('csv').click(),
    ]);
    const b = readFileSync(await download.path());
    assert.deepEqual([...b.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${panel}: BOM`);
    assert.equal(b.subarray(3).toString('utf8').split(/\r?\n/)[0]!.split(',')[0], column, `${panel}: header`);
    assert.match(download.suggestedFilename(), file);
    names.add(download.suggestedFilename());
  }
  assert.equal(names.size, 3, 'three files, three names');
  await page.close();
});

test('auto-refresh: new viewing appears within 30 s without reloading; a pause toggle beside the last-updated time', async () => {
  const page = await signIn('analyst');
  await page.goto(`${base}/analytics`);
  await waitText(page, 'views-value', '6');
  const firstUpdate = await text(page, 'updated');
  await ingest(
    session({
      lessonId: poems,
      platform: 'tv',
      viewer: signedViewer('viewer-hhhhhhhh'),
      watched: 30,
      at: Date.now() - 60_000,
    }),
  );
  await waitText(page, 'views-value', '7', 45_000);
  assert.equal(await text(page, 'views-tv-value'), '3');
  assert.notEqual(await text(page, 'updated'), firstUpdate, 'the last-updated time moved');
  await page.getByTestId('auto-refresh').click();
  assert.equal(await page.getByTestId('auto-refresh').getAttribute('aria-pressed'), 'true');
  assert.match(await text(page, 'auto-refresh'), /恢复自动刷新/);
  await page.close();
});

test('a student cannot open the dashboard, nor read its API', async () => {
  const page = await signIn('student');
  await page.goto(`${base}/analytics`);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /权限/);
  assert.equal(await page.getByTestId('dashboard').count(), 0);
  const status = await page.evaluate(async () => {
    // The page's session: its refresh cookie (httpOnly, so only the api reads it) traded for a token.
    const grant = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const s = (await grant.json()) as { accessToken?: string };
    const res = await fetch('/api/analytics/summary', {
      headers: { authorization: `Bearer ${s.accessToken}` },
    });
    return res.status;
  });
  assert.equal(status, 403);
  await page.close();
});

test('the on-demand player sends beacons that reach the ingest and show up on the dashboard', async () => {
  const lesson = await addPlayableLesson(api, { title: '认识钟表', grade: 'p3', subject: '数学' });
  playable = lesson.id;
  const page = await signIn('student');
  const posts: { status: number; body: string }[] = [];
  page.on('requestfinished', (req) => {
    if (!req.url().includes('/api/analytics/beacons')) return;
    void req.response().then((res) => posts.push({ status: res?.status() ?? 0, body: req.postData() ?? '' }));
  });
  await page.goto(`${base}/lessons/${lesson.id}`);
  const video = page.locator('video#player');
  await video.waitFor();
  await page.waitForFunction(
    () => (document.querySelector('video#player') as HTMLVideoElement).readyState >= 1,
    undefined,
    {
      timeout: 20_000,
    },
  );
  await page.evaluate(() => (document.querySelector('video#player') as HTMLVideoElement).play());
  // 12 s of playing: the first heartbeat goes at 10 s watched
  await page.waitForFunction(
    () => (document.querySelector('video#player') as HTMLVideoElement).currentTime >= 12,
    undefined,
    {
      timeout: 45_000,
    },
  );
  await page.evaluate(() => (document.querySelector('video#player') as HTMLVideoElement).pause());
  // leaving the lesson ends the session (sent at once)
  await page.locator('a.back').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/lessons/'));
  await until(
    'beacons posted',
    async () => posts,
    (p) => p.some((x) => x.body.includes('"end"')),
    15_000,
  );
  assert.ok(
    posts.every((p) => p.status === 202),
    JSON.stringify(posts.map((p) => p.status)),
  );
  const sent = posts.flatMap((p) => (JSON.parse(p.body) as { events: Beacon[] }).events);
  const types = sent.map((e) => e.type);
  assert.equal(types[0], 'start');
  assert.ok(
    types.includes('heartbeat') && types.includes('pause') && types.at(-1) === 'end',
    types.join(','),
  );
  assert.ok(sent.every((e) => e.platform === 'web' && e.lessonId === lesson.id));
  const me = await api.app.http.inject({
    url: '/api/me',
    headers: { authorization: `Bearer ${api.tokens.student}` },
  });
  assert.ok(
    !JSON.stringify(sent).includes(me.json<{ id: string }>().id),
    'the user id never leaves the page',
  );
  const watched = sent.reduce((s, e) => s + ('watchedSec' in e ? e.watchedSec : 0), 0);
  assert.ok(watched >= 11 && watched <= 14, `watched ${watched} s of a 12 s play`);
  const start = sent[0]!;
  assert.ok(
    start.type === 'start' && start.startupMs !== undefined && start.startupMs < 20_000,
    'a played lesson reports its start-up time',
  );

  const topRow = await until(
    'the player’s view aggregated',
    () => get('/api/analytics/top-lessons?limit=50', AnalyticsTopLessons),
    (t) => t.items.some((l) => l.lessonId === lesson.id && l.views.web === 1),
  );
  const row = topRow.items.find((l) => l.lessonId === lesson.id)!;
  assert.ok(row.watchSec >= 11, `watch time ${row.watchSec}`);

  const analyst = await signIn('analyst');
  await analyst.goto(`${base}/analytics`);
  await analyst.getByTestId('top-table').waitFor();
  await analyst.waitForFunction(() =>
    /认识钟表/.test(document.querySelector('[data-testid="top-table"]')?.textContent ?? ''),
  );
  await analyst
    .getByTestId('top-table')
    .locator('tr', { hasText: '认识钟表' })
    .getByTestId('pick-retention')
    .click();
  await waitText(analyst, 'retention-sessions', /共 1 次观看会话/);
  await page.close();
  await analyst.close();
});

test('the player keeps its beacons through 503s (retried, none lost) and a closed tab still sends its end', async () => {
  assert.ok(playable, 'runs after the player test');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const answered: { status: number; events: Beacon[] }[] = [];
  let refused = 0;
  // The ingest is down for the first two batches (503 + Retry-After), then back.
  await ctx.route('**/api/analytics/beacons*', async (route) => {
    const events = (JSON.parse(route.request().postData() ?? '{"events":[]}') as { events: Beacon[] }).events;
    if (refused < 2) {
      refused++;
      answered.push({ status: 503, events });
      await route.fulfill({ status: 503, headers: { 'retry-after': '1' }, body: '' });
      return;
    }
    const res = await route.fetch();
    answered.push({ status: res.status(), events });
    await route.fulfill({ response: res });
  });
  // the previous test's session left this student a resume position (kept per user on the server): this
  // session plays from the start, so that its watch time is the 19 s below
  const reset = await api.app.http.inject({
    method: 'PUT',
    url: `/api/me/positions/${playable}`,
    headers: { authorization: `Bearer ${api.tokens.student}` },
    payload: { positionSec: 0 },
  });
  assert.equal(reset.statusCode, 200, reset.body);
  const before = await get('/api/analytics/top-lessons?limit=50', AnalyticsTopLessons);
  const was = before.items.find((l) => l.lessonId === playable);
  assert.ok(was && was.views.web === 1, 'the previous test’s one view');
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(`student.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.goto(`${base}/lessons/${playable}`);
  await page.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('video#player')?.readyState ?? 0) >= 1,
    null,
    { timeout: 20_000 },
  );
  await page.evaluate(() => document.querySelector<HTMLVideoElement>('video#player')?.play());
  // two flushes refused (at ~5 s and ~10 s), the retry goes through
  await until(
    'a retry accepted',
    async () => answered,
    (a) => a.some((x) => x.status === 202),
    40_000,
  );
  assert.equal(refused, 2);
  const refusedIds = answered.filter((a) => a.status === 503).flatMap((a) => a.events.map((e) => e.eventId));
  const delivered = new Set(
    answered.filter((a) => a.status === 202).flatMap((a) => a.events.map((e) => e.eventId)),
  );
  assert.ok(refusedIds.length > 0);
  for (const id of refusedIds)
    assert.ok(delivered.has(id), `event ${id}, refused with 503, delivered on retry`);
  await page.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('video#player')?.currentTime ?? 0) >= 19,
    null,
    { timeout: 30_000 },
  );
  // The tab goes away mid-play: pagehide ends the session and hands the queue to sendBeacon (which
  // page.route does not see: the ingest's figures tell).
  await page.goto('about:blank');
  const after = await until(
    'the second session counted, its end included',
    () => get('/api/analytics/top-lessons?limit=50', AnalyticsTopLessons),
    (t) => {
      const l = t.items.find((x) => x.lessonId === playable);
      return !!l && l.views.web === 2 && l.watchSec >= was.watchSec + 18;
    },
    20_000,
  );
  const now = after.items.find((l) => l.lessonId === playable)!;
  assert.ok(now.watchSec <= was.watchSec + 22, `watch time counted once: ${was.watchSec} → ${now.watchSec}`);
  await ctx.close();
});

test('screenshots: zh-CN and en, desktop and phone; nothing overflows a phone', async () => {
  for (const lang of ['zh-CN', 'en'] as const) {
    for (const [label, width] of [
      ['desktop', 1280],
      ['phone', 375],
    ] as const) {
      const page = await signIn('analyst', { lang, width });
      await page.goto(`${base}/analytics`);
      await page.getByTestId('top-table').waitFor();
      await page.getByTestId('quality-table').waitFor();
      await page.waitForTimeout(600); // charts animate in
      if (lang === 'en') assert.match(await page.locator('h1').innerText(), /Viewing dashboard/);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${lang} ${label}: no horizontal scrolling (overflow ${overflow}px)`);
      await page.screenshot({ path: join(SHOTS, `dashboard.${lang}.${label}.png`), fullPage: true });
      if (label === 'phone') {
        // the full phone page is too tall to look at in one image: also in screen-sized parts
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        for (let y = 0, i = 1; y < height; y += 1100, i++)
          await page.screenshot({
            path: join(SHOTS, `dashboard.${lang}.phone.part${i}.png`),
            fullPage: true,
            clip: { x: 0, y, width: 375, height: Math.min(1100, height - y) },
          });
      }
      await page.close();
    }
  }
  // City scale (the term's shape: 1.353M web and 0.938M TV views a day), answered by page.route in the
  // contract's shapes: big figures stay readable and the 10万+ lessons carry their badge.
  const city = await signIn('analyst');
  const pp = (web: number, tv: number) => ({ web, tv, 'live-webrtc': 0, total: web + tv });
  await city.route('**/api/analytics/summary*', (route) =>
    route.fulfill({
      json: {
        from: chinaDay(Date.now()),
        to: chinaDay(Date.now()),
        views: pp(1_353_000, 938_000),
        watchSec: pp(1_353_000 * 1500, 938_000 * 1700),
        uniques: pp(702_000, 455_000),
        concurrentNow: pp(81_234, 40_100),
        peakToday: { viewers: 286_512, at: new Date().toISOString() },
        heartbeatSec: 60,
        lagSec: 3,
        generatedAt: new Date().toISOString(),
      },
    }),
  );
  await city.route('**/api/analytics/top-lessons*', (route) =>
    route.fulfill({
      json: {
        from: chinaDay(Date.now()),
        to: chinaDay(Date.now()),
        items: [
          {
            lessonId: 'l1',
            title: '分数的初步认识',
            grade: 'p3',
            subject: '数学',
            views: pp(120_500, 84_000),
            watchSec: 1e8,
            uniques: 190_000,
          },
          {
            lessonId: 'l2',
            title: '古诗二首',
            grade: 'p4',
            subject: '语文',
            views: pp(60_000, 45_000),
            watchSec: 5e7,
            uniques: 99_000,
          },
          {
            lessonId: 'l3',
            title: '认识钟表',
            grade: 'p1',
            subject: '数学',
            views: pp(40_000, 20_000),
            watchSec: 3e7,
            uniques: 58_000,
          },
        ],
      },
    }),
  );
  await city.goto(`${base}/analytics`);
  await waitText(city, 'views-value', '229.1万');
  assert.equal(await city.getByTestId('views-value').getAttribute('title'), '2,291,000');
  assert.equal(await text(city, 'views-web-value'), '135.3万');
  assert.equal(await text(city, 'watch-value'), '100.7万 小时');
  const cityOverflow = await city.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(cityOverflow <= 1, `city-scale figures fit (overflow ${cityOverflow}px)`);
  assert.equal(
    await city.getByTestId('top-table').locator('.an-badge').count(),
    2,
    '10万+: 204,500 and 105,000',
  );
  assert.match(await city.getByTestId('top-table').locator('tbody tr').first().innerText(), /10万\+/);
  await city.waitForTimeout(600);
  await city.screenshot({ path: join(SHOTS, 'dashboard.city-scale.zh-CN.png'), fullPage: true });
  await city.close();

  // the analyst's home: today's headline figures and the way in
  const home = await signIn('analyst');
  await home.getByTestId('today-viewing').waitFor();
  await home.waitForFunction(() =>
    /\d/.test(document.querySelector('[data-testid="today-viewing"] .stat-value')?.textContent ?? ''),
  );
  await home.screenshot({ path: join(SHOTS, 'analyst-home.zh-CN.png'), fullPage: true });
  await home.getByTestId('open-dashboard').click();
  await home.getByTestId('dashboard').waitFor();
  await home.close();
});
