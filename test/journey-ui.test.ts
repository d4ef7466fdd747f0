// The students' and teachers' daily journeys (issue 17) in Chromium, on the whole stack: the real api
// serving the built web client, the curriculum service scheduling today's timetable, the tv-gateway
// stitching the grade's channel, the sfu (mediasoup, the live HLS bridge's ffmpeg) and a teacher with a
// fake camera — mongod and redis-server real too. A student goes from their home to today's recorded
// lesson, to the grade channel's "on now", and to a lesson going live (found without a reload) where they
// ask; the teacher answers inside the studio, counts the class without herself, and ends.
//
// The journey happens at a chosen Beijing time of today — JOURNEY_NOW=HH:MM[:SS], 10:00 unless told, or
// JOURNEY_NOW=real for the machine's clock — so it passes at any hour: the browsers' clocks (page.clock)
// and the gateway's start there and then run; the api, the sfu and the live lesson keep real time (no part
// of the journey asks them the hour). Today's timetable is built around that "now": the recorded lesson's
// slot began a minute ago; the gateway's clock is put at that slot's first seconds when the channel is
// watched, so the channel shows the lesson rather than the slate after it. (Within the last 80 minutes
// before Beijing midnight the slots go before the current one, which may run past midnight.) Screenshots in
// zh-CN and English at 1280x720 and 390x844: JOURNEY_SHOTS, else test-results/journey.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  BEIJING_OFFSET,
  beijingToday,
  slotInstant,
  type Lesson,
  type Plan,
  type TokenPair,
} from '@sky/contracts';
import { logOptions } from '@sky/contracts/http';
import { freePort, launchChromium, reserveRtcPorts, testLogger } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, type TestApi } from '../api/test/helpers.js';
import type { SfuApp } from '../sfu/src/app.js';
import { composeSfu } from '../sfu/src/compose.js';
import { loadConfig as loadSfuConfig } from '../sfu/src/config.js';
import { actorOf, dayTerm } from './fixtures.js';
import { SECRET, startTvStack, type TvStack } from './tv-stack.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = process.env['JOURNEY_SHOTS'] ?? join(ROOT, 'test-results', 'journey');
const WEB_DIST = process.env['SKY_WEB_DIST'] ?? join(ROOT, 'web-client', 'dist');
const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };
const DISTRICT = '海淀区';
const SCHOOL = '中关村第一小学';
const LESSON_MIN = 30;

