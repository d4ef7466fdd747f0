// The ChannelService carrying a live slot, over in-memory sources (the schedule, the api's live facts, the
// bridge's whole-lesson list): what the playlists and the joined ticks say, and catch-up after the replay.
// (The real bridge, api and gateways together: test/tv-live.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel, LiveTvSegment, ScheduleEntry } from '@sky/contracts';
import type { LessonMedia, MediaSource } from '../src/adapters/api.client.js';
import type { CurriculumSource } from '../src/adapters/curriculum.client.js';
import type { LiveFacts, LiveSource } from '../src/adapters/live.client.js';
import { ChannelService } from '../src/services/channels.service.js';
import { LIVE_DELAY_SEC } from '../src/services/live-timeline.js';
import { tickAt, tickStartSec } from '../src/services/timeline.js';

const PUBLIC = 'https://tv.example.cn/tv';
const LIVE_ID = 'aaaaaaaaaaaaaaaaaaaaaaaa';
/** The slot: 10:00–10:40 Beijing on a school day; the next programme at 11:00. */
const SLOT = Date.parse('2026-11-25T10:00:00+08:00') / 1000;
const channel: Channel = {
  id: 'tv-p1',
  kind: 'tv',
  number: 1,
  zh: '空中课堂 一年级',
  en: 'P1',
  grades: ['p1'],
};
const entry = (lessonId: string, start: string, end: string, live: boolean): ScheduleEntry => ({
  lessonId,
  title: lessonId,
  grade: 'p1',
  subject: 'math',
  unit: 'u1',
  order: 1,
  teacherId: 't1',
  date: '2026-11-25',
  slot: 0,
  start,
  end,
  channels: ['tv-p1'],
  recording: live ? 'live' : 'planned',
  ...(live ? { vodLessonId: LIVE_ID } : {}),
});

function service(o: {
  facts: LiveFacts;
  segments: LiveTvSegment[];
  ended?: boolean;
  now: number;
  replay?: boolean;
}) {
  const curriculum: CurriculumSource = {
    channels: async () => [channel],
    programme: async () => [
      entry('p1-live', '10:00', '10:40', true),
      entry('p1-next', '11:00', '11:20', false),
    ],
    subjectNames: async () => new Map(),
    teacherNames: async () => new Map(),
    invalidate: () => undefined,
  };
  const media: MediaSource = {
    lessonMedia: async (id) =>
      o.replay && id === LIVE_ID
        ? ({
            lesson: {} as LessonMedia['lesson'],
            renditions: [
              {
                height: 720,
                bandwidth: 2_600_000,
                codecs: ['avc1.640028', 'mp4a.40.2'],
                segments: Array.from({ length: 700 }, (_, i) => ({ url: `replay/${i}.ts`, durationSec: 6 })),
              },
            ],
          } satisfies LessonMedia)
        : undefined,
  };
  const fetched: string[] = [];
  const live: LiveSource = {
    facts: async () => o.facts,
    list: async () => ({
      list: { segments: o.segments, ended: o.ended ?? false },
      base: 'http://api/media/live/x/tv/720p/lesson.m3u8',
    }),
    segment: async (url) => {
      fetched.push(url);
      return Buffer.from(`${url.split('/').at(-1)};`);
    },
    tvMaster: async () => undefined,
  };
  return {
    channels: new ChannelService(curriculum, media, live, {
      publicUrl: PUBLIC,
      catchupDays: 7,
      now: () => o.now,
    }),
    fetched,
  };
}

/** 1-second segments of one ffmpeg run from `fromSec`. */
const segments = (fromSec: number, n: number): LiveTvSegment[] =>
  Array.from({ length: n }, (_, i) => ({
    uri: `seg_0_${String(i).padStart(5, '0')}.ts`,
    durationSec: 1,
    pdtMs: (fromSec + i) * 1000,
    discontinuity: false,
  }));

test('before the teacher goes live the slot says “starting soon”; live, its ticks join the bridge’s segments one delay back', async () => {
  const soon = service({ facts: {}, segments: [], now: SLOT + 30 });
  const waiting = await soon.channels.playlist('tv-p1', '720p');
  assert.match(waiting, /\/slate\/live\/720p\/slate_\d\d\.ts\n$/);

  const startedAtMs = (SLOT - 120) * 1000;
  const { channels, fetched } = service({
    facts: { startedAtMs },
    segments: segments(SLOT - 118, 200),
    now: SLOT + 40,
  });
  const text = await channels.playlist('tv-p1', '720p');
  const k = tickAt(SLOT + 40);
  assert.match(text, new RegExp(`${PUBLIC}/live/${LIVE_ID}/720p/${k}\\.ts\\n$`), text);
  assert.match(text, /#EXTINF:6\.000,/);
  const joined = (await channels.liveSegment(LIVE_ID, '720p', k)).toString();
  const first = tickStartSec(k) - LIVE_DELAY_SEC - (SLOT - 118);
  assert.equal(
    joined,
    Array.from({ length: 6 }, (_, i) => `seg_0_${String(first + i).padStart(5, '0')}.ts;`).join(''),
  );
  assert.ok(fetched.every((u) => u.startsWith('http://api/media/live/x/tv/720p/seg_0_')));
  // a tick not on the air yet, and a lesson not scheduled live, are refused
  await assert.rejects(channels.liveSegment(LIVE_ID, '720p', k + 2), /not on the air/);
  await assert.rejects(channels.liveSegment('bbbbbbbbbbbbbbbbbbbbbbbb', '720p', k), /not a live lesson/);
});

test('the playlist waits for a tick whose segments are not all written (a slow encoder) instead of guessing', async () => {
  const startedAtMs = (SLOT - 120) * 1000;
  const now = SLOT + 40;
  // the bridge is 3 s behind: the newest tick's window is not complete
  const { channels } = service({
    facts: { startedAtMs },
    segments: segments(SLOT - 118, 118 + 40 - LIVE_DELAY_SEC - 3),
    now,
  });
  const text = await channels.playlist('tv-p1', '720p');
  assert.match(text, new RegExp(`/${tickAt(now) - 1}\\.ts\\n$`));
});

test('catch-up of the live programme plays its replay once it is ready; until then the ticks it carried', async () => {
  const startedAtMs = (SLOT - 120) * 1000;
  const facts = { startedAtMs, endedAtMs: (SLOT + 1800) * 1000 };
  const o = { facts, segments: segments(SLOT - 118, 1918), ended: true, now: SLOT + 7200 };
  const carried = await service(o).channels.playlist('tv-p1', '720p', SLOT);
  assert.match(carried, new RegExp(`/live/${LIVE_ID}/720p/\\d+\\.ts`));
  assert.match(carried, /#EXT-X-ENDLIST/);
  const replay = await service({ ...o, replay: true }).channels.playlist('tv-p1', '720p', SLOT);
  assert.doesNotMatch(replay, /\/live\//);
  assert.match(replay, /\nreplay\/0\.ts\n/);
  // the replay fills the slot up to the next programme's start, never beyond
  assert.equal((replay.match(/replay\/\d+\.ts/g) ?? []).length, 600);
});
