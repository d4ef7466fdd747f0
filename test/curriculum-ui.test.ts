// The curriculum desk and the student timetable in Chromium, on the real curriculum service behind the
// real api (mongod, redis-server, the built web client): import with row errors, build, a teacher's leave,
// a moved lesson, an infeasible change explained, and screenshots in test-results/curriculum/ to look at.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Role, ScheduleEntry } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, type TestApi } from '../api/test/helpers.js';
import { dateOf, dayNumber, isoWeekday, weekStart } from '../curriculum/src/services/calendar.js';
import { generatePlan } from '../curriculum/src/services/plan-generator.js';
import { startCurriculumStack, type CurriculumStack } from './curriculum-stack.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results', 'curriculum');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
const monday = weekStart(today);
const plan = generatePlan({ startDate: monday, lessons: 600 });
// On a weekend run today becomes a make-up school day (调休), so the week always has today's column.
if (isoWeekday(today) > 5) plan.term.extraSchoolDays = [today];
/** This week's school days, as the page should show them. */
const week = Array.from({ length: 7 }, (_, i) => dateOf(dayNumber(monday) + i)).filter(
  (d) => isoWeekday(d) <= 5 || d === today,
);

let stack: CurriculumStack;
let curriculum: CurriculumStack['curriculum'];
let api: TestApi;
let base: string;
let browser: Browser & { dispose(): Promise<void> };
let tmp: string;
/** The admin's page, carried from one step to the next like a real session. */
let admin: Page;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'sky-curriculum-ui-'));
  stack = await startCurriculumStack();
  ({ curriculum, api, base } = stack);
  // Planned, not built: the admin builds it from the page.
  await curriculum.schedule.replacePlan(plan, 'test');
  browser = await launchChromium();
});