// ---- Today's timetable around the journey's "now" (Beijing time)
/** The journey's start: JOURNEY_NOW's Beijing time of today, or the real clock. */
function journeyStart(spec: string): number {
  if (spec === 'real') return Date.now();
  const m = /^(\d\d):(\d\d)(?::(\d\d))?$/.exec(spec);
  if (!m) throw new Error(`JOURNEY_NOW=${spec}: HH:MM, HH:MM:SS or real`);
  return Date.parse(`${beijingToday()}T${m[1]}:${m[2]}:${m[3] ?? '00'}${BEIJING_OFFSET}`);
}
const REAL = process.env['JOURNEY_NOW'] === 'real';
/** How far the journey's clock (the browsers', the gateway's) runs from the machine's, in ms. */
const SHIFT_MS = journeyStart(process.env['JOURNEY_NOW'] ?? '10:00') - Date.now();
const journeyNow = () => Date.now() + SHIFT_MS;
const today = beijingToday(journeyNow());
const clock = (min: number) =>
  `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
const nowMin = Math.floor(((journeyNow() / 60_000 + 8 * 60) % 1440) + 1440) % 1440;
/** The recorded lesson's slot: it began in the last minute or two. */
const nowSlot = Math.max(0, nowMin - 1);
const later = nowSlot + LESSON_MIN + 80 < 1440;
/** Slot start minutes, ascending; the current one first unless the day ends too soon for two after it. */
const slotMins = later ? [nowSlot, nowSlot + 40, nowSlot + 80] : [nowSlot - 80, nowSlot - 40, nowSlot];
/** What each slot holds, in slot order: the recorded lesson airs in the current slot. */
const kinds: ('ready' | 'live' | 'planned')[] = later
  ? ['ready', 'live', 'planned']
  : ['live', 'planned', 'ready'];
const RECORDED_TITLE = '认识钟表（录播）';
const LIVE_TITLE = '认识时间（直播）';

let stack: TvStack;
let api: TestApi;
let base: string;
let sfu: SfuApp;
let browser: Browser & { dispose(): Promise<void> };
/** The api lesson the recorded slot plays (the stack's 30 s lesson) and the one taught live. */
let recordedId: string;
let liveLesson: Lesson;
const student = { username: '', id: '' };
/** Beacon batches the api accepted, by user. */
const beacons: { username: string; body: string; status: number }[] = [];

function planOf(vodLessonId: string, liveId: string): Plan {
  const rules = { slots: slotMins.map(clock), maxDaily: 3, lessonMinutes: LESSON_MIN };
  const lessons = kinds.map((kind, i) => ({
    id: `p3-math-${i + 1}`,
    title: kind === 'ready' ? RECORDED_TITLE : kind === 'live' ? LIVE_TITLE : '认识时间（练习课）',
    grade: 'p3' as const,
    subject: 'math',
    unit: '第一单元 时、分、秒',
    order: i + 1,
    durationMin: LESSON_MIN,
    teacherId: 't-p3',
    recording: kind,
    ...(kind === 'ready' ? { vodLessonId } : kind === 'live' ? { vodLessonId: liveId } : {}),
    ...(kind === 'planned' ? { readyOn: today } : {}),
  }));
  return {
    term: dayTerm(rules, today, 3),
    subjects: [{ code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 3, core: true }],
    teachers: [{ id: 't-p3', name: '李老师', subjects: ['math'], grades: ['p3'], unavailable: [] }],
    channels: [
      {
        id: 'tv-p3',
        kind: 'tv',
        number: 3,
        zh: '空中课堂 三年级',
        en: 'Sky Classroom Grade 3',
        grades: ['p3'],
      },
      { id: 'web-p3', kind: 'web', number: 103, zh: '三年级（网络）', en: 'Grade 3 (web)', grades: ['p3'] },
    ],
    lessons,
  };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const sfuPort = await freePort();
  const sfuUrl = `http://127.0.0.1:${sfuPort}`;
  stack = await startTvStack({
    apiEnv: { WEB_DIST_DIR: WEB_DIST, SFU_URL: sfuUrl, SFU_PUBLIC_URL: sfuUrl },
    plan: async (vodLessonId, testApi) => {
      recordedId = vodLessonId;
      liveLesson = await testApi.app.services.lessons.create(await actorOf(testApi, 'teacher'), {
        title: LIVE_TITLE,
        grade: 'p3',
        subject: '数学',
      });
      return planOf(vodLessonId, liveLesson.id);
    },
  });
  api = stack.api;
  base = stack.web;
  stack.shift = SHIFT_MS / 1000;

  const [rtcMin, rtcMax] = reserveRtcPorts();
  const config = loadSfuConfig({
    ...process.env,
    NUM_WORKERS: '1',
    LOG_LEVEL: 'silent',
    RTC_MIN_PORT: String(rtcMin),
    RTC_MAX_PORT: String(rtcMax),
    JWT_SECRET: SECRET,
    API_URL: base,
    MEDIA_DIR: api.mediaDir,
    REDIS_URL: api.redisUrl,
    QUEUE_PREFIX: api.prefix,
    LIVE_HLS_SEGMENT_SEC: '1',
  });
  ({ app: sfu } = await composeSfu(config, testLogger('sfu', logOptions('sfu', 'info')), {
    version: 'test',
  }));
  await sfu.http.listen({ host: '127.0.0.1', port: sfuPort });

  student.username = `journey-s.${api.prefix}`;
  const created = await api.app.services.users.create({
    username: student.username,
    password: PASSWORD,
    displayName: '王小明',
    role: 'student',
    grade: 'p3',
    district: DISTRICT,
    school: SCHOOL,
  });
  student.id = created.id;
  browser = await launchChromium({ fakeMedia: true });
  console.log(
    `[journey] now ${new Date(journeyNow()).toISOString()} (${REAL ? 'real' : `JOURNEY_NOW ${process.env['JOURNEY_NOW'] ?? '10:00'}`}), today ${today}, slots ${slotMins.map(clock).join(' ')} (${kinds.join(', ')})`,
  );
});

