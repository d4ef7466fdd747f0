// The live stack for browser tests: a real api (mongod, redis-server), the sfu as deployed (real mediasoup
// workers, the HLS bridge's ffmpeg), the real transcoder that turns the recording into the replay, and
// Chromium with a fake camera and microphone; plus the page helpers the live tests share.
import { mkdirSync } from 'node:fs';
import { redisTarget, type Lesson, type TokenPair } from '@sky/contracts';
import { createJobQueues } from '@sky/contracts/queue';
import { logOptions } from '@sky/contracts/http';
import { freePort, launchChromium, reserveRtcPorts, testLogger } from '@sky/devkit';
import * as mediasoup from 'mediasoup';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { PASSWORD, startTestApi, type TestApi } from '../api/test/helpers.js';
import type { WorkerPool } from '../sfu/src/adapters/mediasoup.js';
import type { SfuApp } from '../sfu/src/app.js';
import { composeSfu } from '../sfu/src/compose.js';
import { loadConfig as loadSfuConfig } from '../sfu/src/config.js';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { createApp as createTranscoder } from '../transcoder/src/app.js';
import { composeStorage } from '../transcoder/src/compose.js';
import { loadConfig as transcoderConfig } from '../transcoder/src/config.js';
import { actorOf } from './fixtures.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';

/** A viewing beacon batch a page sent, by user, with the api's answer. */
export interface SentBeacon {
  username: string;
  body: string;
  status: number;
}

/** The clapperboard's period and flash (s): what hls-probe's avSync pairs. */
export const CLAPPER_PERIOD_SEC = 2;
const CLAPPER_FLASH_SEC = 0.2;

/**
 * The camera and microphone of a teacher with a clapperboard: the page's getUserMedia (when it asks for
 * video) gets a canvas that turns white for CLAPPER_FLASH_SEC every CLAPPER_PERIOD_SEC, and a tone that is
 * loud at the same moments (-18 dBFS, -38 otherwise), both timed on one AudioContext clock: the sound is
 * scheduled sample-exactly, the picture is drawn and captured (requestFrame) within 5 ms of each change.
 * Chromium's own fake devices start their picture and sound apart, so they cannot show A/V sync.
 */
export const CLAPPER = `{
  const PERIOD = ${CLAPPER_PERIOD_SEC}, FLASH = ${CLAPPER_FLASH_SEC}, LOUD = 0.125, QUIET = 0.0125;
  const devices = navigator.mediaDevices;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (c) => {
    if (!c || !c.video) return original(c);
    const ac = new AudioContext({ sampleRate: 48000 });
    await ac.resume();
    const osc = ac.createOscillator();
    osc.frequency.value = 440;
    const gain = ac.createGain();
    gain.gain.value = QUIET;
    const dest = ac.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    const t0 = ac.currentTime + 0.1;
    for (let k = 0; k < 3600; k++) {
      gain.gain.setValueAtTime(LOUD, t0 + k * PERIOD);
      gain.gain.setValueAtTime(QUIET, t0 + k * PERIOD + FLASH);
    }
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const g = canvas.getContext('2d');
    const [video] = canvas.captureStream(0).getVideoTracks();
    let lit, drawnAt = 0, n = 0;
    const draw = () => {
      const t = ac.currentTime - t0;
      const on = t >= 0 && t % PERIOD < FLASH;
      const now = performance.now();
      if (on === lit && now - drawnAt < 40) return;
      g.fillStyle = on ? '#ffffff' : '#202838';
      g.fillRect(0, 0, 640, 360);
      if (!on) {
        g.fillStyle = '#3c9';
        g.fillRect((n * 8) % 600, 160, 40, 40);
      }
      n++;
      video.requestFrame();
      lit = on;
      drawnAt = now;
    };
    draw();
    setInterval(draw, 5);
    const tracks = [video];
    if (c.audio) tracks.push(...dest.stream.getAudioTracks());
    return new MediaStream(tracks);
  };
}`;

