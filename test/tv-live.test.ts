// A lesson taught live, carried by its grade's TV channel: scheduled by the real curriculum service in the
// next minute, linked to its api lesson, published into a real mediasoup room and bridged by the real
// ffmpeg live bridge into the api's media store; the gateway cuts the channel's ticks from the bridge's
// whole-lesson TV list. Played by ffmpeg across slate → live → the next programme, and by hls.js; a second
// gateway serves the same bytes; the guide says it is live. Runs on the real clock (about three minutes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { LessonAudience, LiveInfo, Plan, StageRules } from '@sky/contracts';
import { launchChromium } from '@sky/devkit';
import { createApiClient } from '../sfu/src/adapters/api-client.js';
import { LiveBridge } from '../sfu/src/services/live-bridge.js';
import { liveClient, peerOf, produceFromFfmpeg, startSfu, type TestSfu } from '../sfu/test/helpers.js';
import { actorOf, dayTerm } from './fixtures.js';
import { startTvStack, type TvStack } from './tv-stack.js';

const run = promisify(execFile);
const BEIJING_MS = 8 * 3600 * 1000;
const beijing = (sec: number) => new Date(sec * 1000 + BEIJING_MS).toISOString();
const hhmm = (sec: number) => beijing(sec).slice(11, 16);
const LESSON_MIN = 5;
/**
 * The live lesson's slot began minutes ago (its teacher is late: the channel says "starting soon"); the
 * recorded lesson after it begins at NEXT_AT, a whole minute 100–160 s after the plan is made, so that
 * the channel goes slate → live → next programme within a minute and a half of decoding.
 */
let NEXT_AT = 0;
let stack: TvStack;
let sfu: TestSfu;
let liveLessonId: string;
const stops: (() => unknown)[] = [];