after(async () => {
  await browser?.dispose();
  await sfu?.close();
  await stack?.close();
});

/** A signed-in page (the refresh cookie the login page would set) in `lang`. */
async function open(
  username: string,
  path: string,
  lang: 'zh-CN' | 'en' = 'zh-CN',
  viewport = DESKTOP,
): Promise<Page> {
  const session: TokenPair = await api.login(username);
  const ctx = await browser.newContext({ viewport, locale: lang });
  if (!REAL) await ctx.clock.install({ time: journeyNow() });
  await ctx.addCookies([
    {
      name: 'sky_refresh',
      value: session.refreshToken,
      domain: '127.0.0.1',
      path: '/api/auth',
      httpOnly: true,
      sameSite: 'Strict',
    },
  ]);
  await ctx.addInitScript((l) => localStorage.setItem('sky.lang', l), lang);
  const page = await ctx.newPage();
  page.on('response', (res) => {
    const req = res.request();
    if (req.method() === 'POST' && req.url().includes('/api/analytics/beacons'))
      beacons.push({ username, body: req.postData() ?? '', status: res.status() });
  });
  page.on('pageerror', (e) => console.log(`[${username}] pageerror ${e.message}`));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${base}${path}`);
  return page;
}

const setLang = async (page: Page, lang: 'zh-CN' | 'en') => {
  await page.locator(`.lang button[lang="${lang}"]`).click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
};

/**
 * The page as a user sees it, in zh-CN and English, at 1280x720 and 390x844 (`focus` scrolled into view
 * first); on the phone nothing may be wider than the screen. The page is left in zh-CN at 1280x720.
 */
async function shoot(page: Page, name: string, focus?: string, english?: RegExp): Promise<void> {
  for (const lang of ['zh-CN', 'en'] as const) {
    await setLang(page, lang);
    if (lang === 'en' && english) await page.getByText(english).first().waitFor();
    for (const [size, viewport] of [
      ['1280', DESKTOP],
      ['390', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      if (focus) await page.locator(focus).first().scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(SHOTS, `${name}.${size}.${lang}.png`) });
      if (size === '390') {
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= 390, `${name} (${lang}) is ${wide} px wide on a 390 px phone`);
      }
    }
  }
  await page.setViewportSize(DESKTOP);
  await setLang(page, 'zh-CN');
}

/** A <video>'s playback: its position and the frames it has rendered. */
const playback = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const v = document.querySelector<HTMLVideoElement>(sel);
    return { t: v?.currentTime ?? -1, frames: v?.getVideoPlaybackQuality().totalVideoFrames ?? -1 };
  }, selector);

/** Waits until the video plays: its position moves on by `seconds` and it renders new frames meanwhile. */
async function plays(page: Page, selector: string, seconds = 2, timeout = 40_000) {
  await page.waitForFunction(
    (sel) => (document.querySelector<HTMLVideoElement>(sel)?.currentTime ?? 0) > 0.2,
    selector,
    { timeout },
  );
  const first = await playback(page, selector);
  await page.waitForFunction(
    ([sel, to]) => (document.querySelector<HTMLVideoElement>(sel!)?.currentTime ?? 0) > Number(to),
    [selector, String(first.t + seconds)],
    { timeout: 20_000 },
  );
  const second = await playback(page, selector);
  assert.ok(second.frames > first.frames, `frames rendered ${first.frames} → ${second.frames}`);
  return { first, second };
}

let home: Page;

test('the student’s home lists today’s lessons; the one on now plays on demand from there', async () => {
  home = await open(student.username, '/');
  const now = home.locator('[data-testid="today-slot"][data-now="true"]');
  await now.waitFor();
  assert.equal(await now.getAttribute('data-action'), 'recording');
  assert.match(await now.innerText(), /正在播出/);
  assert.match(await now.innerText(), new RegExp(RECORDED_TITLE.replace(/[()（）]/g, '.')));
  // every slot of today says what can be done with it
  const actions = await home
    .getByTestId('today-slot')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
  // (a live slot still to come waits for its teacher; one whose time has passed untaught was missed)
  assert.deepEqual(
    actions,
    kinds.map((k) => (k === 'ready' ? 'recording' : k === 'live' ? (later ? 'soon' : 'missed') : 'planned')),
  );
  // the week's timetable leads there too: the recorded slot links to its lesson, the live one to its class
  const grid = home.getByTestId('timetable');
  await grid.locator(`a.slot[href="/lessons/${recordedId}"]`).waitFor();
  await grid.locator(`a.slot[href="/live/${liveLesson.id}"]`).waitFor();
  assert.equal(
    await grid.locator('div.slot[data-testid="slot-cell"]').count(),
    1,
    'the planned one is not a link',
  );
  assert.equal(await home.getByTestId('live-now').getAttribute('data-count'), '0');
  await shoot(home, 'home-today', '[data-testid="today"]', /Today's lessons/);

  // from the home to the recording, playing
  await now.getByTestId('today-watch').click();
  await home.waitForURL(`**/lessons/${recordedId}`);
  const video = home.locator('video#player');
  await video.waitFor();
  // the student presses play (the native control, in the video's closed shadow root)
  await video.evaluate((v: HTMLVideoElement) => v.play());
  const { first, second } = await plays(home, 'video#player');
  console.log(
    `[journey] today's lesson on demand: currentTime ${first.t.toFixed(1)} → ${second.t.toFixed(1)} s, frames ${first.frames} → ${second.frames}`,
  );
  await shoot(home, 'today-lesson-playing', 'video#player', /Teacher/);
  await home.goBack();
  await home.getByTestId('today').waitFor();
});