export interface LiveStack {
  api: TestApi;
  /** The api's origin (web client, /media, /api). */
  base: string;
  sfu: SfuApp;
  /** The sfu's mediasoup workers (tests kill one). */
  pool: WorkerPool;
  /** Every producer the sfu's workers create (seen through mediasoup's observer, across restarts). */
  producers: mediasoup.types.Producer[];
  beacons: SentBeacon[];
  /** A signed-in page (the session put in place as the login page would) at `path`, in `lang`. */
  open(
    username: string,
    path: string,
    lang?: 'zh-CN' | 'en',
    opts?: { blockIce?: boolean; clapper?: boolean },
  ): Promise<Page>;
  /** Students of grade p3 made for this file: username and id, by the given display names. */
  addStudents<K extends string>(
    names: Record<K, string>,
  ): Promise<Record<K, { username: string; id: string }>>;
  /** A live lesson of the test teacher, not started. */
  addLesson(title: string): Promise<Lesson>;
  /** The lesson as the api gives it to its teacher. */
  lesson(id: string): Promise<Lesson>;
  close(): Promise<void>;
}

export async function startLiveStack(opts: {
  /** WEBRTC_AUDIENCE_CAP: students over it watch the live HLS. */
  webrtcCap: number;
  webDist: string;
  /** Screenshots go here. */
  shots: string;
  /** The sfu's log (info and above, JSON lines) goes to this file; none when left out. */
  sfuLog?: string;
}): Promise<LiveStack> {
  mkdirSync(opts.shots, { recursive: true });
  const apiPort = await freePort();
  const sfuPort = await freePort();
  const api = await startTestApi({
    WEB_DIST_DIR: opts.webDist,
    SFU_URL: `http://127.0.0.1:${sfuPort}`,
    SFU_PUBLIC_URL: `http://127.0.0.1:${sfuPort}`,
  });
  await api.app.http.listen({ host: '127.0.0.1', port: apiPort });
  const base = `http://127.0.0.1:${apiPort}`;

  const producers: mediasoup.types.Producer[] = [];
  mediasoup.observer.on('newworker', (w) =>
    w.observer.on('newrouter', (r) =>
      r.observer.on('newtransport', (t) => t.observer.on('newproducer', (p) => producers.push(p))),
    ),
  );
  const [rtcMin, rtcMax] = reserveRtcPorts();
  const config = loadSfuConfig({
    ...process.env,
    NUM_WORKERS: '1',
    LOG_LEVEL: 'silent',
    // a slice of the RTC port range that no other test process holds
    RTC_MIN_PORT: String(rtcMin),
    RTC_MAX_PORT: String(rtcMax),
    JWT_SECRET: SECRET,
    API_URL: base,
    MEDIA_DIR: api.mediaDir,
    REDIS_URL: api.redisUrl,
    QUEUE_PREFIX: api.prefix,
    WEBRTC_AUDIENCE_CAP: String(opts.webrtcCap),
    LIVE_HLS_SEGMENT_SEC: '1',
  });
  // the sfu composed by the same function as sfu/src/main.ts
  const sfuLogger = opts.sfuLog
    ? pino(
        { ...logOptions('sfu', 'info'), level: 'info' },
        pino.destination({ dest: opts.sfuLog, sync: true }),
      )
    : testLogger('sfu', logOptions('sfu', 'info'));
  const { app: sfu, workers: pool } = await composeSfu(config, sfuLogger, {
    version: 'test',
  });
  await sfu.http.listen({ host: '127.0.0.1', port: sfuPort });

  // the real transcoder: at the end, the recording becomes the replay the way uploads do
  const tCfg = transcoderConfig({
    JWT_SECRET: SECRET,
    REDIS_URL: api.redisUrl,
    QUEUE_PREFIX: api.prefix,
    MEDIA_DIR: api.mediaDir,
    CONCURRENCY: '1',
  });
  const transcoderQueues = createJobQueues(redisTarget(tCfg, 'queue'), tCfg.QUEUE_PREFIX);
  const transcoder = await createTranscoder({
    config: tCfg,
    logger: testLogger('transcoder', logOptions('transcoder', 'info')),
    queues: transcoderQueues,
    ffmpeg: createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    ...(await composeStorage(tCfg)),
    version: 'test',
  });
  const browser: Browser & { dispose(): Promise<void> } = await launchChromium({ fakeMedia: true });

  const beacons: SentBeacon[] = [];
  const open: LiveStack['open'] = async (username, path, lang = 'zh-CN', o = {}) => {
    const session: TokenPair = await api.login(username);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: lang });
    // The refresh cookie the login page would have set; the page trades it for its access token.
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
    if (o.clapper) await ctx.addInitScript({ content: CLAPPER });
    if (o.blockIce) {
      // a network where WebRTC media cannot pass (a strict firewall): the sfu's ICE candidates never arrive
      await ctx.addInitScript({
        content: `{
        const set = RTCPeerConnection.prototype.setRemoteDescription;
        RTCPeerConnection.prototype.setRemoteDescription = function (desc) {
          const sdp = desc && desc.sdp ? desc.sdp.replace(/a=candidate:.*\\r\\n/g, '') : undefined;
          return set.call(this, sdp !== undefined ? { type: desc.type, sdp } : desc);
        };
      }`,
      });
    }
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
  };

  return {
    api,
    base,
    sfu,
    pool,
    producers,
    beacons,
    open,
    async addStudents(names) {
      const out = {} as Record<keyof typeof names, { username: string; id: string }>;
      for (const [k, displayName] of Object.entries(names) as [keyof typeof names, string][]) {
        const username = `live-${String(k)}.${api.prefix}`;
        const created = await api.app.services.users.create({
          username,
          password: PASSWORD,
          displayName,
          role: 'student',
          grade: 'p3',
        });
        out[k] = { username, id: created.id };
      }
      return out;
    },
    async addLesson(title) {
      return api.app.services.lessons.create(await actorOf(api, 'teacher'), {
        title,
        grade: 'p3',
        subject: '数学',
      });
    },
    async lesson(id) {
      const res = await api.app.http.inject({
        url: `/api/lessons/${id}`,
        headers: { authorization: `Bearer ${api.tokens.teacher}` },
      });
      return res.json<Lesson>();
    },
    async close() {
      await browser.dispose();
      await sfu.close();
      await transcoder.close();
      await transcoderQueues.close();
      await api.close();
    },
  };
}

