// A teacher's scheduled live lessons on their home, in Chromium, on the real curriculum service behind the
// real api (mongod, redis-server, the built web client): the timetable airs three of their lessons live
// today; at 13:50 Beijing time the 14:00 one offers 开始直播 and leads to its studio, the 17:00 one only says
// when it starts, the 10:00 one (taught and ended) says its replay is being made. The browser's clock is
// set to the hour under test; everything else runs on real time. Screenshots in test-results/teacher-live/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { beijingToday, slotInstant, type Lesson, type Plan } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, type TestApi } from '../api/test/helpers.js';
import { startCurriculumStack, type CurriculumStack } from './curriculum-stack.js';
import { actorOf, dayTerm } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results', 'teacher-live');
const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };
const today = beijingToday();
/** A Beijing wall-clock time today, as the instant the browser's clock is set to. */
const at = (clock: string) => Date.parse(slotInstant(today, clock));

let stack: CurriculumStack;
let queues: JobQueues;
let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
/** The teacher's api lessons: taught this morning, scheduled at 14:00 and 17:00 live, a recorded one at 15:00. */
const lessons: Record<'morning' | 'soon' | 'later' | 'recorded', Lesson> = {} as never;

/**
 * One junior grade, one subject, one teacher, one school day (today, whatever weekday it is) with four
 * slots and four lessons in order: the scheduler can only put lesson n in slot n.
 */
function planOf(vod: Record<keyof typeof lessons, string>): Plan {
  const rules = { slots: ['10:00', '14:00', '15:00', '17:00'], maxDaily: 4, lessonMinutes: 30 };
  const lesson = (order: number, recording: 'live' | 'ready', vodLessonId: string) => ({
    id: `j1-math-${order}`,
    title: `数学 第${order}课 一元一次方程${order}`,
    grade: 'j1' as const,
    subject: 'math',
    unit: '第一单元',
    order,
    durationMin: 30,
    teacherId: 't-live',
    recording,
    vodLessonId,
  });
  return {
    term: dayTerm(rules, today, 4),
    subjects: [{ code: 'math', zh: '数学', en: 'Maths', stages: ['junior'], weeklyQuota: 4, core: true }],
    teachers: [{ id: 't-live', name: '王老师', subjects: ['math'], grades: ['j1'], unavailable: [] }],
    channels: [
      {
        id: 'tv-j1',
        kind: 'tv',
        number: 7,
        zh: '空中课堂 初一',
        en: 'Sky Classroom Junior 1',
        grades: ['j1'],
      },
      {
        id: 'web-j1',
        kind: 'web',
        number: 107,
        zh: '空中课堂 初一（网络）',
        en: 'Junior 1 (web)',
        grades: ['j1'],
      },
    ],
    lessons: [
      lesson(1, 'live', vod.morning),
      lesson(2, 'live', vod.soon),
      lesson(3, 'ready', vod.recorded),
      lesson(4, 'live', vod.later),
    ],
  };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startCurriculumStack();
  ({ api, base } = stack);

  const teacher = await actorOf(api, 'teacher');
  for (const [key, title] of [
    ['morning', '一元一次方程（上午直播）'],
    ['soon', '一元一次方程（下午直播）'],
    ['recorded', '一元一次方程（录播）'],
    ['later', '一元一次方程（傍晚直播）'],
  ] as const)
    lessons[key] = await api.app.services.lessons.create(teacher, { title, grade: 'j1', subject: '数学' });
  await stack.curriculum.schedule.replacePlan(
    planOf({
      morning: lessons.morning.id,
      soon: lessons.soon.id,
      recorded: lessons.recorded.id,
      later: lessons.later.id,
    }),
    'test',
  );
  await stack.curriculum.schedule.build('test');

  // The morning lesson was taught live and ended with a recording: its replay is being made (no
  // transcoder runs here, so it stays that way).
  const started = await api.app.http.inject({
    method: 'POST',
    url: `/api/lessons/${lessons.morning.id}/live`,
    headers: { authorization: `Bearer ${api.tokens.teacher}` },
  });
  assert.equal(started.statusCode, 201, started.body);
  queues = createJobQueues(api.redisUrl, api.prefix);
  await queues.enqueue('live.ended', {
    lessonId: lessons.morning.id,
    recording: `live/${lessons.morning.id}/recording.webm`,
    startedAt: new Date(at('10:00')).toISOString(),
    endedAt: new Date(at('10:30')).toISOString(),
  });
  for (let i = 0; i < 100; i++) {
    const res = await api.app.http.inject({
      url: `/api/lessons/${lessons.morning.id}`,
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
    });
    if (res.json<Lesson>().status === 'processing') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launchChromium({ fakeMedia: true });
});

after(async () => {
  await browser?.dispose();
  await queues?.close();
  await stack?.close();
});