test('“what’s on now” plays the grade’s channel on the web: the TV gateway’s stitched channel in hls.js', async () => {
  // the gateway's clock at the current slot's 26th second when the player first asks for the channel's
  // playlist, so the channel airs the 30 s lesson itself however long the page took to come
  const slotStart = Date.parse(slotInstant(today, clock(nowSlot))) / 1000;
  await home.route(
    (url) => url.href.startsWith(`${stack.base}/channels/tv-p3/`) && url.pathname.endsWith('.m3u8'),
    async (route) => {
      stack.shift = slotStart + 26 - Date.now() / 1000;
      await route.continue();
    },
    { times: 1 },
  );
  const lessonSegments: string[] = [];
  const gateway: string[] = [];
  home.on('request', (req) => {
    if (req.url().includes(`/media/lessons/${recordedId}/`)) lessonSegments.push(req.url());
    if (req.url().startsWith(stack.base)) gateway.push(req.url());
  });
  await home.locator('[data-testid="today-slot"][data-now="true"]').getByTestId('today-channel').click();
  await home.waitForURL('**/channels/tv-p3');
  const onNow = home.getByTestId('channel-on-now');
  await onNow.waitFor({ timeout: 15_000 });
  assert.match(await onNow.innerText(), new RegExp(RECORDED_TITLE.replace(/[()（）]/g, '.')));
  const { first, second } = await plays(home, '[data-testid="channel-video"]', 3, 60_000);
  console.log(
    `[journey] grade channel on the web: currentTime ${first.t.toFixed(1)} → ${second.t.toFixed(1)} s, frames ${first.frames} → ${second.frames}; ${gateway.length} gateway requests, ${lessonSegments.length} lesson segments`,
  );
  assert.ok(
    gateway.some((u) => /\/channels\/tv-p3\/\w+\.m3u8/.test(u)),
    'the channel’s own playlists, from the gateway',
  );
  assert.ok(lessonSegments.length > 0, 'the channel played the lesson’s segments (not only the slate)');
  // the programme card leads to the lesson on demand
  await onNow.getByTestId('channel-recording').waitFor();
  await shoot(home, 'channel-on-now', '[data-testid="channel-now"]', /On now/);
  // viewing beacons as the TV counts a channel: the programme on air, live, with district and school
  const programme = await onNow.getAttribute('data-lesson');
  type Sent = {
    type: string;
    lessonId: string;
    platform: string;
    live?: boolean;
    district?: string;
    school?: string;
  };
  const channelEvents = (): Sent[] =>
    beacons
      .filter((b) => b.username === student.username && b.status < 300)
      .flatMap((b) => (JSON.parse(b.body) as { events: Sent[] }).events)
      .filter((e) => e.lessonId === programme);
  // the client sends every 5 s; the start goes with the first batch after the first frame
  for (let i = 0; i < 60 && !channelEvents().some((e) => e.type === 'start'); i++)
    await new Promise((r) => setTimeout(r, 250));
  const sent = channelEvents();
  assert.ok(
    sent.some((e) => e.type === 'start'),
    `the channel page's start beacon under the programme ${programme}, accepted`,
  );
  for (const e of sent) {
    assert.equal(e.platform, 'web');
    assert.equal(e.live, true);
    assert.equal(e.district, DISTRICT);
    assert.equal(e.school, SCHOOL);
  }
  console.log(`[journey] channel page beacons: ${sent.map((e) => e.type).join(', ')} under ${programme}`);
  stack.shift = SHIFT_MS / 1000;
  await home.goto(`${base}/`);
});

