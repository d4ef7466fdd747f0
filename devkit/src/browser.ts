import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with a fresh profile and none of the background traffic that this
 * offline machine would refuse. `fakeMedia` adds a fake camera and microphone.
 */
export async function launchChromium(
  opts: { fakeMedia?: boolean } = {},
): Promise<Browser & { dispose(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'sky-chromium-'));
  const args = [
    `--user-data-dir=${profile}`,
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    ...(opts.fakeMedia ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : []),
  ];
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
  return Object.assign(browser, {
    async dispose() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