before(async () => {
  stack = await startTvStack({
    apiEnv: { ANALYTICS_FLUSH_MS: '200' },
    gatewayEnv: { TV_UI_DIR: join(import.meta.dirname, '..', 'web-client', 'dist', 'tv') },
    plan: async (recordedId, api): Promise<Plan> => {
      NEXT_AT = Math.ceil((Date.now() / 1000 + 100) / 60) * 60;
      // both slots on one Beijing day
      if (beijing(NEXT_AT - LESSON_MIN * 60).slice(0, 10) !== beijing(NEXT_AT).slice(0, 10)) NEXT_AT += 600;
      const slots = [hhmm(NEXT_AT - LESSON_MIN * 60), hhmm(NEXT_AT)];
      const rules: StageRules = { slots, maxDaily: 2, lessonMinutes: LESSON_MIN };
      const today = beijing(NEXT_AT).slice(0, 10);
      const live = await api.app.services.lessons.create(await actorOf(api, 'teacher'), {
        title: '直播：认识时间',
        grade: 'p1',
        subject: '数学',
      });
      liveLessonId = live.id;
      return {
        term: dayTerm(rules, today),
        subjects: [
          { code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 5, core: true },
        ],
        teachers: [{ id: 't1', name: '王老师', subjects: ['math'], grades: ['p1'], unavailable: [] }],
        channels: [
          {
            id: 'tv-p1',
            kind: 'tv',
            number: 1,
            zh: '空中课堂 一年级',
            en: 'Sky Classroom P1',
            grades: ['p1'],
          },
        ],
        lessons: [
          { order: 1, recording: 'live' as const, vodLessonId: live.id },
          { order: 2, recording: 'ready' as const, vodLessonId: recordedId },
        ].map((l) => ({
          id: `p1-math-${l.order}`,
          title: `认识时间（${l.order}）`,
          grade: 'p1' as const,
          subject: 'math',
          unit: '第一单元',
          durationMin: LESSON_MIN,
          teacherId: 't1',
          ...l,
        })),
      };
    },
  });
  stops.push(() => stack.close());
  const api = stack.api;
  sfu = await startSfu({
    api: createApiClient(stack.web),
    bridges: (id, router, startedAt) =>
      new LiveBridge(id, router, {
        mediaDir: api.mediaDir,
        ffmpegPath: 'ffmpeg',
        listenIp: '127.0.0.1',
        liveSince: Date.parse(startedAt),
        log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
  });
  stops.push(() => sfu.close());
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

const playlist = async (origin: string) => (await fetch(`${origin}/channels/tv-p1/720p.m3u8`)).text();

test('the schedule puts the live lesson in its slot and the recorded one after it; the guide says it is taught live', async () => {
  const guide = await (await fetch(`${stack.base}/guide.xml`)).text();
  const file = join(stack.api.mediaDir, 'guide.xml');
  writeFileSync(file, guide);
  await run('tv_validate_file', ['--dtd-file', '/usr/share/xmltv/xmltv.dtd', file]);
  const programmes = guide.split('<programme ').slice(1);
  assert.equal(programmes.length, 2);
  assert.match(programmes[0]!, new RegExp(`start="${beijingXmltv(NEXT_AT - LESSON_MIN * 60)}`));
  assert.match(programmes[0]!, /<category lang="zh">直播<\/category>/);
  assert.doesNotMatch(programmes[1]!, /直播/);
});

test('live on the grade’s channel: ffmpeg decodes slate → live → the next programme; hls.js plays the live part; two gateways agree', async (t) => {
  const api = stack.api;
  const soon = await playlist(stack.base);
  assert.match(soon, /\/slate\/live\/720p\//, 'the slot began: “starting soon”');
  assert.doesNotMatch(soon, /\/live\/[a-f0-9]{24}\//);

  // ffmpeg reads 100 s from three ticks back: “starting soon”, then the live lesson (the teacher goes
  // live a minute before the next programme and publishes camera and microphone), then the next programme
  await sleepUntil(NEXT_AT - 62);
  const decode = run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'info',
      '-t',
      '100',
      '-i',
      `${stack.base}/channels/tv-p1.m3u8`,
    ].concat(['-map', '0:v:0', '-map', '0:a:0', '-f', 'null', '-']),
    { timeout: 180_000 },
  );
  await sleepUntil(NEXT_AT - 60);
  const started = await api.app.http.inject({
    method: 'POST',
    url: `/api/lessons/${liveLessonId}/live`,
    headers: { authorization: `Bearer ${api.tokens.teacher}` },
  });
  assert.equal(started.statusCode, 201, started.body);
  assert.equal(started.json<LiveInfo>().state, 'live');
  const teacher = await liveClient(sfu.url, api.tokens.teacher);
  stops.push(() => teacher.close());
  const joined = await teacher.ok('room.join', { lessonId: liveLessonId });
  const { room, peer } = peerOf(sfu, liveLessonId, joined.peerId);
  const media = await produceFromFfmpeg(room, peer);
  stops.push(() => media.stop());
  await until(
    'the bridge’s whole-lesson TV list',
    async () => existsSync(join(api.mediaDir, 'live', liveLessonId, 'tv', '720p', 'lesson.m3u8')),
    (ok) => ok,
    40_000,
  );

  const replica = await stack.startReplica();

  // the 10-foot UI (hls.js) tunes to the channel: it plays the live part, and counts its viewer under the
  // api lesson, as the web does
  let tvAudience: number | undefined;
  const browser = await launchChromium();
  try {
    const tv = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const screen = (name: string, timeout = 15_000) =>
      tv.waitForFunction(
        (n) => document.querySelector<HTMLElement>('.tv-root')?.dataset['screen'] === n,
        name,
        {
          timeout,
        },
      );
    await tv.goto(`${stack.base}/`);
    await screen('pairing');
    await tv.keyboard.press('Enter'); // Skip pairing: the lineup is public
    await screen('home');
    await tv.waitForFunction(
      () => document.activeElement?.getAttribute('data-focus-key') === 'channel:tv-p1',
    );
    await tv.keyboard.press('Enter');
    await screen('player');
    await sleepUntil(NEXT_AT - 15);
    const state = await tv.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="tv-video"]');
      const loaded = performance.getEntriesByType('resource').map((e) => e.name);
      return {
        screen: document.querySelector<HTMLElement>('.tv-root')?.dataset['screen'],
        t: v?.currentTime ?? -1,
        w: v?.videoWidth ?? 0,
        live: loaded.filter((u) => u.includes('/live/')).length,
      };
    });
    await tv.screenshot({ path: join(SHOTS, 'tv-live-channel.png') });
    assert.equal(state.screen, 'player', 'the 10-foot UI is still playing the channel');
    assert.ok(state.t > 15, `the 10-foot UI played ${state.t} s`);
    assert.ok(state.w > 0);
    assert.ok(state.live >= 2, `the 10-foot UI loaded ${state.live} live ticks`);
    const audience = await until(
      'the TV viewer in the live audience',
      () => audienceOf(liveLessonId),
      (a) => a.tv >= 1,
      20_000,
    );
    assert.ok(audience.tv >= 1, JSON.stringify(audience));
    tvAudience = audience.tv;
  } finally {
    await browser.dispose();
  }

  // two gateways with their own caches: the same ticks, the same joined tick, byte for byte (one may list
  // a tick the other has not yet: each rereads the bridge's list at most every 0.5 s)
  let same = 0;
  for (let i = 0; i < 6; i++) {
    const [a, b] = await Promise.all([playlist(stack.base), playlist(replica)]);
    assert.match(a, /\/live\/[a-f0-9]{24}\/720p\/\d+\.ts/);
    if (a === b) same += 1;
    const [x, y] = [bySequence(a), bySequence(b)];
    for (const [n, seg] of x) if (y.has(n)) assert.equal(y.get(n), seg, `segment ${n} differs:\n${a}\n${b}`);
    const tick = a
      .split('\n')
      .filter((l) => l.includes('/live/'))
      .at(-1)!
      .replace(stack.base, '');
    const [p, q] = await Promise.all([fetch(`${stack.base}${tick}`), fetch(`${replica}${tick}`)]);
    assert.equal(p.status, 200);
    assert.equal(sha(Buffer.from(await p.arrayBuffer())), sha(Buffer.from(await q.arrayBuffer())));
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(same >= 3, `${same} of 6 playlist pairs identical`);

  const { stderr } = await decode;
  // ffmpeg's HLS reader ignores EXT-X-DISCONTINUITY: its TS reader flags the first packet after each one
  // (continuity counter, timestamps going back); decoding itself must never fail
  assert.doesNotMatch(
    stderr,
    /Invalid data|decode_slice|error while decoding|non-existing PPS|no frame!/i,
    stderr,
  );
  const times = [...stderr.matchAll(/time=(\d+):(\d+):([\d.]+)/g)].map(
    (m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]),
  );
  assert.ok((times.at(-1) ?? 0) >= 99, `ffmpeg decoded ${times.at(-1)} s`);
  const opened = [...stderr.matchAll(/Opening '([^']+\.ts)'/g)].map((m) => m[1]!);
  const kinds = opened.map((u) =>
    u.includes('/slate/') ? 'slate' : u.includes('/live/') ? 'live' : 'lesson',
  );
  const order = kinds.filter((k, i) => k !== kinds[i - 1]);
  // the recorded lesson after it is 30 s long: the slate may follow it
  assert.deepEqual(order.slice(0, 3), ['slate', 'live', 'lesson'], `ffmpeg read ${order.join(' → ')}`);
  assert.ok(
    order.slice(3).every((k) => k === 'slate'),
    `ffmpeg read ${order.join(' → ')}`,
  );
  assert.ok(kinds.filter((k) => k === 'live').length >= 6, 'most of a minute of live ticks');
  const corrupt = [...stderr.matchAll(/corrupt input packet/g)].length;
  const boundaries = order.length - 1 + opened.filter((u) => u.endsWith('slate_00.ts')).length;
  assert.ok(corrupt <= boundaries, `${corrupt} corrupt-packet flags for ${boundaries} discontinuities`);
  t.diagnostic(
    `ffmpeg ${times.at(-1)} s decoded: ${order.join(' → ')}, ${kinds.filter((k) => k === 'live').length} live ticks, ` +
      `0 decode errors, ${corrupt} TS continuity flags at ${boundaries} discontinuities; ` +
      `${same}/6 playlist pairs from two gateways identical; TV audience ${tvAudience}`,
  );

  await media.stop();
  await teacher.ok('room.end', {});
});

const SHOTS = join(import.meta.dirname, '..', 'test-results', 'tv');
/** The live audience of a lesson, as its teacher's studio reads it. */
const audienceOf = async (lessonId: string) =>
  (
    await stack.api.app.http.inject({
      url: `/api/lessons/${lessonId}/live/audience`,
      headers: { authorization: `Bearer ${stack.api.tokens.teacher}` },
    })
  ).json<LessonAudience>();
/** Polls `read` until `ok` (bounded). */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}
const beijingXmltv = (sec: number) => beijing(sec).slice(0, 19).replace(/[-T:]/g, '');
/** Each segment of a media playlist (its tags and URI) by media sequence number, with its discontinuity sequence. */
const bySequence = (text: string) => {
  const lines = text.split('\n');
  let n = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
  let dsn = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)![1]);
  const out = new Map<number, string>();
  let tags: string[] = [];
  for (const line of lines.slice(lines.findIndex((l) => l.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE')) + 1)) {
    if (line === '') continue;
    if (line === '#EXT-X-DISCONTINUITY') dsn += 1;
    // a playlist's first segment carries its wall-clock time: compared where both have it, not here
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME')) continue;
    if (line.startsWith('#')) tags.push(line);
    else {
      out.set(n++, [`dsn ${dsn}`, ...tags, line].join('\n'));
      tags = [];
    }
  }
  return out;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleepUntil = (sec: number) => new Promise((r) => setTimeout(r, Math.max(0, sec * 1000 - Date.now())));