after(async () => {
  await browser?.dispose();
  await stack?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function loginAs(page: Page, role: Role): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(`${role}.${api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Scrolls a part of the page to just below the sticky top bar, for a screenshot of it. */
async function scrollTo(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).evaluate((e) => {
    const bar = document.querySelector('.topbar');
    const barHeight =
      bar && getComputedStyle(bar).position === 'sticky' ? bar.getBoundingClientRect().height : 0;
    window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - barHeight - 12);
  });
}

/** What the page's week view shows: one row per lesson cell. */
async function cellsOf(page: Page, testId: string) {
  return page.locator(`[data-testid="${testId}"] [data-testid="slot-cell"]`).evaluateAll((els) =>
    els.map((e) => ({
      lesson: e.getAttribute('data-lesson')!,
      teacher: e.getAttribute('data-teacher')!,
      date: e.getAttribute('data-date')!,
      slot: Number(e.getAttribute('data-slot')),
      subject: e.getAttribute('data-subject')!,
    })),
  );
}

/** Texts that look like i18n keys nobody translated (`timetable.prev`). */
const RAW_KEY =
  /\b(curriculum|summary|import|timetable|diff|diagnosis|constraints|leave|move|history|problems)\.[a-zA-Z]+/;

test('an admin opens 课程编排 from the admin home; nothing is scheduled yet', async () => {
  admin = await browser.newPage({ viewport: DESKTOP });
  await loginAs(admin, 'admin');
  await admin.getByTestId('curriculum-link').click();
  await admin.waitForURL(/\/admin\/curriculum$/);
  await admin.getByRole('heading', { name: '课程编排' }).waitFor();
  await admin.getByText('还没有课表').waitFor();
  assert.equal(await admin.getByTestId('build').innerText(), '编排课表');
  // Planned but not built: the week view is there, with no lesson in it.
  await admin.getByTestId('week-view').getByText('这一周还没有排课').waitFor();
  await admin.screenshot({ path: join(SHOTS, 'admin-empty.zh-CN.png'), fullPage: true });
});

test('a lessons CSV with two bad rows is refused, and the table names both lines', async () => {
  const exported = await fetch(`${base}/api/curriculum/plan/lessons.csv`);
  assert.equal(exported.status, 200);
  const lines = (await exported.text()).replace(/^\uFEFF/, '').split('\r\n');
  const header = lines[0]!.split(',');
  const broken = (n: number, column: string, value: string) => {
    const cells = lines[n - 1]!.split(',');
    cells[header.indexOf(column)] = value;
    lines[n - 1] = cells.join(',');
  };
  broken(4, 'grade', 'p13');
  broken(11, 'teacher_id', 'nobody');
  const file = join(tmp, 'lessons.csv');
  writeFileSync(file, `\uFEFF${lines.join('\r\n')}`);

  await admin.getByTestId('import-input').setInputFiles(file);
  const table = admin.getByTestId('import-errors');
  await table.waitFor();
  const rows = await table
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  assert.deepEqual(
    rows.map((r) => r[1]),
    ['4', '11'],
    JSON.stringify(rows),
  );
  assert.deepEqual(
    rows.map((r) => r[2]),
    ['grade', 'teacher_id'],
  );
  assert.match(await admin.locator('.import-panel').innerText(), /2 处错误，未导入任何内容/);
  await admin.screenshot({ path: join(SHOTS, 'import-errors.zh-CN.png') });
  // Nothing was imported: the lesson on line 4 is still p1's.
  const id = lines[3]!.split(',')[0]!;
  const kept = (await curriculum.schedule.plan()).plan.lessons.find((l) => l.id === id);
  assert.equal(kept?.grade, 'p1');
});

test('good files are imported with a count: teachers.csv (told by its header) and plan.json', async () => {
  const teachers = join(tmp, 'teachers.csv');
  writeFileSync(teachers, await (await fetch(`${base}/api/curriculum/plan/teachers.csv`)).text());
  await admin.getByTestId('import-input').setInputFiles(teachers);
  const done = admin.getByTestId('import-done');
  await done.waitFor();
  assert.match(
    await done.innerText(),
    /已导入 teachers\.csv：第 2 版计划，600 节课、\d+ 位老师、\d+ 个上课日/,
  );
  assert.equal(await admin.getByTestId('import-errors').count(), 0);

  const json = join(tmp, 'plan.json');
  writeFileSync(json, await (await fetch(`${base}/api/curriculum/plan`)).text());
  await admin.getByTestId('import-input').setInputFiles(json);
  await admin
    .getByTestId('import-done')
    .getByText(/plan\.json：第 3 版计划/)
    .waitFor();
});

test('Build schedules the plan; the week view shows this week of 一年级', async () => {
  await admin.getByTestId('build').click();
  await admin.getByTestId('build-done').waitFor();
  assert.match(await admin.getByTestId('schedule-summary').innerText(), /600/);
  const grid = admin.getByTestId('week-view');
  await grid.getByTestId('slot-cell').first().waitFor();
  const cells = await cellsOf(admin, 'week-view');
  assert.ok(cells.length >= 10, `${cells.length} lessons of p1 this week`);
  assert.ok(
    cells.every((c) => week.includes(c.date) && c.lesson.startsWith('p1-')),
    'only p1, only this week',
  );
  // One column per school day, today's marked.
  const days = await grid
    .locator('[role="columnheader"][data-date]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-date')));
  assert.deepEqual(days, week);
  assert.equal(await grid.locator('[data-today="true"]').getAttribute('data-date'), today);
  const first = grid.getByTestId('slot-cell').first();
  assert.match(await first.innerText(), /第.单元/);
  await admin.screenshot({ path: join(SHOTS, 'admin-built.zh-CN.png') });
  await scrollTo(admin, 'week-view');
  await admin.screenshot({ path: join(SHOTS, 'week-view.zh-CN.png') });
});

test('a teacher on leave for this week: their lessons move out of it, and the diff lists them', async () => {
  const before = await cellsOf(admin, 'week-view');
  const counts = new Map<string, number>();
  for (const c of before) counts.set(c.teacher, (counts.get(c.teacher) ?? 0) + 1);
  const [teacher] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  const theirs = before.filter((c) => c.teacher === teacher);

  const form = admin.getByTestId('leave-form');
  await form.getByTestId('leave-teacher').selectOption(teacher);
  await form.getByTestId('leave-from').fill(week[0]!);
  await form.getByTestId('leave-to').fill(week[week.length - 1]!);
  await form.getByTestId('leave-submit').click();
  const diff = form.getByTestId('diff');
  await diff.waitFor();
  const moved = await diff
    .getByTestId('diff-item')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-lesson')));
  assert.match(await diff.innerText(), new RegExp(`${moved.length} 节课已调整`));
  for (const c of theirs) assert.ok(moved.includes(c.lesson), `${c.lesson} is in the diff`);
  assert.match(await diff.innerText(), /→/);

  // The week view reloads without that teacher on any of the days.
  await admin.waitForFunction(
    (id) =>
      document.querySelector('[data-testid="week-view"] [data-testid="slot-cell"]') !== null &&
      document.querySelectorAll(`[data-testid="week-view"] [data-teacher="${id}"]`).length === 0,
    teacher,
    { timeout: 15_000 },
  );
  const res = await fetch(
    `${base}/api/curriculum/schedule?teacherId=${teacher}&from=${week[0]}&to=${week[week.length - 1]}`,
  );
  assert.deepEqual((await res.json()) as ScheduleEntry[], []);
  await admin.getByTestId('history').getByText('教师请假').first().waitFor();
  // The summary follows the repair: version 2, the build's own numbers kept.
  await admin.getByTestId('summary-version').getByText('v2').waitFor();
  await scrollTo(admin, 'leave-form');
  await admin.screenshot({ path: join(SHOTS, 'leave-diff.zh-CN.png') });
});

test('a leave for the whole term cannot be scheduled: the diagnosis says why, in Chinese', async () => {
  const form = admin.getByTestId('leave-form');
  const teacher = (await cellsOf(admin, 'week-view'))[0]!.teacher;
  const { term } = (await curriculum.schedule.plan()).plan;
  await form.getByTestId('leave-teacher').selectOption(teacher);
  await form.getByTestId('leave-from').fill(term.startDate);
  await form.getByTestId('leave-to').fill(term.endDate);
  await form.getByTestId('leave-submit').click();
  const diagnosis = form.getByTestId('diagnosis');
  await diagnosis.waitFor();
  const text = await diagnosis.innerText();
  assert.match(text, /教师请假|容量不足|课序/);
  assert.match(text, /一年级/);
  await scrollTo(admin, 'leave-form');
  await admin.screenshot({ path: join(SHOTS, 'leave-diagnosis.zh-CN.png') });
});

test('an admin opens a lesson and moves it to a free period of the same day', async () => {
  const cells = await cellsOf(admin, 'week-view');
  const core = ['chinese', 'math', 'english'];
  const slots = 7; // primary: seven periods a day
  // A core lesson (its teacher teaches one grade) alone in its subject that day, and a free period.
  const pick = cells
    .filter((c) => core.includes(c.subject))
    .map((c) => {
      const taken = new Set(cells.filter((x) => x.date === c.date).map((x) => x.slot));
      const free = Array.from({ length: slots }, (_, i) => i).find((i) => !taken.has(i));
      const alone = cells.filter((x) => x.date === c.date && x.subject === c.subject).length === 1;
      return { cell: c, free, alone };
    })
    .find((p) => p.alone && p.free !== undefined);
  assert.ok(pick, 'a lesson to move');
  await admin.locator(`[data-testid="week-view"] [data-lesson="${pick.cell.lesson}"]`).click();
  const panel = admin.getByTestId('lesson-panel');
  await panel.waitFor();
  await panel.getByTestId('move-slot').selectOption(String(pick.free));
  await admin.screenshot({ path: join(SHOTS, 'move-panel.zh-CN.png') });
  await panel.getByTestId('move-submit').click();
  await panel.getByTestId('diff').or(panel.getByTestId('diagnosis')).waitFor();
  assert.equal(await panel.getByTestId('diagnosis').count(), 0, await panel.innerText());
  assert.match(await panel.getByTestId('diff').innerText(), /节课已调整/);
  // The panel now says where the lesson is.
  assert.match(
    await panel.getByTestId('lesson-when').innerText(),
    new RegExp(plan.term.stages.primary.slots[pick.free!]!),
  );
  await admin.screenshot({ path: join(SHOTS, 'move.zh-CN.png') });
  await panel.getByRole('button', { name: '关闭' }).click();
  await admin.waitForFunction(
    ([id, slot]) =>
      document.querySelector(`[data-testid="week-view"] [data-lesson="${id}"]`)?.getAttribute('data-slot') ===
      slot,
    [pick.cell.lesson, String(pick.free)],
    { timeout: 15_000 },
  );
});

test('the page in English: every string translated', async () => {
  await admin.getByRole('button', { name: 'English' }).click();
  await admin.getByRole('heading', { name: 'Curriculum & schedule' }).waitFor();
  await admin.evaluate(() => window.scrollTo(0, 0));
  const text = await admin.locator('main').innerText();
  assert.doesNotMatch(text, RAW_KEY);
  assert.match(text, /This week|Week \d+/);
  assert.match(text, /Teacher leave/);
  await admin.screenshot({ path: join(SHOTS, 'admin.en.png') });
  await admin.screenshot({ path: join(SHOTS, 'admin-full.en.png'), fullPage: true });
  await admin.getByRole('button', { name: '中文' }).click();
  await admin.close();
});

test('on a phone the admin page fits the width; the week grid scrolls sideways', async () => {
  const page = await browser.newPage({ viewport: PHONE });
  await loginAs(page, 'admin');
  await page.goto(`${base}/admin/curriculum`);
  await page.getByTestId('week-view').getByTestId('slot-cell').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scrolling of the page (overflow ${overflow}px)`);
  const grid = await page
    .locator('[data-testid="week-view"] .week-scroll')
    .evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
  assert.ok(grid.scroll > grid.client, `the grid scrolls inside its box (${JSON.stringify(grid)})`);
  assert.doesNotMatch(await page.locator('main').innerText(), RAW_KEY);
  await page.screenshot({ path: join(SHOTS, 'admin.phone.zh-CN.png'), fullPage: true });
  await scrollTo(page, 'week-view');
  await page.screenshot({ path: join(SHOTS, 'week-view.phone.zh-CN.png') });
  // Scrolled sideways, the periods stay in view.
  await page.locator('[data-testid="week-view"] .week-scroll').evaluate((e) => e.scrollBy(400, 0));
  await page.screenshot({ path: join(SHOTS, 'week-view-scrolled.phone.zh-CN.png') });
  await page.close();
});

