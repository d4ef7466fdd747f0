// A live lesson through ten disruptions in a row, watched by the ones who suffer them most: the viewers over
// the WebRTC cap on the live HLS. A teacher live from the studio, two students over WebRTC, three over the
// cap on HLS (Chromium, fake media); screen share on/off ×3, teacher reload ×2, the bridge's ffmpeg killed ×2,
// the mediasoup worker killed ×2, the camera paused and resumed ×1. Each HLS viewer's page notes every frame
// it renders; per disruption, the longest time without one is the stall (≤ 3 s for a source switch or a
// reload, ≤ 6 s for a kill). Every segment of every rung of both packagings (web fMP4, TV MPEG-TS) is kept
// as the playlists list it and decoded by ffprobe afterwards; then the replay: as long as the lesson (less
// 1 s per kill), no packet gap over 1 s, audio and video in sync at the end (the teacher holds a
// clapperboard: a white picture and a loud tone together every 2 s) and ending together.
//
// npm-test: alone (its bounds are the product's, with six browsers and the bridge on this one machine already)
import assert from 'node:assert/strict';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Lesson } from '@sky/contracts';
import { mediaDuration, packetTiming } from '@sky/devkit';
import type { Page } from 'playwright-core';
import { avSync, decode, pairsOf } from '../sfu/test/hls-probe.js';
import {
  CLAPPER_PERIOD_SEC,
  endFromStudio,
  flowing,
  resumeAfterReload,
  startLiveStack,
  type LiveStack,
} from './live-stack.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results', 'live-disruptions');
const WEB_DIST = process.env['SKY_WEB_DIST'] ?? join(ROOT, 'web-client', 'dist');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Two students in the interactive class; the three HLS viewers are over the cap. */
const WEBRTC_CAP = 2;
/** The longest stall an HLS viewer may see: a source switch or a reload, and a kill. */
const SWITCH_STALL_MAX_MS = 3000;
const KILL_STALL_MAX_MS = 6000;
/** After a disruption, a viewer must render frames made this long after it (its buffer is long spent). */
const RECOVERED_AFTER_MS = 6000;
/** …within this long, or it did not recover. */
const RECOVERY_TIMEOUT_MS = 45_000;
/** How long the camera stays paused. */
const CAMERA_PAUSE_MS = 4000;
/** Quiet time before the first disruption (the viewers settle at the live edge). */
const SETTLE_MS = 5000;
/** The lesson goes on this long after the last disruption: its end is where A/V sync is measured. */
const END_MS = 12_000;
/** The last clapperboard flashes of the lesson, each within AV_MAX_SEC of its tone. */
const END_FLASHES = 4;
const AV_MAX_SEC = 0.1;

let stack: LiveStack;
let lesson: Lesson;
let teacher: Page;
const students: Page[] = [];
const viewers: { name: string; page: Page }[] = [];
let users: Record<'a' | 'b' | 'c' | 'd' | 'e', { username: string; id: string }>;

before(async () => {
  stack = await startLiveStack({
    webrtcCap: WEBRTC_CAP,
    webDist: WEB_DIST,
    shots: SHOTS,
    sfuLog: join(SHOTS, 'sfu.log'),
  });
  users = await stack.addStudents({ a: '王小明', b: '李小红', c: '赵小刚', d: '钱小丽', e: '孙小强' });
  lesson = await stack.addLesson('认识钟表（直播，十次中断）');
});

after(async () => {
  archive.stop();
  // the bridge's ffmpeg log beside the sfu's, for whoever reads a failure
  if (lesson && existsSync(join(liveDir(), '.ffmpeg.log')))
    copyFileSync(join(liveDir(), '.ffmpeg.log'), join(SHOTS, 'ffmpeg.log'));
  if (lesson && existsSync(join(liveDir(), 'recording')))
    cpSync(join(liveDir(), 'recording'), join(SHOTS, 'recording'), { recursive: true });
  await stack?.close();
});

// ---- the viewers' frames ----

/**
 * Installed in an HLS viewer's page: every 50 ms, a new frame on screen (the decoded-frame count of the
 * live <video> grew while its position moved) is noted with the wall clock, on window.__frames. The
 * element is looked up each time: the page may make a new one.
 */
