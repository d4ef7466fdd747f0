// Catch-up over the whole week and the player's pause and progress, on the 10-foot UI driven by remote keys
// only: a real api with a transcoded lesson, a curriculum scheduling two weeks of maths and 道德与法治, the
// gateway on a clock set to a Thursday. The box goes back three days in the guide, plays Monday's lesson,
// pauses it, resumes it with the media key and seeks; then the same in English. Screenshots (zh-CN and
// English) land in SHOTS_DIR, or test-results/tv-catchup/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GuideProgramme, Plan } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { startTvStack, type TvStack } from './tv-stack.js';
import { tvRemote } from './tv-remote.js';
import { testTerm } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const TV_UI_DIR = join(ROOT, 'web-client', 'dist', 'tv');
const SHOTS = process.env['SHOTS_DIR'] ?? join(ROOT, 'test-results', 'tv-catchup');
/** Two school weeks; "today" is the second Thursday, and the lesson to catch up aired on Monday. */
const TODAY = '2026-12-03';
const THREE_DAYS_AGO = '2026-11-30';
const beijingDate = (iso: string) => new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 10);

let stack: TvStack;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let tv: Page;
/** Monday's first programme on channel 1 (aired three days before the gateway's today), and Thursday's live one. */
let target: GuideProgramme;
let onAir: GuideProgramme;
/** Catch-up playlists the box asked for. */
const catchupRequests: string[] = [];

