// The 10-foot UI on a real gateway, driven like a set-top box: by remote keys only (arrows, OK, Back).
// A real api with a transcoded lesson, a curriculum with twelve channels, and the gateway with a shifted
// clock, as in tv-channel.test.ts; the TV build (web-client/dist/tv) served from the gateway's root. The
// box pairs, zaps, opens the guide and plays a catch-up and an on-demand lesson; the web's /pair page
// confirms a code. Screenshots land in test-results/tv/ to be looked at.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GRADE_IDS, GRADE_NAMES, type GuideProgramme, type Plan } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, type TestApi } from '../api/test/helpers.js';
import { distance } from '../web-client/src/tv/focus.js';
import { startTvStack, type TvStack } from './tv-stack.js';
import {
  channelProgrammes,
  dayGroups,
  neighbour,
  nowAndNext,
  programmeStates,
  startIndex,
  timeRange,
} from '../web-client/src/tv/schedule.js';
import { tvRemote } from './tv-remote.js';
import { testTerm } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const TV_UI_DIR = join(ROOT, 'web-client', 'dist', 'tv');
const WEB_DIST_DIR = join(ROOT, 'web-client', 'dist');
const SHOTS = join(ROOT, 'test-results', 'tv');
const TERM_START = '2026-11-23'; // a Monday
const TEACHERS = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙'];
/** Five of each in a one-week term: two lessons a day per grade, so a day has one aired and one on air. */
const TITLES: Record<string, string[]> = {
  math: ['认识钟表', '两位数加减法', '认识图形', '认识人民币', '找规律'],
  chinese: ['古诗二首', '春夏秋冬', '小蝌蚪找妈妈', '画杨桃', '植物妈妈有办法'],
};

/** The gateway's clock (stack.shift) starts 15 s into p1's second lesson of a day. */
let stack: TvStack;
let api: TestApi;
let gateway: TvStack['gateway'];
let base: string;
let web: string;
let browser: Browser & { dispose(): Promise<void> };
let tv: Page;
/** Every CSP violation the box met (the gateway's CSP: scripts 'self', hls.js's blob: media and workers). */
const cspViolations: string[] = [];
/** p1's first programme of the day (aired: catch-up) and its second (live when the tests begin). */
let aired: GuideProgramme;
let live: GuideProgramme;

// ---- the pure parts of the UI ----

const programme = (over: Partial<GuideProgramme>): GuideProgramme => ({
  channelId: 'tv-p1',
  lessonId: 'l',
  title: 't',
  subject: 'math',
  grade: 'p1',
  start: '2026-11-23T00:00:00.000Z',
  stop: '2026-11-23T00:20:00.000Z',
  live: false,
  ...over,
});

test('the guide’s states come from the gateway’s flags, not the box’s clock', () => {
  const day = [
    programme({ lessonId: 'a', start: '2026-11-23T00:00:00.000Z', stop: '2026-11-23T00:20:00.000Z' }),
    programme({
      lessonId: 'b',
      start: '2026-11-23T01:00:00.000Z',
      stop: '2026-11-23T01:20:00.000Z',
      catchupUrl: 'x',
    }),
    programme({
      lessonId: 'c',
      start: '2026-11-23T02:00:00.000Z',
      stop: '2026-11-23T02:20:00.000Z',
      catchupUrl: 'y',
      live: true,
    }),
    programme({ lessonId: 'd', start: '2026-11-24T00:00:00.000Z', stop: '2026-11-24T00:20:00.000Z' }),
  ];
  // A box that thinks it is 1970 still sees what has aired.
  assert.deepEqual(programmeStates(day, 0), ['ended', 'catchup', 'live', 'upcoming']);
  const { now, next } = nowAndNext(day, 0);
  assert.equal(now?.lessonId, 'c');
  assert.equal(next?.lessonId, 'd');
  assert.equal(startIndex(programmeStates(day, 0)), 2);
  // No flags at all (catch-up off, nothing live): the box's clock decides.
  const bare = day.map(({ catchupUrl: _c, ...p }) => ({ ...p, live: false }));
  assert.deepEqual(programmeStates(bare, Date.parse('2026-11-23T01:30:00Z')), [
    'ended',
    'ended',
    'upcoming',
    'upcoming',
  ]);
  assert.equal(startIndex(programmeStates(bare, Date.parse('2026-11-23T01:30:00Z'))), 2);
  // Beijing days and times.
  assert.equal(timeRange(day[0]!), '08:00–08:20');
  assert.deepEqual(
    dayGroups(day).map((g) => [g.date, g.weekday, g.items]),
    [
      ['2026-11-23', 1, [0, 1, 2]],
      ['2026-11-24', 2, [3]],
    ],
  );
  assert.deepEqual(
    channelProgrammes([day[3]!, programme({ channelId: 'tv-p2' }), day[0]!], 'tv-p1').map((p) => p.lessonId),
    ['a', 'd'],
  );
  const lineup = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  assert.equal(neighbour(lineup, 'c', 1)?.id, 'a');
  assert.equal(neighbour(lineup, 'a', -1)?.id, 'c');
});