/** A number on the first element matching `selector` (data attribute `name`). */
export async function attr(page: Page, selector: string, name: string): Promise<number> {
  return page.evaluate(
    ([sel, a]) => Number(document.querySelector(sel!)?.getAttribute(a!) ?? -1),
    [selector, name],
  );
}

/**
 * Waits until the element's counter (framesDecoded / bytesReceived of its consumer's own inbound-rtp)
 * is above `min` and then grows again: media is flowing and decoding, not one stale frame.
 */
export async function flowing(page: Page, selector: string, name: string, timeout = 20_000): Promise<number> {
  await page.waitForFunction(
    ([sel, a]) => Number(document.querySelector(sel!)?.getAttribute(a!) ?? 0) > 0,
    [selector, name],
    { timeout },
  );
  const first = await attr(page, selector, name);
  await page.waitForFunction(
    ([sel, a, v]) => Number(document.querySelector(sel!)?.getAttribute(a!) ?? 0) > Number(v),
    [selector, name, String(first)],
    // a simulcast layer switch waits for a key frame; the shared machine can be very slow
    { timeout: 10_000 },
  );
  return attr(page, selector, name);
}

/** The studio after a reload offers to resume the lesson: click it and wait until it is live again. */
export async function resumeAfterReload(teacher: Page): Promise<number> {
  await teacher.waitForFunction(() =>
    /继续直播/.test(document.querySelector('[data-testid="studio-go-live"]')?.textContent ?? ''),
  );
  await teacher.waitForSelector('[data-testid="studio-go-live"]:not([disabled])');
  const at = Date.now();
  await teacher.getByTestId('studio-go-live').click();
  await teacher.waitForSelector('[data-testid="live-studio"][data-phase="live"]', { timeout: 20_000 });
  return at;
}

/** The teacher ends the lesson from the studio; resolves once the studio reads the replay was queued. */
export async function endFromStudio(teacher: Page): Promise<void> {
  await teacher.getByTestId('studio-end').click();
  // ending finalises the recording first (ffmpeg drains its backlog: up to 20 s on a loaded machine)
  await teacher.getByTestId('live-ended').waitFor({ timeout: 60_000 });
  // the teacher reads the sfu's answer too: the recording went to the transcoder (this answer was once
  // lost: the studio left on its own room.ended, timed the request out and went back to "live")
  await teacher.locator('[data-testid="live-replay"][data-replay="queued"]').waitFor({ timeout: 30_000 });
}