let teacher: Page;
let live: Page;

test('a lesson going live appears on the student’s home without a reload; the lesson page says live', async () => {
  await home.getByTestId('live-now').waitFor();
  await home.evaluate(() => ((window as unknown as { journeyMark: number }).journeyMark = 17));
  teacher = await open(`teacher.${api.prefix}`, `/teacher/live/${liveLesson.id}`);
  await teacher.waitForSelector('[data-testid="studio-go-live"]:not([disabled])', { timeout: 20_000 });
  assert.equal(await teacher.getByTestId('studio-state').getAttribute('data-state'), 'idle');
  await teacher.getByTestId('studio-go-live').click();
  await teacher.waitForSelector('[data-testid="live-studio"][data-phase="live"]', { timeout: 20_000 });
  const wentLive = Date.now();

  const item = home.locator(`[data-testid="live-now-item"][data-lesson="${liveLesson.id}"]`);
  await item.waitFor({ timeout: 20_000 });
  const seenAfter = Date.now() - wentLive;
  assert.equal(
    await home.evaluate(() => (window as unknown as { journeyMark?: number }).journeyMark),
    17,
    'the same page, not reloaded',
  );
  console.log(`[journey] the student's home shows the live lesson ${seenAfter} ms after go-live, no reload`);
  assert.match(await item.innerText(), new RegExp(LIVE_TITLE.replace(/[()（）]/g, '.')));
  // today's list follows: the live slot now says join
  await home.locator(`[data-testid="today-slot"][data-action="live"]`).waitFor({ timeout: 20_000 });
  await shoot(home, 'home-live-now', '[data-testid="live-now"]', /Live now/);

  // the lesson page: live, not a draft, with the way in
  const page = await open(student.username, `/lessons/${liveLesson.id}`);
  const state = page.getByTestId('lesson-state');
  await state.waitFor();
  assert.equal(await state.getAttribute('data-state'), 'live');
  assert.match(await state.innerText(), /正在直播/);
  await page.getByTestId('lesson-live-join').waitFor();
  await shoot(page, 'lesson-page-live', '[data-testid="lesson-live-now"]', /Live now/);
  await page.context().close();
});

