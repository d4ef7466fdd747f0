import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, type AccessClaims, type Device, type ScheduleEntry } from '@sky/contracts';
import type { CurriculumSource } from '../adapters/curriculum.client.js';
import type { LiveFacts } from '../adapters/live.client.js';
import type { QaApi } from '../adapters/qa.client.js';
import { TvQaService } from './tv-qa.service.js';

const RECORDED = '65f0c0ffee0000000000aaaa';
const TAUGHT = '65f0c0ffee0000000000bbbb';
const entry = (over: Partial<ScheduleEntry>): ScheduleEntry => ({
  lessonId: 'p1-math-1',
  title: '认识钟表',
  grade: 'p1',
  subject: 'math',
  unit: '第一单元',
  order: 1,
  teacherId: 't1',
  date: '2026-11-23',
  slot: 0,
  start: '08:00',
  end: '08:20',
  channels: ['tv-p1'],
  recording: 'ready',
  vodLessonId: RECORDED,
  ...over,
});
const ENTRIES = [
  entry({}),
  entry({
    lessonId: 'p1-math-2',
    slot: 1,
    start: '09:00',
    end: '09:20',
    recording: 'live',
    vodLessonId: TAUGHT,
  }),
  entry({ lessonId: 'p1-math-3', slot: 2, start: '10:00', end: '10:20', recording: 'planned' }),
];
const { vodLessonId: _none, ...unrecorded } = entry({ lessonId: 'p1-math-4', start: '11:00', end: '11:20' });
const device = (over: Partial<Device> = {}): Device => ({
  id: 'd1',
  name: '客厅电视',
  householdId: 'family-1',
  grades: ['p1'],
  pairedAt: '2026-11-20T00:00:00.000Z',
  ...over,
});

function service(facts: LiveFacts = {}) {
  const asked: { household: AccessClaims; lessonId: string }[] = [];
  const api: QaApi = {
    createPairing: (household, lessonId) => {
      asked.push({ household, lessonId });
      return Promise.resolve({
        code: '123456',
        lessonId,
        expiresAt: '2026-11-23T00:10:00.000Z',
        ttlSec: 600,
      });
    },
    reportPlayback: () => Promise.resolve({ claimed: false }),
  };
  const curriculum = {
    programme: () => Promise.resolve([...ENTRIES, unrecorded]),
  } as unknown as CurriculumSource;
  const qa = new TvQaService(
    api,
    curriculum,
    { facts: () => Promise.resolve(facts) },
    {
      phonePageUrl: 'https://sky.example.cn/qa/tv',
    },
  );
  return { qa, asked };
}
const programme = (lessonId: string, start: string) => ({
  kind: 'programme' as const,
  channelId: 'tv-p1',
  lessonId,
  start: new Date(Date.parse(`2026-11-23T${start}:00+08:00`)).toISOString(),
});
const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof AppError ? err.code : String(err)),
  );

test('an on-demand lesson: the household asks for its code, the phone page is the QR', async () => {
  const { qa, asked } = service();
  const p = await qa.pairing(device({ householdRole: 'student' }), { kind: 'vod', lessonId: RECORDED });
  assert.equal(p.url, 'https://sky.example.cn/qa/tv/123456');
  assert.equal(p.lessonStartAt, undefined);
  assert.deepEqual(asked, [
    { household: { sub: 'family-1', role: 'student', grade: 'p1', typ: 'access' }, lessonId: RECORDED },
  ]);
});

test('a box paired before the household’s kind was kept asks as a family, with no grade when it has several', async () => {
  const { qa, asked } = service();
  await qa.pairing(device({ grades: [] }), { kind: 'vod', lessonId: RECORDED });
  assert.deepEqual(asked[0]?.household, { sub: 'family-1', role: 'family', typ: 'access' });
});

test('a recorded programme: the room of the recording it airs, second 0 at the programme’s start', async () => {
  const { qa, asked } = service();
  const p = await qa.pairing(device(), programme('p1-math-1', '08:00'));
  assert.equal(asked[0]?.lessonId, RECORDED);
  assert.equal(p.lessonStartAt, '2026-11-23T00:00:00.000Z');
});

test('a lesson taught live: the live lesson’s room, second 0 at the go-live plus the channel’s delay; none before it', async () => {
  const startedAtMs = Date.parse('2026-11-23T01:00:42.500Z');
  const { qa, asked } = service({ startedAtMs });
  const p = await qa.pairing(device(), programme('p1-math-2', '09:00'));
  assert.equal(asked[0]?.lessonId, TAUGHT);
  assert.equal(p.lessonStartAt, '2026-11-23T01:00:52.500Z');
  assert.equal(await code(service().qa.pairing(device(), programme('p1-math-2', '09:00'))), 'NOT_LIVE');
});

test('a programme that is not on the channel at that start, or has no lesson to ask about, has no code', async () => {
  const { qa, asked } = service();
  assert.equal(await code(qa.pairing(device(), programme('p1-math-1', '08:01'))), 'NOT_FOUND');
  assert.equal(await code(qa.pairing(device(), programme('p1-math-9', '08:00'))), 'NOT_FOUND');
  assert.equal(await code(qa.pairing(device(), programme('p1-math-4', '11:00'))), 'NOT_FOUND');
  assert.equal(asked.length, 0);
});