test('a 三年级 student sees this week’s timetable with today’s column', async () => {
  const page = await browser.newPage({ viewport: DESKTOP });
  await loginAs(page, 'student');
  const timetable = page.getByTestId('timetable');
  await timetable.getByTestId('slot-cell').first().waitFor();
  assert.match(await timetable.innerText(), /本周课表/);
  const cells = await cellsOf(page, 'timetable');
  assert.ok(cells.length > 0 && cells.every((c) => c.lesson.startsWith('p3-') && week.includes(c.date)));
  assert.equal(await timetable.locator('[data-today="true"]').getAttribute('data-date'), today);
  assert.ok((await timetable.locator('.week-cell.is-today').count()) > 0, 'today’s column is marked');
  // Read-only: lessons are not buttons.
  assert.equal(await timetable.locator('button[data-testid="slot-cell"]').count(), 0);
  await page.screenshot({ path: join(SHOTS, 'student.zh-CN.png') });
  await page.getByRole('button', { name: 'English' }).click();
  await timetable.getByText('This week').first().waitFor();
  assert.doesNotMatch(await page.locator('main').innerText(), RAW_KEY);
  await page.screenshot({ path: join(SHOTS, 'student.en.png') });
  await page.close();
});

test('a family picks a grade and sees its timetable', async () => {
  const page = await browser.newPage({ viewport: DESKTOP });
  await loginAs(page, 'family');
  await page.getByRole('button', { name: '初一' }).click();
  const timetable = page.getByTestId('timetable');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="timetable"] [data-testid="slot-cell"]')].some((e) =>
      e.getAttribute('data-lesson')?.startsWith('j1-'),
    ),
  );
  const cells = await cellsOf(page, 'timetable');
  assert.ok(cells.every((c) => c.lesson.startsWith('j1-')));
  // Junior high has eight periods a day.
  assert.equal(await timetable.locator('[role="rowheader"]').count(), 8);
  await page.screenshot({ path: join(SHOTS, 'family.zh-CN.png'), fullPage: true });
  await page.close();
});