test('D-pad moves go to the nearest box in line, and from a row’s first tile to the next row’s first', () => {
  const box = (left: number, top: number, w = 100, h = 50) => ({
    left,
    top,
    right: left + w,
    bottom: top + h,
  });
  const from = box(0, 100);
  assert.equal(distance(from, box(0, 0), 'down'), Infinity);
  assert.ok(distance(from, box(0, 200), 'down') < distance(from, box(120, 200), 'down'));
  assert.ok(distance(from, box(300, 100), 'right') < Infinity);
  // Sideways never leaves the row.
  assert.equal(distance(from, box(120, 200), 'right'), Infinity);
  // Two menu items above a tile, both overlapping it: the one aligned with its left edge.
  const tile = box(0, 100, 200, 100);
  assert.ok(distance(tile, box(0, 0, 90, 40), 'up') < distance(tile, box(100, 0, 90, 40), 'up'));
});

// ---- the set-top box ----

const { press, focused, waitScreen, shot } = tvRemote({ shots: SHOTS });
/** Waits until the video has played past `sec`, then checks it keeps advancing. */
async function playsPast(page: Page, sec: number): Promise<number> {
  await page.waitForFunction(
    (s) => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) > s,
    sec,
    { timeout: 30_000 },
  );
  const t0 = await page.evaluate(() => document.querySelector<HTMLVideoElement>('video')!.currentTime);
  await page.waitForTimeout(1500);
  const t1 = await page.evaluate(() => document.querySelector<HTMLVideoElement>('video')!.currentTime);
  assert.ok(t1 > t0 + 0.5, `the video advances (${t0} → ${t1})`);
  return t1;
}

// ---- the phone end: the web's /pair page ----

async function webLogin(page: Page, username: string): Promise<void> {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
}