function watchFrames(): void {
  const w = window as unknown as { __frames: number[] };
  w.__frames = [];
  let el: HTMLVideoElement | null = null;
  let frames = 0;
  let position = 0;
  setInterval(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="live-hls"]');
    if (!v) return;
    const n = v.getVideoPlaybackQuality().totalVideoFrames;
    if (v !== el || n < frames) {
      // a new element or a new media source (the player started over): counts start again
      el = v;
      frames = n;
      position = v.currentTime;
      return;
    }
    if (n > frames && v.currentTime !== position) w.__frames.push(Date.now());
    frames = n;
    position = v.currentTime;
  }, 50);
}

const framesOf = (page: Page) => page.evaluate(() => (window as unknown as { __frames: number[] }).__frames);

/** The longest time without a new frame that overlaps [from, to] (the wait before the first frame in it counts). */
function longestStall(frames: readonly number[], from: number, to: number): number {
  let longest = 0;
  let prev = frames.filter((t) => t <= from).at(-1) ?? from;
  for (const t of frames) {
    if (t <= from) continue;
    if (t > to) break;
    longest = Math.max(longest, t - prev);
    prev = t;
  }
  return Math.max(longest, to - prev);
}

/** What the player says about itself (the last hls.js error, its start-overs). */
const playerState = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="live-hls"]');
    return v
      ? `t=${v.currentTime.toFixed(1)} rs=${v.readyState} err=${v.dataset['hlsError'] ?? '-'} restarts=${v.dataset['hlsRestarts'] ?? 0}`
      : 'no video';
  });

// ---- the segments, kept as the playlists list them ----

const liveDir = () => join(stack.api.mediaDir, 'live', lesson.id);
const KEPT = join(ROOT, 'test-results', 'live-disruptions', 'segments');
const VARIANTS = ['web/720p', 'web/360p', 'tv/720p', 'tv/360p'] as const;

interface KeptSegment {
  variant: (typeof VARIANTS)[number];
  name: string;
  /** the ffmpeg run that wrote it (seg_<run>_<n>) */
  run: number;
  /** when the playlist first listed it (wall clock, ms) */
  seenAt: number;
  /** web: the init segment the viewer playlist maps it to */
  init?: string | undefined;
}

/**
 * Every segment the viewers' playlists list is copied aside (ffmpeg deletes them a few segments later),
 * with the EXT-X-MAP the web playlist gives it. The playlists' media and discontinuity sequences are checked
 * never to go back.
 */
const runOf = (segment: string) => Number(/^seg_(\d+)_/.exec(segment)?.[1] ?? -1);

function segmentArchive() {
  const kept = new Map<string, KeptSegment>();
  const problems: string[] = [];
  const last = new Map<string, { media: number; disc: number }>();
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    for (const variant of VARIANTS) {
      const dir = join(liveDir(), variant);
      let text: string;
      try {
        text = readFileSync(join(dir, 'index.m3u8'), 'utf8');
      } catch {
        continue;
      }
      const media = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
      const disc = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
      const before = last.get(variant);
      if (before && (media < before.media || disc < before.disc))
        problems.push(`${variant}: sequence ${before.media}/${before.disc} → ${media}/${disc}`);
      last.set(variant, { media, disc });
      let init: string | undefined;
      for (const line of text.split('\n')) {
        const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
        if (map) init = map[1];
        if (!line || line.startsWith('#')) continue;
        const key = `${variant}/${line}`;
        if (kept.has(key)) continue;
        const to = join(KEPT, variant, line);
        try {
          mkdirSync(dirname(to), { recursive: true });
          copyFileSync(join(dir, line), to);
          if (init && !existsSync(join(KEPT, variant, init)))
            copyFileSync(join(dir, init), join(KEPT, variant, init));
        } catch (err) {
          problems.push(`${key}: listed but not readable (${(err as Error).message})`);
        }
        kept.set(key, { variant, name: line, init, run: runOf(line), seenAt: Date.now() });
      }
    }
  };
  return {
    kept,
    problems,
    /** The newest run with a segment listed in web/720p so far. */
    lastRun: () =>
      Math.max(-1, ...[...kept.values()].filter((k) => k.variant === 'web/720p').map((k) => k.run)),
    /** When web/720p first listed a segment of a run after `run` (ms), if it has. */
    firstOfRunAfter: (run: number) =>
      Math.min(
        ...[...kept.values()].filter((k) => k.variant === 'web/720p' && k.run > run).map((k) => k.seenAt),
      ),
    start() {
      timer = setInterval(poll, 400);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      poll();
    },
  };
}
const archive = segmentArchive();