function plan(vodLessonId: string): Plan {
  const grades = ['p1', 'p2'] as const;
  return {
    term: testTerm({ slots: ['08:00', '09:00'], maxDaily: 2, lessonMinutes: 20 }, '2026-12-04'),
    subjects: [
      { code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 5, core: true },
      {
        code: 'morality',
        zh: '道德与法治',
        en: 'Morality and Rule of Law',
        stages: ['primary'],
        weeklyQuota: 5,
        core: false,
      },
    ],
    teachers: grades.map((g, i) => ({
      id: `t-${g}`,
      name: ['王老师', '李老师'][i]!,
      subjects: ['math', 'morality'],
      grades: [g],
      unavailable: [],
    })),
    channels: grades.map((g, i) => ({
      id: `tv-${g}`,
      kind: 'tv' as const,
      number: i + 1,
      zh: `空中课堂 ${['一年级', '二年级'][i]!}`,
      en: `Sky Classroom ${g.toUpperCase()}`,
      grades: [g],
    })),
    lessons: grades.flatMap((g) =>
      (['math', 'morality'] as const).flatMap((subject) =>
        Array.from({ length: 10 }, (_, i) => ({
          id: `${g}-${subject}-${i + 1}`,
          title: `${subject === 'math' ? '数学' : '道德与法治'} 第${i + 1}课`,
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
  };
}

const { press, focused, waitScreen, shot } = tvRemote({
  shots: SHOTS,
  settleMs: 200,
  screenMs: 15_000,
  shotSettleMs: 400,
});
const video = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')!;
    return {
      t: v.currentTime,
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
      width: v.videoWidth,
      paused: v.paused,
      duration: v.duration,
    };
  });
const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();
/** `1:05` → 65. */
const seconds = (clock: string) => clock.split(':').reduce((s, part) => s * 60 + Number(part), 0);
const programmeKey = (p: GuideProgramme) => `programme:${p.channelId}:${p.lessonId}:${p.start}`;
const currentDay = (page: Page) =>
  page.evaluate(() => document.querySelector('.guide-day-chip.is-current')?.getAttribute('data-day'));

/** How many different colours a frame of the video has (a black or frozen-blank picture has one or two). */
const frameColours = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')!;
    const c = document.createElement('canvas');
    c.width = 160;
    c.height = 90;
    const g = c.getContext('2d')!;
    g.drawImage(v, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < px.length; i += 4)
      seen.add((px[i]! >> 4) * 256 + (px[i + 1]! >> 4) * 16 + (px[i + 2]! >> 4));
    return seen.size;
  });

describe('catch-up of every day catch-up reaches, pause and progress on the TV player (keys only)', () => {
  before(async () => {
    assert.ok(
      existsSync(join(TV_UI_DIR, 'index.html')),
      'build the TV UI first: npm run build -w web-client',
    );
    mkdirSync(SHOTS, { recursive: true });
    stack = await startTvStack({ plan, gatewayEnv: { TV_UI_DIR } });
    base = stack.base;
    const from = Date.parse('2026-11-23T00:00:00+08:00') / 1000;
    const p1 = await stack.gateway.channels.guide(from, from + 14 * 86400, 'tv-p1');
    const on = (date: string) => p1.filter((p) => beijingDate(p.start) === date);
    assert.ok(on(THREE_DAYS_AGO).length >= 1, `p1 has a lesson on ${THREE_DAYS_AGO}`);
    assert.ok(on(TODAY).length >= 1, `p1 has a lesson on ${TODAY}`);
    target = on(THREE_DAYS_AGO)[0]!;
    onAir = on(TODAY).at(-1)!;
    // the gateway's clock: 15 s into Thursday's last lesson on channel 1
    stack.shift = Date.parse(onAir.start) / 1000 + 15 - Date.now() / 1000;

    browser = await launchChromium();
    tv = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    tv.on('request', (r) => {
      if (r.url().includes('utc=')) catchupRequests.push(r.url());
    });
  });

  after(async () => {
    await browser?.dispose();
    await stack?.close();
  });

  test('the guide reaches back three days with P+ and names subjects, not their codes; OK plays Monday’s lesson (frames render)', async (t) => {
    await tv.goto(`${base}/`);
    await waitScreen(tv, 'pairing', 30_000);
    await tv.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'pairing-skip');
    await press(tv, 'Enter'); // skip pairing: the lineup is public
    await waitScreen(tv, 'home');
    await tv.waitForFunction(
      () => document.activeElement?.getAttribute('data-focus-key') === 'channel:tv-p1',
    );
    await press(tv, 'ArrowUp');
    assert.equal(await focused(tv), 'menu:guide');
    await press(tv, 'Enter');
    await waitScreen(tv, 'guide');
    // the channel's days: a week of catch-up, today and tomorrow; the cursor on the programme on air
    await tv.waitForFunction(() => document.querySelectorAll('.guide-day-chip').length === 9, null, {
      timeout: 15_000,
    });
    assert.equal(await focused(tv), programmeKey(onAir));
    assert.equal(await currentDay(tv), TODAY);
    assert.match(await tv.getByTestId('guide-programmes').innerText(), /可回看 7 天/);
    await shot(tv, 'guide-today.zh-CN');

    // P+ (the channel rocker, PageUp on a keyboard) goes back a day at a time: Wednesday, Tuesday, Monday
    const visited: (string | null | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      await press(tv, 'PageUp');
      visited.push(await currentDay(tv));
    }
    assert.deepEqual(visited, ['2026-12-02', '2026-12-01', THREE_DAYS_AGO]);
    assert.equal(await focused(tv), programmeKey(target));
    const row = tv.getByTestId(`programme-${target.lessonId}`);
    assert.equal(await row.locator('[data-state]').getAttribute('data-state'), 'catchup');
    // subjects by their Chinese names; the code "morality" nowhere
    const subjects = await tv.getByTestId('guide-subject').allInnerTexts();
    assert.ok(subjects.includes('道德与法治') && subjects.includes('数学'), subjects.join(' '));
    assert.doesNotMatch(await tv.getByTestId('guide-programmes').innerText(), /morality|\bmath\b/);
    await shot(tv, 'guide-3-days-ago.zh-CN');

    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    assert.equal(await tv.getByTestId('player').getAttribute('data-kind'), 'catchup');
    // frames render: decoded frames pile up, the picture has colour, time moves
    await tv.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]');
        return !!v && v.currentTime > 2 && v.getVideoPlaybackQuality().totalVideoFrames > 25;
      },
      null,
      { timeout: 45_000 },
    );
    const a = await video(tv);
    await tv.waitForTimeout(1500);
    const b = await video(tv);
    assert.ok(a.width > 0, 'the video has a picture size');
    assert.ok(b.frames > a.frames + 10, `frames keep rendering (${a.frames} → ${b.frames})`);
    assert.ok(b.t > a.t + 0.8, `the catch-up plays (${a.t} → ${b.t})`);
    const colours = await frameColours(tv);
    assert.ok(colours > 40, `the frame is a picture, not a blank screen (${colours} colours)`);
    assert.ok(Math.abs(b.duration - 30) < 2, `Monday's recording lasts ${b.duration} s`);
    // the box asked for Monday's programme by its start
    const utc = Date.parse(target.start) / 1000;
    assert.ok(
      catchupRequests.some((u) => new URL(u).searchParams.get('utc') === String(utc)),
      catchupRequests.join('\n'),
    );
    assert.match(await text(tv, 'infobar'), /11月30日 周一/);
    t.diagnostic(
      `catch-up of ${target.lessonId} (${target.start}, 3 days before the gateway's ${TODAY}): ` +
        `${a.width}px wide, frames ${a.frames} → ${b.frames} and time ${a.t.toFixed(2)} → ${b.t.toFixed(2)} s ` +
        `in 1.5 s, ${colours} colours in a frame, length ${b.duration.toFixed(2)} s`,
    );
  });

  test('pause: OK stops the picture and says so; the media key plays on, the elapsed time advancing; Left/Right seek', async (t) => {
    await press(tv, 'ArrowDown'); // any key shows the info bar with the progress
    const e0 = seconds(await text(tv, 'elapsed'));
    await tv.waitForTimeout(2200);
    const e1 = seconds(await text(tv, 'elapsed'));
    assert.ok(e1 >= e0 + 1, `the elapsed time advances while playing (${e0} → ${e1} s)`);
    const length = seconds(await text(tv, 'duration'));
    assert.ok(length >= 29 && length <= 31, `the bar's length is the recording's (${length} s)`);

    await press(tv, 'Enter'); // OK: pause
    await tv.getByTestId('paused').waitFor({ timeout: 5000 });
    assert.equal(await tv.getByTestId('player').getAttribute('data-paused'), 'true');
    assert.match(await text(tv, 'paused'), /已暂停/);
    const p0 = await video(tv);
    const elapsedPaused = await text(tv, 'elapsed');
    await tv.waitForTimeout(2500);
    const p1 = await video(tv);
    assert.ok(p0.paused && p1.paused);
    assert.ok(Math.abs(p1.t - p0.t) < 0.05, `currentTime stays while paused (${p0.t} → ${p1.t})`);
    assert.equal(await text(tv, 'elapsed'), elapsedPaused, 'the elapsed time stays too');
    // the info bar stays up while paused (it hides itself after 5 s otherwise)
    await tv.waitForTimeout(3000);
    assert.match((await tv.getByTestId('infobar').getAttribute('class')) ?? '', /is-shown/);
    await shot(tv, 'catchup-paused.zh-CN');

    await press(tv, 'MediaPlayPause'); // the remote's play/pause key
    await tv.getByTestId('paused').waitFor({ state: 'detached', timeout: 5000 });
    const r0 = await video(tv);
    await tv.waitForTimeout(1500);
    const r1 = await video(tv);
    assert.ok(!r1.paused && r1.t > r0.t + 0.8, `playing again (${r0.t} → ${r1.t})`);

    // Right: 10 s on; Left: 10 s back
    const before = (await video(tv)).t;
    await press(tv, 'ArrowRight');
    const ahead = (await video(tv)).t;
    assert.ok(ahead > before + 8, `Right seeks on (${before} → ${ahead})`);
    await tv.waitForFunction(
      (t) => {
        const el = document.querySelector('[data-testid="elapsed"]')?.textContent ?? '0:00';
        const [m, s] = el.split(':').map(Number);
        return (m ?? 0) * 60 + (s ?? 0) >= Math.floor(t);
      },
      ahead,
      { timeout: 5000 },
    );
    await shot(tv, 'catchup.zh-CN');
    await press(tv, 'ArrowLeft');
    const back = (await video(tv)).t;
    assert.ok(back < ahead - 8, `Left seeks back (${ahead} → ${back})`);
    t.diagnostic(
      `playing: elapsed ${e0} → ${e1} s in 2.2 s; paused: currentTime ${p0.t.toFixed(3)} → ${p1.t.toFixed(3)} s ` +
        `in 2.5 s, elapsed stayed ${elapsedPaused}; resumed: ${r0.t.toFixed(2)} → ${r1.t.toFixed(2)} s in 1.5 s; ` +
        `Right ${before.toFixed(1)} → ${ahead.toFixed(1)} s, Left → ${back.toFixed(1)} s`,
    );
    await press(tv, 'Escape');
    await waitScreen(tv, 'guide');
    assert.equal(await focused(tv), programmeKey(target), 'Back returns to the programme in the guide');
  });

  test('a channel shows how far its programme has aired; the same screens in English', async () => {
    // Back home, to the first channel: the live player's info bar, with the programme's progress
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
    assert.equal(await focused(tv), 'menu:guide');
    await press(tv, 'ArrowDown');
    assert.equal(await focused(tv), 'channel:tv-p1');
    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    await tv.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) > 1,
      null,
      { timeout: 45_000 },
    );
    await press(tv, 'Enter');
    const bar = await text(tv, 'infobar');
    assert.match(bar, new RegExp(onAir.title));
    assert.match(bar, /\d\d:\d\d[\s\S]*\d\d:\d\d/);
    await shot(tv, 'player-live.zh-CN');
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');

    // Settings → the language item → English
    await press(tv, 'ArrowUp');
    await press(tv, 'ArrowRight', 2);
    assert.equal(await focused(tv), 'menu:settings');
    await press(tv, 'Enter');
    await waitScreen(tv, 'settings');
    await press(tv, 'ArrowDown');
    await press(tv, 'Enter');
    await tv.waitForFunction(() => document.documentElement.lang === 'en');
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
    await press(tv, 'ArrowLeft', 2);
    assert.equal(await focused(tv), 'menu:guide');
    await press(tv, 'Enter');
    await waitScreen(tv, 'guide');
    await tv.waitForFunction(() => document.querySelectorAll('.guide-day-chip').length === 9);
    assert.match(await tv.getByTestId('guide-programmes').innerText(), /Catch-up: 7 days/);
    await press(tv, 'PageUp', 3);
    assert.equal(await currentDay(tv), THREE_DAYS_AGO);
    const subjects = await tv.getByTestId('guide-subject').allInnerTexts();
    assert.ok(
      subjects.includes('Morality and Rule of Law') && subjects.includes('Maths'),
      subjects.join(' | '),
    );
    assert.ok(!subjects.some((x) => /[\u4e00-\u9fff]|morality/.test(x)), subjects.join(' | '));
    await shot(tv, 'guide-3-days-ago.en');

    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    await tv.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) > 3,
      null,
      { timeout: 45_000 },
    );
    await press(tv, 'Enter');
    await tv.getByTestId('paused').waitFor({ timeout: 5000 });
    assert.match(await text(tv, 'paused'), /Paused/);
    assert.match(await text(tv, 'infobar'), /Mon 30\/11/);
    await shot(tv, 'catchup-paused.en');
    await press(tv, 'Enter');
    await tv.getByTestId('paused').waitFor({ state: 'detached', timeout: 5000 });
    await shot(tv, 'catchup.en');
    await press(tv, 'Escape');
    await waitScreen(tv, 'guide');
    await press(tv, 'Escape');
    await waitScreen(tv, 'home');
    await press(tv, 'ArrowDown');
    await press(tv, 'Enter');
    await waitScreen(tv, 'player');
    await tv.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]')?.currentTime ?? 0) > 1,
      null,
      { timeout: 45_000 },
    );
    await press(tv, 'Enter');
    assert.match(await text(tv, 'infobar'), /Now/);
    await shot(tv, 'player-live.en');
  });
});
