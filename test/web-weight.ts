// What a page costs to load, read from Chromium's own network events (CDP): the JavaScript transferred on
// a cold cache (bytes on the wire, headers included, as DevTools counts them), how it was encoded, and
// when the lesson's video had its first frame. Used by test/web-weight.test.ts and bench/web.ts.
import type { CDPSession, Page } from 'playwright-core';

export interface JsResponse {
  url: string;
  /** Bytes on the wire (headers and body). */
  transferred: number;
  /** The script as the browser got it after decoding. */
  decoded: number;
  encoding: string;
  vary: string;
  /** ms after the navigation started (as this process heard of it). */
  finishedAt: number;
  /** When the page asked for it: the browser's wall clock, ms since the epoch. */
  requestedAt: number;
}

export interface PageWeight {
  /** JavaScript transferred, bytes. */
  js: number;
  /** JavaScript after decoding, bytes. */
  jsDecoded: number;
  files: JsResponse[];
  /** ms from the navigation to the first frame of the page's video (when asked for one). */
  firstFrameMs?: number;
  /** When that frame came, on the browser's wall clock (ms since the epoch; compare JsResponse.requestedAt). */
  firstFrameAt?: number;
  /**
   * JavaScript the page asked for before that first frame, bytes transferred: what a phone waits for before
   * the lesson plays (chunks asked for once it shows, Q&A, are not in it).
   */
  jsBeforeFirstFrame?: number;
}

export interface WeighOptions {
  /** Encodings the browser offers (Chromium offers br only to secure origins and localhost). */
  encodings?: ('br' | 'gzip' | 'deflate')[];
  /** A line to emulate: downlink in bit/s, round trip in ms. */
  network?: { bitsPerSecond: number; rttMs: number };
  /** Keep the browser cache (a page reached after another one of the app). */
  warm?: boolean;
  /** Waits until the page shows what it is for. */
  ready: (page: Page) => Promise<void>;
  /** Also time the first frame of the first <video> of the page. */
  firstFrame?: boolean;
}

/** Watches the JavaScript a page fetches, on a line and with the encodings asked for. */
export async function watchScripts(page: Page, opts: Omit<WeighOptions, 'ready' | 'firstFrame'> = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  if (!opts.warm) {
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  }
  if (opts.encodings)
    await cdp.send('Network.setExtraHTTPHeaders', {
      headers: { 'Accept-Encoding': opts.encodings.join(', ') },
    });
  if (opts.network) {
    const bytesPerSecond = opts.network.bitsPerSecond / 8;
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: opts.network.rttMs,
      downloadThroughput: bytesPerSecond,
      uploadThroughput: bytesPerSecond,
    });
  }
  const scripts = new Map<string, { url: string; encoding: string; vary: string; decoded: number }>();
  const files: JsResponse[] = [];
  /** Requests in flight, by id: their URLs say which one a page that never settles waits for. */
  const pending = new Map<string, string>();
  /** The browser's wall-clock time of each request, by id. */
  const requested = new Map<string, number>();
  let lastActivity = Date.now();
  let since = Date.now();
  cdp.on('Network.requestWillBeSent', (e) => {
    // data: and blob: URLs are not fetched over the network (and get no loadingFinished)
    if (/^(data|blob):/.test(e.request.url)) return;
    pending.set(e.requestId, e.request.url);
    requested.set(e.requestId, e.wallTime * 1000);
    lastActivity = Date.now();
  });
  cdp.on('Network.responseReceived', (e) => {
    if (e.type !== 'Script') return;
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    scripts.set(e.requestId, {
      url: e.response.url,
      encoding: h['content-encoding'] ?? 'identity',
      vary: h['vary'] ?? '',
      decoded: 0,
    });
  });
  cdp.on('Network.dataReceived', (e) => {
    const s = scripts.get(e.requestId);
    if (s) s.decoded += e.dataLength;
  });
  cdp.on('Network.loadingFinished', (e) => {
    pending.delete(e.requestId);
    lastActivity = Date.now();
    const s = scripts.get(e.requestId);
    if (s)
      files.push({
        ...s,
        transferred: e.encodedDataLength,
        finishedAt: Date.now() - since,
        requestedAt: requested.get(e.requestId) ?? 0,
      });
  });
  cdp.on('Network.loadingFailed', (e) => {
    pending.delete(e.requestId);
    lastActivity = Date.now();
  });
  return {
    /** Counts from now: earlier files are forgotten, times start here. */
    restart() {
      files.length = 0;
      since = Date.now();
    },
    /** ms since restart(). */
    elapsed: () => Date.now() - since,
    /** Resolves after a second without any request in flight (throws after `limitMs`, naming them). */
    async quiet(limitMs = 90_000) {
      const until = Date.now() + limitMs;
      while (pending.size > 0 || Date.now() - lastActivity < 1000) {
        if (Date.now() > until)
          throw new Error(`the page never settled; in flight: ${[...pending.values()].join(', ')}`);
        await page.waitForTimeout(100);
      }
    },
    /** `frameAt`: the first frame, on the browser's wall clock (what firstFrame() resolves to). */
    weight(firstFrameMs?: number, frameAt = Infinity): PageWeight {
      return {
        js: files.reduce((n, f) => n + f.transferred, 0),
        jsDecoded: files.reduce((n, f) => n + f.decoded, 0),
        files: [...files],
        ...(firstFrameMs === undefined
          ? {}
          : {
              firstFrameMs: Math.round(firstFrameMs),
              firstFrameAt: frameAt,
              jsBeforeFirstFrame: files
                .filter((f) => f.requestedAt <= frameAt)
                .reduce((n, f) => n + f.transferred, 0),
            }),
      };
    },
    detach: () => detach(cdp),
  };
}