/** Signs the test teacher in through the login page, which then opens their home. */
async function signIn(page: Page): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(`teacher.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** The teacher's home at `clock` Beijing time today, signed in through the login page, in `lang`. */
async function homeAt(
  clock: string,
  viewport: typeof DESKTOP,
  lang: 'zh-CN' | 'en' = 'zh-CN',
): Promise<Page> {
  const ctx = await browser.newContext({ viewport, locale: lang });
  await ctx.addInitScript((l) => localStorage.setItem('sky.lang', l), lang);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`pageerror ${e.message}`));
  await page.clock.setFixedTime(at(clock));
  await signIn(page);
  // rows with their grade's TV channel: the channel list has arrived too
  await page.getByTestId('live-slot').first().getByText(/\(7\)/).waitFor();
  return page;
}

/** What the section shows: one row per slot. */
async function slotsOf(page: Page) {
  return page.getByTestId('live-slot').evaluateAll((els) =>
    els.map((e) => ({
      lesson: e.getAttribute('data-lesson')!,
      phase: e.getAttribute('data-phase')!,
      text: (e as HTMLElement).innerText.replace(/\s+/g, ' '),
      button: e.querySelector('[data-testid="scheduled-go-live"]')?.textContent ?? null,
    })),
  );
}

test('at 13:50 the 14:00 live lesson offers 开始直播; 17:00 only says when; the morning one its replay state', async () => {
  const page = await homeAt('13:50', DESKTOP);
  const section = page.getByTestId('scheduled-live');
  assert.equal(await section.getByRole('heading').innerText(), '我的直播课');
  const slots = await slotsOf(page);
  // the recorded lesson's slot is not a live one: not listed
  assert.deepEqual(
    slots.map((s) => [s.lesson, s.phase]),
    [
      [lessons.morning.id, 'processing'],
      [lessons.soon.id, 'open'],
      [lessons.later.id, 'upcoming'],
    ],
  );
  const [morning, soon, later] = slots;
  assert.match(soon!.text, /今天 14:00–14:30/);
  assert.match(soon!.text, /数学 第2课/);
  assert.match(soon!.text, /电视：空中课堂 初一 \(7\)/);
  assert.match(soon!.text, /还有 10 分钟/);
  assert.equal(soon!.button, '● 开始直播');
  assert.match(later!.text, /今天 17:00 开始/);
  assert.equal(later!.button, null);
  assert.match(morning!.text, /回放生成中/);
  assert.equal(morning!.button, null);
  await page.screenshot({ path: join(SHOTS, 'teacher-home.1280.zh-CN.png') });

  const phone = await homeAt('13:50', PHONE);
  await phone.screenshot({ path: join(SHOTS, 'teacher-home.390.zh-CN.png') });
  assert.equal(await phone.getByTestId('scheduled-go-live').count(), 1);
  await phone.context().close();

  const en = await homeAt('13:50', DESKTOP, 'en');
  assert.equal(
    await en.getByTestId('scheduled-live').getByRole('heading').innerText(),
    'My scheduled live lessons',
  );
  assert.match((await slotsOf(en))[2]!.text, /Today · starts 17:00/);
  await en.screenshot({ path: join(SHOTS, 'teacher-home.1280.en.png') });
  await en.context().close();

  // 开始直播 opens that lesson's studio
  await section.getByTestId('scheduled-go-live').click();
  await page.waitForURL(new RegExp(`/teacher/live/${lessons.soon.id}$`));
  await page.getByRole('heading', { name: '直播间' }).waitFor();
  await page.getByText(lessons.soon.title).first().waitFor();
  // the studio is ready to go live: the fake camera is found and its go-live button enabled
  await page.waitForFunction(() => {
    const button = document.querySelector<HTMLButtonElement>('[data-testid="studio-go-live"]');
    return button !== null && !button.disabled;
  });
  await page.screenshot({ path: join(SHOTS, 'studio.1280.zh-CN.png') });
  await page.context().close();
});

test('hours before the slot there is no button; half an hour after it, a slot not taught says so', async () => {
  const morning = await homeAt('11:00', DESKTOP);
  const early = await slotsOf(morning);
  assert.deepEqual(
    early.map((s) => s.phase),
    ['processing', 'upcoming', 'upcoming'],
  );
  assert.equal(await morning.getByTestId('scheduled-go-live').count(), 0);
  assert.match(early[1]!.text, /今天 14:00 开始/);
  await morning.context().close();

  const evening = await homeAt('18:00', PHONE);
  const late = await slotsOf(evening);
  assert.deepEqual(
    late.map((s) => s.phase),
    ['processing', 'missed', 'missed'],
  );
  assert.match(late[1]!.text, /未开播/);
  await evening.screenshot({ path: join(SHOTS, 'teacher-home-evening.390.zh-CN.png') });
  await evening.context().close();
});

test('when the timetable cannot be read, the home says so quietly and the lessons stay', async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await page.route('**/api/curriculum/schedule?*', (route) => route.abort());
  await signIn(page);
  const note = page.getByTestId('scheduled-live-down');
  await note.waitFor();
  assert.match(await note.innerText(), /暂时读不到课表/);
  assert.equal(await page.getByTestId('live-slot').count(), 0);
  assert.equal(
    await page.getByTestId('go-live-link').count(),
    3,
    'the draft lessons keep their own go-live links',
  );
  await page.screenshot({ path: join(SHOTS, 'teacher-home-no-timetable.1280.zh-CN.png') });
  await ctx.close();
});
