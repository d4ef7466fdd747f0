// The week timetable on a phone (390x844, issue 17): the grid scrolls sideways and shows a day or two, so
// it opens on today's column, not on Monday with today off-screen. The browser's clock is set to this
// week's Friday (and Monday) in Beijing; the real curriculum service behind the real api serves the week.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { slotInstant } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD } from '../api/test/helpers.js';
import { dateOf, dayNumber, weekStart } from '../curriculum/src/services/calendar.js';
import { generatePlan } from '../curriculum/src/services/plan-generator.js';
import { startCurriculumStack, type CurriculumStack } from './curriculum-stack.js';

const SHOTS = '/tmp/shots-web';
const PHONE = { width: 390, height: 844 };
const monday = weekStart(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10));
const friday = dateOf(dayNumber(monday) + 4);

let stack: CurriculumStack;
let browser: Browser & { dispose(): Promise<void> };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startCurriculumStack();
  await stack.curriculum.schedule.replacePlan(generatePlan({ startDate: monday, lessons: 600 }), 'test');
  await stack.curriculum.schedule.build('test');
  browser = await launchChromium();
});
after(async () => {
  await browser?.dispose();
  await stack?.close();
});

/** A student's home on a phone, the browser's clock at 10:00 Beijing time on `day`. */
async function homeOn(day: string, lang: 'zh-CN' | 'en' = 'zh-CN'): Promise<Page> {
  const page = await browser.newPage({ viewport: PHONE });
  await page.clock.setFixedTime(new Date(Date.parse(slotInstant(day, '10:00'))));
  await page.addInitScript((l) => localStorage.setItem('sky.lang', l), lang);
  await page.goto(`${stack.base}/login`);
  await page.getByTestId('login-username').fill(`student.${stack.api.prefix}`);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('timetable').getByTestId('slot-cell').first().waitFor();
  return page;
}

/** Where a day's column is inside the scrolling grid, beside the sticky periods column. */
async function columnOf(page: Page, day: string) {
  return page
    .getByTestId('timetable')
    .locator('.week-scroll')
    .evaluate((box, d) => {
      const b = box.getBoundingClientRect();
      const periods = box.querySelector('.week-corner')!.getBoundingClientRect();
      const c = box.querySelector(`.week-day[data-date="${d}"]`)!.getBoundingClientRect();
      return {
        visible: c.left >= periods.right - 1 && c.right <= b.right + 1,
        scrollLeft: box.scrollLeft,
        text: (box.querySelector(`.week-day[data-date="${d}"]`) as HTMLElement).innerText,
      };
    }, day);
}

test('on a Friday the phone timetable opens on Friday, marked 今天', async () => {
  const page = await homeOn(friday);
  const today = await columnOf(page, friday);
  assert.ok(today.visible, `Friday's column is in view (scrolled ${today.scrollLeft}px)`);
  assert.match(today.text, /今天/);
  assert.equal((await columnOf(page, monday)).visible, false, 'Monday has scrolled out of view');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, 'the page itself does not scroll sideways');
  await page.getByTestId('timetable').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'timetable.phone.zh-CN.png') });
  // the reader can still scroll back to Monday
  await page
    .getByTestId('timetable')
    .locator('.week-scroll')
    .evaluate((e) => e.scrollTo({ left: 0 }));
  assert.ok((await columnOf(page, monday)).visible);
  await page.close();
});

test('in English too; on a Monday it opens where it always did', async () => {
  const en = await homeOn(friday, 'en');
  const today = await columnOf(en, friday);
  assert.ok(today.visible);
  assert.match(today.text, /Today/);
  await en.getByTestId('timetable').scrollIntoViewIfNeeded();
  await en.screenshot({ path: join(SHOTS, 'timetable.phone.en.png') });
  await en.close();
  const page = await homeOn(monday);
  const first = await columnOf(page, monday);
  assert.ok(first.visible);
  assert.equal(first.scrollLeft, 0);
  await page.close();
});