test('from the home into the live lesson: the teacher’s camera plays beside the Q&A; a question reaches the studio, the answer comes back', async () => {
  await home
    .locator(`[data-testid="live-now-item"][data-lesson="${liveLesson.id}"]`)
    .getByTestId('live-now-join')
    .click();
  await home.waitForURL(`**/live/${liveLesson.id}`);
  live = home;
  await live.waitForSelector('[data-testid="live-watch"][data-mode="webrtc"]', { timeout: 20_000 });
  // the teacher's camera decodes, and keeps decoding
  const cam = '[data-testid="live-camera"]';
  await live.waitForFunction(
    (sel) => Number(document.querySelector(sel)?.getAttribute('data-frames-decoded') ?? 0) > 0,
    cam,
    {
      timeout: 30_000,
    },
  );
  const f0 = Number(await live.locator(cam).getAttribute('data-frames-decoded'));
  await live.waitForFunction(
    ([sel, v]) =>
      Number(document.querySelector(sel!)?.getAttribute('data-frames-decoded') ?? 0) > Number(v) + 10,
    [cam, String(f0)],
    { timeout: 15_000 },
  );
  const f1 = Number(await live.locator(cam).getAttribute('data-frames-decoded'));
  console.log(`[journey] the student receives the teacher's camera: framesDecoded ${f0} → ${f1}`);

  // the Q&A beside the video: ask
  const panel = live.locator('[data-testid="live-interactive"] [data-testid="qa-panel"]');
  await live.locator('[data-testid="qa-panel"][data-connected="true"]').waitFor({ timeout: 15_000 });
  assert.equal(await panel.count(), 1, 'the Q&A panel is in the live class');
  const text = `时针和分针哪个走得快？${Date.now() % 1000}`;
  await panel.getByTestId('qa-ask-input').fill(text);
  await panel.getByTestId('qa-ask-submit').click();

  // the teacher sees it inside the studio and answers it there
  const inStudio = teacher
    .locator('[data-testid="live-studio"] [data-testid="qa-question"]')
    .filter({ hasText: text });
  await inStudio.waitFor({ timeout: 15_000 });
  await shoot(teacher, 'studio-question', '[data-testid="qa-panel"]', /Raised hands/);
  await inStudio.getByTestId('qa-answer-open').click();
  await inStudio.getByTestId('qa-answer-input').fill('分针走得快：它一小时走一圈，时针十二小时走一圈。');
  await inStudio.getByTestId('qa-answer-submit').click();
  const answer = live.getByTestId('qa-question').filter({ hasText: text }).getByTestId('qa-answer');
  await answer.waitFor({ timeout: 15_000 });
  assert.match(await answer.innerText(), /分针走得快/);
  await shoot(live, 'live-class-qa', '[data-testid="qa-panel"]', /Raise hand/);
  await shoot(teacher, 'studio-answered', '[data-testid="qa-panel"]', /Raised hands/);
});

test('the studio counts the class without the teacher; live beacons carry the viewer’s district and school', async () => {
  // one student in the room: the studio says 1, the student's page says 1 (the teacher not counted)
  await teacher.waitForSelector('[data-testid="studio-viewers"][data-count="1"]', { timeout: 15_000 });
  assert.match(await teacher.getByTestId('studio-viewers').innerText(), /^1 人$/);
  await live.getByText(/观看人数: 1$/).waitFor({ timeout: 10_000 });
  // a second student joins over WebRTC: 2
  const other = await api.app.services.users.create({
    username: `journey-s2.${api.prefix}`,
    password: PASSWORD,
    displayName: '李小红',
    role: 'student',
    grade: 'p3',
  });
  const second = await open(other.username, `/live/${liveLesson.id}`);
  await second.waitForSelector('[data-testid="live-watch"][data-mode="webrtc"]', { timeout: 20_000 });
  await teacher.waitForSelector('[data-testid="studio-viewers"][data-count="2"]', { timeout: 15_000 });
  await second.context().close();
  await teacher.waitForSelector('[data-testid="studio-viewers"][data-count="1"]', { timeout: 15_000 });
  await shoot(teacher, 'studio-viewers', '[data-testid="studio-viewers"]', /Raised hands/);
  console.log(`[journey] studio viewers: 1 → 2 → 1 as a second student came and went (teacher not counted)`);

  // the WebRTC viewer's beacons carry district and school, as on-demand ones do
  const isLive = (b: { body: string }) => /"platform":"live-webrtc"/.test(b.body);
  for (
    let i = 0;
    i < 80 && !beacons.some((b) => b.username === student.username && b.status < 300 && isLive(b));
    i++
  )
    await new Promise((r) => setTimeout(r, 250));
  const sent = beacons.filter((b) => b.username === student.username && b.status < 300 && isLive(b));
  assert.ok(sent.length > 0, 'the live page sent WebRTC beacons the api accepted');
  for (const b of sent) {
    const events = (
      JSON.parse(b.body) as { events: { platform: string; district?: string; school?: string }[] }
    ).events;
    for (const e of events.filter((x) => x.platform === 'live-webrtc')) {
      assert.equal(e.district, DISTRICT);
      assert.equal(e.school, SCHOOL);
    }
  }
  // and the on-demand ones of the first test said the same
  const vod = beacons.filter((b) => b.username === student.username && /"platform":"web"/.test(b.body));
  assert.ok(vod.some((b) => b.body.includes(`"district":"${DISTRICT}"`)));
  console.log(
    `[journey] ${sent.length} accepted live-webrtc beacon batches, each event with ${DISTRICT} / ${SCHOOL}`,
  );
});

