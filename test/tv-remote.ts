// The 10-foot UI driven as a family drives it: remote keys, the screen on show, the focused item.
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export interface RemoteOptions {
  /** Where screenshots go (`shot`, and what the box showed when `waitScreen` gave up). */
  shots: string;
  /** How long the UI settles after a key (focus moves, transitions). */
  settleMs?: number;
  /** How long `waitScreen` waits by default. */
  screenMs?: number;
  /** How long `shot` lets transitions end. */
  shotSettleMs?: number;
}

/** Helpers for one test file's boxes. */
export function tvRemote({ shots, settleMs = 150, screenMs = 10_000, shotSettleMs = 350 }: RemoteOptions) {
  return {
    /** Presses a remote key `times` times, letting the UI settle after each. */
    press: async (page: Page, key: string, times = 1): Promise<void> => {
      for (let i = 0; i < times; i++) {
        await page.keyboard.press(key);
        await page.waitForTimeout(settleMs);
      }
    },
    /** The focused item's focus key (or test id, or tag). */
    focused: (page: Page) =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.getAttribute('data-focus-key') ?? el?.getAttribute('data-testid') ?? el?.tagName;
      }),
    /** Waits for the screen `name`; else keeps what the box showed (`not-<name>.png`, its text in the log). */
    waitScreen: (page: Page, name: string, timeout = screenMs) =>
      page
        .waitForFunction(
          (n) => document.querySelector<HTMLElement>('.tv-root')?.dataset['screen'] === n,
          name,
          { timeout },
        )
        .catch(async (err: unknown) => {
          await page.screenshot({ path: join(shots, `not-${name}.png`) });
          console.log(`the box is not on ${name}:`, await page.evaluate(() => document.body.innerText));
          throw err;
        }),
    /** A screenshot `<name>.png`, once transitions have ended. */
    shot: async (page: Page, name: string): Promise<void> => {
      await page.waitForTimeout(shotSettleMs);
      await page.screenshot({ path: join(shots, `${name}.png`) });
    },
  };
}
