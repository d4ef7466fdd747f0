import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with none of the background traffic this offline machine refuses.
 * playwright's launch() gives every browser a fresh temporary profile of its own and removes it on
 * close. `fakeMedia` adds a fake camera and microphone.
 */
export async function launchChromium(
  opts: { fakeMedia?: boolean } = {},
): Promise<Browser & { dispose(): Promise<void> }> {
  const args = [
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
  return Object.assign(browser, { dispose: () => browser.close() });
}