test('the teacher ends: the studio says ended — also when opened again — and the student’s home moves on', async () => {
  await teacher.getByTestId('studio-end').click();
  await teacher.getByTestId('live-ended').waitFor({ timeout: 60_000 });
  const badge = teacher.getByTestId('studio-state');
  assert.equal(await badge.getAttribute('data-state'), 'ended');
  assert.equal(await badge.innerText(), '已结束');
  // the questions stay answerable after the end
  await teacher.locator('.live-after [data-testid="qa-panel"]').waitFor();
  await shoot(teacher, 'studio-ended', '[data-testid="live-ended"]', /Ended/);
  assert.equal(
    await teacher.getByTestId('live-problem').count(),
    0,
    'no problem reported, in either language',
  );

  // opened again (a reload right after the end, while the api may still be hearing of it): ended, never
  // "not live"
  await teacher.reload();
  await teacher.waitForSelector('[data-testid="studio-state"][data-state="ended"]', { timeout: 60_000 });
  assert.equal(await teacher.getByTestId('studio-go-live').count(), 0);
  await teacher.screenshot({ path: join(SHOTS, 'studio-reopened-ended.1280.zh-CN.png') });

  await live.getByTestId('live-ended').waitFor({ timeout: 15_000 });
  await live.goto(`${base}/`);
  await live.waitForSelector('[data-testid="live-now"][data-count="0"]', { timeout: 20_000 });
  await live.locator('[data-testid="today-slot"][data-action="replay"]').waitFor({ timeout: 40_000 });
  await shoot(live, 'home-after-live', '[data-testid="today"]', /Today's lessons/);
});

test('when the timetable cannot be read, today says so quietly and the live section stays', async () => {
  const session: TokenPair = await api.login(student.username);
  const ctx = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  if (!REAL) await ctx.clock.install({ time: journeyNow() });
  await ctx.addCookies([
    {
      name: 'sky_refresh',
      value: session.refreshToken,
      domain: '127.0.0.1',
      path: '/api/auth',
      httpOnly: true,
    },
  ]);
  const page = await ctx.newPage();
  // the curriculum service behind the api stops answering
  await page.route('**/api/curriculum/**', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/problem+json',
      body: '{"code":"DEPENDENCY_DOWN"}',
    }),
  );
  await page.goto(`${base}/`);
  const today = page.getByTestId('today');
  await today.getByText('课表服务暂时不可用').waitFor();
  assert.equal(await today.locator('[role="alert"]').count(), 0, 'no error alert, a quiet notice');
  await page.waitForSelector('[data-testid="live-now"][data-count="0"]');
  await page.screenshot({ path: join(SHOTS, 'home-timetable-down.390.zh-CN.png') });
  await ctx.close();
});