// ---- the disruptions ----

/** The bridge's ffmpeg: the process reading this lesson's SDP (found through /proc, as an operator would). */
function bridgeFfmpegPid(): number | undefined {
  const sdp = `live/${lesson.id}/.input.sdp`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/ffmpeg$/.test(cmd[0] ?? '') && cmd.some((a) => a.endsWith(sdp))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

async function waitUntil(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * The teacher's camera paused, then resumed, by the studio's room client: the studio has no control for
 * it (only the stage's mute of a student), so the test reaches the page's LiveRoomClient through React.
 */
async function setCameraPaused(paused: boolean): Promise<void> {
  await teacher.evaluate(async (p) => {
    interface Hook {
      memoizedState: unknown;
      next: Hook | null;
    }
    interface Fiber {
      memoizedState: Hook | null;
      return: Fiber | null;
    }
    interface Client {
      setPaused(source: 'camera', paused: boolean): Promise<void>;
    }
    const el = document.querySelector('[data-testid="live-studio"]');
    const key = el && Object.keys(el).find((k) => k.startsWith('__reactFiber$'));
    let fiber = key ? ((el as unknown as Record<string, Fiber>)[key] ?? null) : null;
    for (; fiber; fiber = fiber.return)
      for (let hook = fiber.memoizedState; hook && typeof hook === 'object'; hook = hook.next) {
        const s = hook.memoizedState as Partial<Client> | null;
        if (s && typeof s === 'object' && typeof s.setPaused === 'function') {
          await (s as Client).setPaused('camera', p);
          return;
        }
      }
    throw new Error("no room client in the studio's state");
  }, paused);
}

type Kind = 'switch' | 'kill';
interface Disruption {
  name: string;
  kind: Kind;
  act(): Promise<void>;
}

const screenToggle = (on: boolean) => async () => {
  await teacher.getByTestId('studio-screen-toggle').click();
  await teacher.getByTestId('studio-screen').waitFor({ state: on ? 'visible' : 'detached', timeout: 15_000 });
};
const teacherReload = async () => {
  await teacher.reload();
  await resumeAfterReload(teacher);
};
const killFfmpeg = async () => {
  const pid = bridgeFfmpegPid();
  assert.ok(pid, "the bridge's ffmpeg is running");
  process.kill(pid, 'SIGKILL');
  await waitUntil('a new bridge ffmpeg', () => (bridgeFfmpegPid() ?? pid) !== pid, 20_000);
};
const killWorker = async () => {
  const victim = stack.pool.states()[0]!;
  process.kill(victim.pid, 'SIGKILL');
  await waitUntil('a new mediasoup worker', () => stack.pool.states()[0]?.pid !== victim.pid, 20_000);
};
const pauseCamera = async () => {
  await setCameraPaused(true);
  await sleep(CAMERA_PAUSE_MS);
  await setCameraPaused(false);
};

/** Ten disruptions: a screen share on and off counts as one, a camera paused and resumed too. */
const DISRUPTIONS: Disruption[] = [
  { name: '1 screen share on', kind: 'switch', act: screenToggle(true) },
  { name: '1 screen share off', kind: 'switch', act: screenToggle(false) },
  { name: '2 teacher reload', kind: 'switch', act: teacherReload },
  { name: '3 ffmpeg killed', kind: 'kill', act: killFfmpeg },
  { name: '4 camera paused/resumed', kind: 'switch', act: pauseCamera },
  { name: '5 worker killed', kind: 'kill', act: killWorker },
  { name: '6 screen share on', kind: 'switch', act: screenToggle(true) },
  { name: '6 screen share off', kind: 'switch', act: screenToggle(false) },
  { name: '7 ffmpeg killed', kind: 'kill', act: killFfmpeg },
  { name: '8 teacher reload', kind: 'switch', act: teacherReload },
  { name: '9 worker killed', kind: 'kill', act: killWorker },
  { name: '10 screen share on', kind: 'switch', act: screenToggle(true) },
  { name: '10 screen share off', kind: 'switch', act: screenToggle(false) },
];

// ---- the lesson ----

test('the teacher goes live; two students over WebRTC, three over the cap on the live HLS', async () => {
  teacher = await stack.open(`teacher.${stack.api.prefix}`, `/teacher/live/${lesson.id}`, 'zh-CN', {
    clapper: true,
  });
  await teacher
    .waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="studio-preview"]')?.videoWidth ?? 0) > 0,
    )
    .catch(async (err: unknown) => {
      await teacher.screenshot({ path: join(SHOTS, 'studio-no-preview.png') });
      console.log(`[disruptions] studio: ${await teacher.locator('body').innerText()}`);
      throw err;
    });
  await teacher.getByTestId('studio-go-live').click();
  await teacher.waitForSelector('[data-testid="live-studio"][data-phase="live"]', { timeout: 20_000 });
  archive.start();
  for (const k of ['a', 'b'] as const) {
    const page = await stack.open(users[k].username, `/live/${lesson.id}`);
    await page.waitForSelector('[data-testid="live-watch"][data-mode="webrtc"]', { timeout: 20_000 });
    await flowing(page, '[data-testid="live-camera"]', 'data-frames-decoded');
    students.push(page);
  }
  for (const k of ['c', 'd', 'e'] as const) {
    const page = await stack.open(users[k].username, `/live/${lesson.id}`);
    await page.waitForSelector('[data-testid="live-watch"][data-mode="hls"]', { timeout: 20_000 });
    assert.equal(await page.getByTestId('live-fallback').getAttribute('data-reason'), 'full');
    await page.evaluate(watchFrames);
    viewers.push({ name: `HLS ${k.toUpperCase()}`, page });
  }
  // every HLS viewer plays: frames keep coming
  const since = Date.now();
  for (const v of viewers)
    await waitUntil(
      `${v.name} playing`,
      async () => (await framesOf(v.page)).filter((t) => t > since).length > 25,
      60_000,
    ).catch(async (err: unknown) => {
      console.log(`[disruptions] ${v.name}: ${await playerState(v.page)}`);
      throw err;
    });
  await sleep(SETTLE_MS);
});

interface Row {
  name: string;
  kind: Kind;
  /** ms the action itself took (a reload until the studio is live again, a kill until the new process) */
  actionMs: number;
  /** From the start of the disruption until web/720p listed a segment of a new ffmpeg run (none: -1) */
  newRunMs: number;
  stallMs: number[];
  state: string[];
  /** when it began (wall ms): the replay's A/V pairs are read against it */
  at: number;
}
const rows: Row[] = [];

test('ten disruptions: every HLS viewer renders frames after each, stalls within bounds', async () => {
  assert.equal(viewers.length, 3, 'three HLS viewers are watching');
  for (const d of DISRUPTIONS) {
    const from = Date.now();
    const runBefore = archive.lastRun();
    await d.act();
    const done = Date.now();
    // recovered: each viewer renders frames made well after the disruption (its buffer is spent by then)
    const recovered = await Promise.all(
      viewers.map(async (v) => {
        const deadline = done + RECOVERY_TIMEOUT_MS;
        while (Date.now() < deadline) {
          if ((await framesOf(v.page)).some((t) => t >= done + RECOVERED_AFTER_MS)) return true;
          await sleep(250);
        }
        return false;
      }),
    );
    const to = Date.now();
    const row: Row = {
      name: d.name,
      kind: d.kind,
      actionMs: done - from,
      newRunMs: Number.isFinite(archive.firstOfRunAfter(runBefore))
        ? archive.firstOfRunAfter(runBefore) - from
        : -1,
      stallMs: await Promise.all(viewers.map(async (v) => longestStall(await framesOf(v.page), from, to))),
      state: await Promise.all(viewers.map((v) => playerState(v.page))),
      at: from,
    };
    rows.push(row);
    console.log(
      `[disruptions] ${d.name.padEnd(24)} action ${String(row.actionMs).padStart(5)} ms; new run's first ` +
        `segment +${row.newRunMs} ms; longest stall ` +
        `${row.stallMs.map((s) => `${s} ms`).join(' / ')}${recovered.every(Boolean) ? '' : ' — NOT RECOVERED'}; ${row.state.join(' | ')}`,
    );
  }
  const table = [
    `| disruption | action (ms) | new run's 1st segment (ms) | ${viewers.map((v) => `${v.name} stall (ms)`).join(' | ')} | bound (ms) |`,
    `|---|---:|---:|${viewers.map(() => '---:|').join('')}---:|`,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.actionMs} | ${r.newRunMs} | ${r.stallMs.join(' | ')} | ${r.kind === 'kill' ? KILL_STALL_MAX_MS : SWITCH_STALL_MAX_MS} |`,
    ),
  ].join('\n');
  console.log(`[disruptions] longest stall per HLS viewer:\n${table}`);
  writeFileSync(join(SHOTS, 'stalls.md'), `${table}\n`);
  // the WebRTC class still receives the teacher after all that
  for (const page of students) await flowing(page, '[data-testid="live-camera"]', 'data-frames-decoded');
  const over = rows.flatMap((r) =>
    r.stallMs
      .map((s, i) => ({ s, v: viewers[i]!.name }))
      .filter(({ s }) => s > (r.kind === 'kill' ? KILL_STALL_MAX_MS : SWITCH_STALL_MAX_MS))
      .map(({ s, v }) => `${r.name}: ${v} ${s} ms`),
  );
  assert.deepEqual(over, [], 'stalls over their bound');
});

test('the replay keeps the whole lesson: duration, no gap over 1 s, audio and video together', async () => {
  await sleep(END_MS);
  await endFromStudio(teacher);
  // the playlists' last segments, then ENDLIST: every segment viewers were sent is kept
  archive.stop();
  let replay = await stack.lesson(lesson.id);
  const deadline = Date.now() + 480_000;
  while (replay.status !== 'ready' && Date.now() < deadline) {
    assert.notEqual(replay.status, 'failed', replay.failureReason);
    await sleep(2000);
    replay = await stack.lesson(lesson.id);
  }
  assert.equal(replay.status, 'ready', 'the replay is transcoded');
  const live = replay.live!;
  const wallSec = (Date.parse(live.endedAt!) - Date.parse(live.startedAt)) / 1000;
  const kills = DISRUPTIONS.filter((d) => d.kind === 'kill').length;

  // the recording the bridge joined, and the replay viewers get (the transcoder's top web rendition)
  const recording = join(liveDir(), 'recording', 'recording.mp4');
  const master = join(stack.api.mediaDir, replay.playbackUrl!.replace(/^\/media\//, ''));
  const top = readFileSync(master, 'utf8')
    .split('\n')
    .find((l) => l && !l.startsWith('#'));
  assert.ok(top, 'the replay master lists a rendition');
  const rendition = join(dirname(master), top);
  const results: string[] = [];
  const failures: string[] = [];
  for (const [what, file] of [
    ['recording', recording],
    ['replay', rendition],
  ] as const) {
    const duration = await mediaDuration(file);
    const timing = await packetTiming(file, 0.2);
    const gapList = timing.gaps.map(
      (g) => `${g.stream} ${g.stepSec.toFixed(3)} s at ${g.atSec.toFixed(2)} s`,
    );
    results.push(
      `${what}: ${duration.toFixed(2)} s for ${wallSec.toFixed(2)} s live (${kills} kills: ≥ ${(wallSec - kills).toFixed(2)}); ` +
        `longest packet step video ${timing.longestBy['video']?.toFixed(3)} s, audio ${timing.longestBy['audio']?.toFixed(3)} s; ` +
        `gaps over 0.2 s: ${gapList.length ? gapList.join(', ') : 'none'}; A/V at the end ${(timing.avOffsetSec * 1000).toFixed(0)} ms`,
    );
    if (duration < wallSec - kills) failures.push(`${what}: ${duration} s for ${wallSec} s live`);
    const big = timing.gaps.filter((g) => g.stepSec > 1);
    if (big.length)
      failures.push(
        `${what}: gaps over 1 s: ${big.map((g) => `${g.stream} ${g.stepSec.toFixed(3)} s at ${g.atSec.toFixed(2)} s`).join(', ')}`,
      );
    // A/V sync at the end: the clapperboard's last flashes and their tones (+: the sound is late)
    const sync = await avSync(file, CLAPPER_PERIOD_SEC);
    const end = sync.offsets.slice(-END_FLASHES);
    results.push(
      `${what}: A/V sync at the end ${JSON.stringify(end.map((o) => Math.round(o * 1000)))} ms ` +
        `(all ${sync.offsets.length} flashes, ms@s: ${pairsOf(sync)}; ` +
        `${sync.unpaired} tones without a flash: the screen share, holes)`,
    );
    if (end.length < END_FLASHES) failures.push(`${what}: ${end.length} flashes paired at the end`);
    if (end.some((o) => Math.abs(o) > AV_MAX_SEC))
      failures.push(`${what}: A/V out of sync at the end: ${JSON.stringify(end)} s`);
    // the sound is padded to the picture's end (the join): they end within an audio frame or two
    if (Math.abs(timing.avOffsetSec) > 0.05)
      failures.push(`${what}: audio and video end ${(timing.avOffsetSec * 1000).toFixed(0)} ms apart`);
  }
  // what the ffmpeg runs recorded; the rest of the replay is black and silence where no run did
  let recorded = 0;
  for (const part of readdirSync(join(liveDir(), 'recording')).filter((f) => f.startsWith('part-'))) {
    // a run stopped before its first packets left an empty part
    recorded += (await mediaDuration(join(liveDir(), 'recording', part)).catch(() => 0)) || 0;
  }
  results.push(
    `recorded by the ffmpeg runs: ${recorded.toFixed(2)} s of ${wallSec.toFixed(2)} s (the rest filled black)`,
  );
  const startedAt = Date.parse(live.startedAt);
  results.push(
    `disruptions at (s into the lesson): ${rows.map((r) => `${r.name} ${((r.at - startedAt) / 1000).toFixed(1)}`).join(', ')}`,
  );
  console.log(`[disruptions] ${results.join('\n[disruptions] ')}`);
  assert.deepEqual(failures, []);
});

test('ffprobe decodes every segment of every rung of both packagings', async () => {
  assert.deepEqual(archive.problems, [], 'the playlists never went back, every listed segment was readable');
  const report: string[] = [];
  const errors: string[] = [];
  for (const variant of VARIANTS) {
    const segments = [...archive.kept.values()].filter((s) => s.variant === variant);
    let frames = 0;
    let decoded = 0;
    const inits = new Set<string>();
    // two at a time: the machine's two cores
    const queue = [...segments];
    const probeOne = async (s: KeptSegment) => {
      let file = join(KEPT, variant, s.name);
      if (variant.startsWith('web/')) {
        // a web segment is played after its playlist's init segment: decode them together
        if (!s.init) return void errors.push(`${variant}/${s.name}: no EXT-X-MAP`);
        inits.add(s.init);
        const joined = `${file}.joined.mp4`;
        writeFileSync(joined, Buffer.concat([readFileSync(join(KEPT, variant, s.init)), readFileSync(file)]));
        file = joined;
      }
      const d = await decode(file).catch((err: unknown) => ({
        errors: (err as Error).message,
        frames: 0,
        width: 0,
      }));
      if (d.errors || d.frames === 0) errors.push(`${variant}/${s.name}: ${d.errors || 'no video frame'}`);
      else decoded += 1;
      frames += d.frames;
    };
    await Promise.all(
      [0, 1].map(async () => {
        for (let s = queue.shift(); s; s = queue.shift()) await probeOne(s);
      }),
    );
    report.push(
      `${variant}: ${decoded}/${segments.length} segments decoded, ${frames} video frames` +
        (inits.size ? `, ${inits.size} init segments` : ''),
    );
    assert.ok(segments.length > 60, `${variant}: ${segments.length} segments kept`);
  }
  console.log(`[disruptions] ffprobe:\n  ${report.join('\n  ')}`);
  if (errors.length) console.log(`[disruptions] decode errors:\n  ${errors.join('\n  ')}`);
  assert.deepEqual(errors, [], 'every segment decodes');
});