/** A video element as far as firstFrame needs it (bench/web.ts type-checks this file without the DOM library). */
interface MediaLike {
  readyState: number;
  addEventListener(type: 'loadeddata', listener: () => void, options: { once: boolean }): void;
}

/**
 * Waits for the first frame of the page's video (loadeddata: hls.js loads the first segments by itself)
 * and resolves to when it came, on the browser's wall clock (ms since the epoch).
 * The wait is a function run through the DevTools protocol, not a string the page evaluates: the app's
 * Content-Security-Policy (script-src 'self') forbids eval in the page.
 */
export async function firstFrame(page: Page, timeoutMs = 120_000): Promise<number> {
  const frameAt = await page
    .locator('video')
    .first()
    .evaluate(
      (el, ms: number) => {
        const video = el as unknown as MediaLike;
        // already shown: now is an upper bound of when
        if (video.readyState >= 2) return Date.now();
        return new Promise<number | null>((resolve) => {
          video.addEventListener('loadeddata', () => resolve(Date.now()), { once: true });
          setTimeout(() => resolve(video.readyState >= 2 ? Date.now() : null), ms);
        });
      },
      timeoutMs,
      { timeout: timeoutMs },
    );
  if (frameAt === null) throw new Error(`the video showed no frame within ${timeoutMs} ms`);
  // the frame may have come before the wait began: when the page saw it (recordFirstFrame), if it did
  const seen = await page.evaluate(() => (globalThis as unknown as FrameRecord).skyFirstFrameAt);
  return seen ?? frameAt;
}

/** Where recordFirstFrame() keeps the time of the page's first loadeddata. */
interface FrameRecord {
  skyFirstFrameAt?: number;
  document: { addEventListener(type: 'loadeddata', listener: () => void, capture: boolean): void };
}

/**
 * Notes the first frame of any video in each document the page loads from now on (a capturing listener:
 * media events do not bubble). Injected through the DevTools protocol, so the CSP does not apply to it.
 */
export async function recordFirstFrame(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as FrameRecord;
    g.document.addEventListener('loadeddata', () => (g.skyFirstFrameAt ??= Date.now()), true);
  });
}

/**
 * Loads `url` in `page` and weighs the JavaScript it fetches until the network has been quiet for a
 * second after `ready`.
 */
export async function weighPage(page: Page, url: string, opts: WeighOptions): Promise<PageWeight> {
  const watch = await watchScripts(page, opts);
  if (opts.firstFrame) await recordFirstFrame(page);
  watch.restart();
  await page.goto(url);
  await opts.ready(page);
  let firstFrameMs: number | undefined;
  let frameAt: number | undefined;
  if (opts.firstFrame) {
    frameAt = await firstFrame(page);
    firstFrameMs = watch.elapsed();
  }
  await watch.quiet();
  await watch.detach();
  return watch.weight(firstFrameMs, frameAt);
}

async function detach(cdp: CDPSession): Promise<void> {
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false }).catch(() => undefined);
  await cdp.detach().catch(() => undefined);
}

export const kB = (bytes: number) => Math.round(bytes / 102.4) / 10;