async function newCode(): Promise<{
  device_code: string;
  user_code: string;
  verification_uri_complete: string;
}> {
  const res = await fetch(`${base}/device/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 200);
  return res.json() as Promise<{ device_code: string; user_code: string; verification_uri_complete: string }>;
}

// ---- on a real gateway ----

describe('the 10-foot UI and the /pair page on a real gateway, api and curriculum', () => {
  before(async () => {
    assert.ok(
      existsSync(join(TV_UI_DIR, 'index.html')),
      'build the TV UI first: npm run build -w web-client',
    );
    mkdirSync(SHOTS, { recursive: true });
    const rules = { slots: ['08:00', '09:00', '10:00'], maxDaily: 3, lessonMinutes: 20 };
    const plan = (vodLessonId: string): Plan => ({
      term: testTerm(rules),
      subjects: [
        {
          code: 'math',
          zh: '数学',
          en: 'Maths',
          stages: ['primary', 'junior', 'senior'],
          weeklyQuota: 5,
          core: true,
        },
        {
          code: 'chinese',
          zh: '语文',
          en: 'Chinese',
          stages: ['primary', 'junior', 'senior'],
          weeklyQuota: 5,
          core: true,
        },
      ],
      teachers: GRADE_IDS.map((g, i) => ({
        id: `t-${g}`,
        name: `${TEACHERS[i]}老师`,
        subjects: ['math', 'chinese'],
        grades: [g],
        unavailable: [],
      })),
      channels: GRADE_IDS.map((g, i) => ({
        id: `tv-${g}`,
        kind: 'tv' as const,
        number: i + 1,
        zh: `空中课堂 ${GRADE_NAMES[g].zh}`,
        en: `Sky Classroom ${g.toUpperCase()}`,
        grades: [g],
      })),
      lessons: GRADE_IDS.flatMap((g) =>
        Object.entries(TITLES).flatMap(([subject, titles]) =>
          titles.map((title, i) => ({
            id: `${g}-${subject}-${i + 1}`,
            title,
            grade: g,
            subject,
            unit: '第一单元',
            order: i + 1,
            durationMin: 20,
            teacherId: `t-${g}`,
            recording: 'ready' as const,
            vodLessonId,
          })),
        ),
      ),
    });
    stack = await startTvStack({ plan, apiEnv: { WEB_DIST_DIR }, gatewayEnv: { TV_UI_DIR } });
    ({ api, base, web, gateway } = stack);

    // The first day on which p1 has two lessons: the clock starts 15 s into the second, so a viewer
    // tuning in a few seconds later, about 20 s behind the live edge, sees the lesson.
    const term = Date.parse(`${TERM_START}T00:00:00+08:00`) / 1000;
    const p1 = await gateway.channels.guide(term, term + 14 * 86400, 'tv-p1');
    const byDay = new Map<string, GuideProgramme[]>();
    for (const p of p1) {
      const day = new Date(Date.parse(p.start) + 8 * 3600_000).toISOString().slice(0, 10);
      byDay.set(day, [...(byDay.get(day) ?? []), p]);
    }
    const day = [...byDay.values()].find((d) => d.length >= 2);
    assert.ok(day, `p1 has a day with two lessons: ${JSON.stringify(p1.map((p) => [p.lessonId, p.start]))}`);
    [aired, live] = [day[0]!, day[1]!];
    stack.shift = Date.parse(live.start) / 1000 + 15 - Date.now() / 1000;

    browser = await launchChromium();
    tv = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await tv.exposeFunction('__cspViolation', (v: string) => cspViolations.push(v));
    await tv.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __cspViolation(v: string): void }).__cspViolation(
          `${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`,
        );
      });
    });
    tv.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  after(async () => {
    await browser?.dispose();
    await stack?.close();
  });

  test('first start: pairing shows the code and a QR of the /pair page; a family member confirms it and the box goes home', async () => {
    await tv.goto(`${base}/`);
    await waitScreen(tv, 'pairing');
    await tv.waitForFunction(
      () =>
        /^[A-Z]{4}-[A-Z]{4}$/.test(document.querySelector('[data-testid="user-code"]')?.textContent ?? ''),
      null,
      { timeout: 10_000 },
    );
    const userCode = await tv.getByTestId('user-code').innerText();
    const qr = await tv.locator('img.pair-qr').getAttribute('data-qr');
    assert.equal(qr, `${web}/pair?code=${userCode}`);
    assert.equal(await tv.getByTestId('verification-uri').innerText(), `${web}/pair`);
    assert.equal(await focused(tv), 'pairing-skip', 'Skip has the focus');
    await shot(tv, 'pairing');

    // a real household (the box asks the api for Q&A codes as it)
    const family = api.tokens.family;
    const approved = await fetch(`${base}/device/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${family}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_code: userCode, name: '客厅电视' }),
    });
    assert.equal(approved.status, 200, await approved.text());
    // The box polls every 5 s.
    await waitScreen(tv, 'home', 15_000);
    assert.match(await tv.getByTestId('device-name').innerText(), /客厅电视/);
    const stored = await tv.evaluate(() => localStorage.getItem('sky.tv.device'));
    assert.match(stored ?? '', /"token":"stb_/);
  });

  test('home: twelve channels by number with what is on air, the first one focused', async () => {
    await tv.waitForFunction(() => document.querySelectorAll('.channel-tile').length === 12, null, {
      timeout: 10_000,
    });
    const tiles = await tv.locator('.channel-tile').allInnerTexts();
    assert.match(tiles[0]!, /01[\s\S]*空中课堂 一年级/);
    assert.match(tiles[11]!, /12[\s\S]*空中课堂 高三/);
    await tv.waitForFunction(
      (title) => document.querySelector('[data-testid="channel-tv-p1"]')?.textContent?.includes(title),
      live.title,
      { timeout: 10_000 },
    );
    assert.equal(await focused(tv), 'channel:tv-p1');
    await press(tv, 'ArrowRight');
    assert.equal(await focused(tv), 'channel:tv-p2');
    await press(tv, 'ArrowDown');
    assert.equal(await focused(tv), 'channel:tv-p6');
    await press(tv, 'ArrowUp');
    await press(tv, 'ArrowLeft');
    await press(tv, 'ArrowUp');
    assert.equal(await focused(tv), 'menu:guide');
    await press(tv, 'ArrowDown');
    assert.equal(await focused(tv), 'channel:tv-p1');
    await shot(tv, 'home');
    // The same screen on a 1080p box: sized in vh/vw, it only gets sharper.
    await tv.setViewportSize({ width: 1920, height: 1080 });
    await shot(tv, 'home-1080p');
    await tv.setViewportSize({ width: 1280, height: 720 });
  });

  test('OK on a channel plays it full screen; Down and Up zap; Back returns home to that channel', async () => {
    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    assert.equal(await tv.getByTestId('player').getAttribute('data-kind'), 'live');
    await playsPast(tv, 1);
    assert.ok((await tv.evaluate(() => document.querySelector('video')!.videoWidth)) > 0);
    // the paired box shows the Q&A code of the lesson on air (test/tv-qa-ui.test.ts follows it to a phone)
    await tv.locator('.tv-qa img').waitFor({ timeout: 10_000 });
    assert.match(
      (await tv.locator('.tv-qa img').getAttribute('data-qr')) ?? '',
      new RegExp(`^${web}/qa/tv/\\d{6}$`),
    );
    await press(tv, 'Enter');
    const info = await tv.getByTestId('infobar').innerText();
    assert.match(info, /空中课堂 一年级/);
    assert.match(info, new RegExp(live.title));
    await shot(tv, 'player');

    await press(tv, 'ArrowDown');
    assert.match(await tv.getByTestId('infobar').innerText(), /02[\s\S]*空中课堂 二年级/);
    await playsPast(tv, 1);
    await press(tv, 'ArrowUp');
    assert.match(await tv.getByTestId('infobar').innerText(), /01[\s\S]*空中课堂 一年级/);
    await press(tv, 'ArrowDown');
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
    assert.equal(await focused(tv), 'channel:tv-p2', 'home focuses the channel last watched');
    await press(tv, 'ArrowLeft');
  });

  test('the guide: Left/Right change the channel, Up/Down its programmes; OK on an aired one plays catch-up', async () => {
    await press(tv, 'ArrowUp');
    assert.equal(await focused(tv), 'menu:guide');
    await press(tv, 'Enter');
    await waitScreen(tv, 'guide');
    const list = tv.getByTestId('guide-programmes');
    assert.equal(await list.getAttribute('data-channel'), 'tv-p1');
    // The cursor starts on the live programme.
    assert.equal(await focused(tv), `programme:tv-p1:${live.lessonId}:${live.start}`);
    assert.equal(
      await tv.getByTestId(`programme-${live.lessonId}`).locator('[data-state]').getAttribute('data-state'),
      'live',
    );
    await press(tv, 'ArrowRight');
    assert.equal(await list.getAttribute('data-channel'), 'tv-p2');
    await press(tv, 'ArrowLeft');
    assert.equal(await list.getAttribute('data-channel'), 'tv-p1');
    await press(tv, 'ArrowUp');
    assert.equal(await focused(tv), `programme:tv-p1:${aired.lessonId}:${aired.start}`);
    assert.equal(
      await tv.getByTestId(`programme-${aired.lessonId}`).locator('[data-state]').getAttribute('data-state'),
      'catchup',
    );
    await shot(tv, 'guide');

    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    assert.equal(await tv.getByTestId('player').getAttribute('data-kind'), 'catchup');
    await playsPast(tv, 2);
    // A catch-up is a recording: it has an end, unlike the live channel.
    const duration = await tv.evaluate(() => document.querySelector('video')!.duration);
    assert.ok(Math.abs(duration - 30) < 2, `catch-up lasts ${duration} s`);
    await press(tv, 'Enter');
    assert.match(await tv.getByTestId('infobar').innerText(), new RegExp(aired.title));
    await shot(tv, 'player-catchup');
    await press(tv, 'Escape');
    await waitScreen(tv, 'guide');
    assert.equal(await focused(tv), `programme:tv-p1:${aired.lessonId}:${aired.start}`);
    await press(tv, 'Backspace');
    await waitScreen(tv, 'home');
  });

  test('on demand: grade → subject → lesson plays the recording; Back steps back', async () => {
    await press(tv, 'ArrowUp');
    await press(tv, 'ArrowRight');
    assert.equal(await focused(tv), 'menu:ondemand');
    await press(tv, 'Enter');
    await waitScreen(tv, 'ondemand');
    assert.equal(await focused(tv), 'grade:p1');
    await shot(tv, 'ondemand');
    await press(tv, 'Enter');
    await tv.getByTestId('subject-数学').waitFor();
    assert.equal(await focused(tv), 'subject:数学');
    await press(tv, 'Enter');
    await tv.locator('.lesson-row').first().waitFor();
    assert.match(await tv.locator('.lesson-row').first().innerText(), /认识钟表/);
    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    assert.equal(await tv.getByTestId('player').getAttribute('data-kind'), 'vod');
    await playsPast(tv, 1);
    await press(tv, 'Escape');
    await waitScreen(tv, 'ondemand');
    await press(tv, 'Escape');
    await tv.getByTestId('subject-数学').waitFor();
    await press(tv, 'Escape');
    await tv.getByTestId('grade-p1').waitFor();
    assert.equal(await focused(tv), 'grade:p1');
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
  });

  test('settings name the household’s TV; pairing again starts from there', async () => {
    assert.equal(await focused(tv), 'menu:ondemand', 'home focuses the menu item last used');
    await press(tv, 'ArrowRight');
    assert.equal(await focused(tv), 'menu:settings');
    await press(tv, 'ArrowRight');
    assert.equal(await focused(tv), 'menu:settings', 'Right at the end of a row stays there');
    await press(tv, 'Enter');
    await waitScreen(tv, 'settings');
    assert.match(await tv.getByTestId('settings-device').innerText(), /已配对：客厅电视/);
    assert.equal(await focused(tv), 'settings-pair');
    await shot(tv, 'settings');
    // English, the second language: OK on the language item, and back.
    await press(tv, 'ArrowDown', 2);
    await press(tv, 'Enter');
    assert.match(await tv.getByTestId('settings-device').innerText(), /Paired: 客厅电视/);
    await shot(tv, 'settings.en');
    await press(tv, 'Enter');
    assert.match(await tv.getByTestId('settings-device').innerText(), /已配对/);
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
    assert.equal(await focused(tv), 'menu:settings');
  });

  test('pairing again from settings: an expired code offers a new one on OK; Back returns to settings', async () => {
    await press(tv, 'Enter');
    await waitScreen(tv, 'settings');
    await press(tv, 'Enter');
    await waitScreen(tv, 'pairing');
    const code = tv.getByTestId('user-code');
    await tv.waitForFunction(() =>
      /^[A-Z]{4}-[A-Z]{4}$/.test(document.querySelector('[data-testid="user-code"]')?.textContent ?? ''),
    );
    const first = await code.innerText();
    // Eleven minutes pass on the gateway's clock: the next poll hears expired_token.
    stack.shift += 660;
    try {
      await tv.waitForFunction(
        () => /过期/.test(document.querySelector('[data-testid="pairing-status"]')?.textContent ?? ''),
        null,
        { timeout: 15_000 },
      );
      assert.equal(await focused(tv), 'pairing-new-code');
      await shot(tv, 'pairing-expired');
      await press(tv, 'Enter');
      await tv.waitForFunction(
        (old) => {
          const text = document.querySelector('[data-testid="user-code"]')?.textContent ?? '';
          return /^[A-Z]{4}-[A-Z]{4}$/.test(text) && text !== old;
        },
        first,
        { timeout: 10_000 },
      );
      assert.equal(await focused(tv), 'pairing-skip');
    } finally {
      stack.shift -= 660;
    }
    await press(tv, 'Escape');
    await waitScreen(tv, 'settings');
    assert.match(await tv.getByTestId('settings-device').innerText(), /已配对：客厅电视/);
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
  });

  test('the /pair page: signed out → login → back with the code filled in; confirming pairs the box', async () => {
    const code = await newCode();
    const page = await browser.newPage({ viewport: { width: 390, height: 800 } });
    try {
      await page.goto(code.verification_uri_complete);
      await page.waitForURL(/\/login/);
      await webLogin(page, `family.${api.prefix}`);
      await page.waitForURL(/\/pair\?code=/);
      assert.equal(await page.getByTestId('pair-code').inputValue(), code.user_code);
      await page.getByTestId('pair-name').fill('书房电视');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page fits a phone (overflow ${overflow}px)`);
      await page.screenshot({ path: join(SHOTS, 'web-pair.png') });
      await page.getByTestId('pair-submit').click();
      await page.getByTestId('pair-done').waitFor();
      assert.match(await page.getByTestId('pair-done').innerText(), /书房电视/);
      await page.screenshot({ path: join(SHOTS, 'web-pair-done.png') });
      const token = await fetch(`${base}/device/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: code.device_code,
        }),
      });
      assert.equal(token.status, 200);
      assert.equal(((await token.json()) as { device: { name: string } }).device.name, '书房电视');

      // A code that does not exist.
      await page.getByRole('button', { name: '再配对一台' }).click();
      await page.getByTestId('pair-code').fill('BCDF-GHJK');
      await page.getByTestId('pair-submit').click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /代码不正确或已过期/);
      await page.screenshot({ path: join(SHOTS, 'web-pair-wrong.png') });
    } finally {
      await page.close();
    }
  });

  test('the /pair page says why a teacher cannot pair, and when there were too many wrong codes', async () => {
    const code = await newCode();
    const teacherPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await teacherPage.goto(code.verification_uri_complete);
      await webLogin(teacherPage, `teacher.${api.prefix}`);
      await teacherPage.waitForURL(/\/pair\?code=/);
      await teacherPage.getByTestId('pair-submit').click();
      await teacherPage.getByRole('alert').waitFor();
      assert.match(await teacherPage.getByRole('alert').innerText(), /只能与家庭或学生账号配对/);
    } finally {
      await teacherPage.close();
    }

    // Five wrong codes from the student's account, then the page.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${web}/api/tv/device/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.tokens.student}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_code: 'BCDFBCDF' }),
      });
      assert.equal(res.status, 404);
    }
    const studentPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await studentPage.goto(code.verification_uri_complete);
      await webLogin(studentPage, `student.${api.prefix}`);
      await studentPage.waitForURL(/\/pair\?code=/);
      await studentPage.getByTestId('pair-submit').click();
      await studentPage.getByRole('alert').waitFor();
      assert.match(await studentPage.getByRole('alert').innerText(), /错误次数太多/);
      await studentPage.screenshot({ path: join(SHOTS, 'web-pair-too-many.png') });
    } finally {
      await studentPage.close();
    }
  });

  test('the box paired, zapped, played live, catch-up and on demand under the gateway’s CSP: no violation', () => {
    assert.deepEqual(cspViolations, []);
  });
});
