// Forged analytics (issue 15): anonymous clients cannot inflate the dashboard. Beacons must carry a viewer
// id the platform signed (POST /api/analytics/viewer, a budget per client address), each viewer opens a
// bounded number of sessions, and lessons, districts and schools must be ones that exist. Real api,
// mongod, redis-server and the inline aggregator.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type {
  AnalyticsBreakdown,
  AnalyticsTopLessons,
  AnalyticsViewer,
  Beacon,
  BeaconBatchResult,
  Problem,
} from '@sky/contracts';
import { Redis } from 'ioredis';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import { startTestApi, type TestApi } from './helpers.js';

const ISSUE_MAX = 3;
const SESSIONS_MAX = 4;
const PLAN_LESSON = 'plan-p3-shuxue-001';

let api: TestApi;
let redis: Redis;
before(async () => {
  api = await startTestApi(
    {
      ANALYTICS_FLUSH_MS: '100',
      ANALYTICS_VIEWER_ISSUE_MAX: String(ISSUE_MAX),
      ANALYTICS_VIEWER_SESSIONS_MAX: String(SESSIONS_MAX),
    },
    { planLessons: async () => new Set([PLAN_LESSON]) },
  );
  redis = new Redis(api.redisUrl);
  // the places accounts' profiles name
  await api.app.services.users.create({
    username: `pupil.${api.prefix}`,
    password: 'correct horse battery',
    displayName: '小明',
    role: 'student',
    grade: 'p3',
    district: '海淀区',
    school: '第一实验小学',
  });
});
after(async () => {
  redis.disconnect();
  await api.close();
});

const id = () => randomUUID().replaceAll('-', '');
const teacher = () => api.app.services.auth.verifyAccess(api.tokens.teacher);

/** A published lesson of its own (teacher's lesson, transcoded: ready). */
async function publishedLesson(title: string): Promise<string> {
  const lesson = await api.app.services.lessons.create(teacher(), { title, grade: 'p3', subject: '数学' });
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: lesson.id,
    master: `lessons/${lesson.id}/master.m3u8`,
    tvMaster: `lessons/${lesson.id}/tv.m3u8`,
    durationSec: 600,
  });
  return lesson.id;
}

function session(viewerId: string, lessonId: string, extra: Partial<Beacon> = {}): Beacon[] {
  const base = { viewerId, sessionId: id(), lessonId, platform: 'web' as const, at: Date.now(), ...extra };
  return [
    { ...base, type: 'start', eventId: id(), position: 0, startupMs: 500 },
    { ...base, type: 'heartbeat', eventId: id(), position: 20, watchedSec: 20 },
  ];
}

const post = (events: Beacon[], headers: Record<string, string> = {}) =>
  api.app.http.inject({ method: 'POST', url: '/api/analytics/beacons', headers, payload: { events } });

const askViewer = (address: string, token?: string) =>
  api.app.http.inject({
    method: 'POST',
    url: '/api/analytics/viewer',
    headers: { 'x-forwarded-for': address, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });

async function drained(timeoutMs = 30_000): Promise<void> {
  const stream = analyticsKeys(api.prefix).shard(0).stream;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await redis.xlen(stream)) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`stream ${stream} not drained`);
}

async function views(lessonId: string): Promise<number> {
  const res = await api.app.http.inject({
    url: '/api/analytics/top-lessons?limit=500',
    headers: { authorization: `Bearer ${api.tokens.analyst}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<AnalyticsTopLessons>().items.find((l) => l.lessonId === lessonId)?.views.total ?? 0;
}

test('2,000 anonymous events with fresh viewer ids per batch raise no lesson beyond the budget', async () => {
  const lessonId = await publishedLesson('分数的初步认识');

  // made-up viewer ids, a new one per batch (the attack that passed the old per-viewer limit)
  for (let b = 0; b < 10; b++) {
    const forged = `forged${id()}`;
    const events: Beacon[] = [];
    for (let s = 0; s < 100; s++) events.push(...session(forged, lessonId));
    const res = await post(events, { 'x-forwarded-for': '198.51.100.66' });
    assert.equal(res.statusCode, 400, `batch ${b}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    assert.ok(
      res.json<Problem>().errors?.some((e) => e.path === 'events.0.viewerId'),
      'the forged viewer id is named',
    );
  }

  // signed ids: only so many per address
  const signed: string[] = [];
  for (let i = 0; i < ISSUE_MAX + 2; i++) {
    const res = await askViewer('198.51.100.66');
    if (res.statusCode === 200) signed.push(res.json<AnalyticsViewer>().viewerId);
    else assert.equal(res.statusCode, 429);
  }
  assert.equal(signed.length, ISSUE_MAX, 'anonymous viewer ids are budgeted per address');

  // 2,000 events over those viewers: each viewer opens at most SESSIONS_MAX sessions
  let accepted = 0;
  let excluded = 0;
  for (let b = 0; b < 10; b++) {
    const viewer = signed[b % signed.length]!;
    const events: Beacon[] = [];
    for (let s = 0; s < 100; s++) events.push(...session(viewer, lessonId));
    const res = await post(events);
    assert.equal(res.statusCode, 202, res.body);
    const r = res.json<BeaconBatchResult>();
    accepted += r.accepted;
    excluded += r.excluded;
  }
  assert.equal(accepted, ISSUE_MAX * SESSIONS_MAX * 2);
  assert.equal(excluded, 2000 - accepted);
  await drained();
  const budget = ISSUE_MAX * SESSIONS_MAX;
  const counted = await views(lessonId);
  assert.ok(counted <= budget, `${counted} views (budget ${budget})`);
  assert.equal(counted, budget);
});

test('an invented lesson, district or school is refused with the field named', async () => {
  const lessonId = await publishedLesson('认识钟表');
  const viewer = (await askViewer('198.51.100.67')).json<AnalyticsViewer>().viewerId;
  const cases: [Partial<Beacon> & { lessonId?: string }, string][] = [
    [{ lessonId: 'invented-lesson-1' }, 'events.0.lessonId'],
    [{ lessonId: 'f'.repeat(24) }, 'events.0.lessonId'],
    [{ district: '不存在区' }, 'events.0.district'],
    [{ district: '海淀区', school: '不存在学校' }, 'events.0.school'],
  ];
  for (const [extra, path] of cases) {
    const res = await post(session(viewer, extra.lessonId ?? lessonId, extra));
    assert.equal(res.statusCode, 400, `${path}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /problem\+json/);
    assert.ok(
      res.json<Problem>().errors?.some((e) => e.path === path),
      `${path} named: ${res.body}`,
    );
  }
  // a draft (unpublished) lesson is not watchable either
  const draft = await api.app.services.lessons.create(teacher(), {
    title: '草稿',
    grade: 'p3',
    subject: '数学',
  });
  const res = await post(session(viewer, draft.id));
  assert.equal(res.statusCode, 400, res.body);
  await drained();
  assert.equal(await views('invented-lesson-1'), 0);
  const districts = await api.app.http.inject({
    url: '/api/analytics/breakdown?dim=district',
    headers: { authorization: `Bearer ${api.tokens.analyst}` },
  });
  assert.ok(!districts.json<AnalyticsBreakdown>().items.some((i) => i.key === '不存在区'));
});

test('a correctly signed viewer still counts: anonymous, signed-in, on a plan lesson', async () => {
  const lessonId = await publishedLesson('两位数加法');
  const anon = (await askViewer('198.51.100.68')).json<AnalyticsViewer>().viewerId;
  const a = await post(session(anon, lessonId, { district: '海淀区', school: '第一实验小学' }));
  assert.equal(a.statusCode, 202, a.body);
  assert.equal(a.json<BeaconBatchResult>().accepted, 2);

  // a signed-in student gets the same id each time (keyed on the account, not the address's budget)
  const first = await askViewer('198.51.100.68', api.tokens.student);
  const again = await askViewer('198.51.100.68', api.tokens.student);
  assert.equal(first.statusCode, 200, first.body);
  const mine = first.json<AnalyticsViewer>().viewerId;
  assert.equal(again.json<AnalyticsViewer>().viewerId, mine);
  const s = await post(session(mine, lessonId), { authorization: `Bearer ${api.tokens.student}` });
  assert.equal(s.statusCode, 202, s.body);
  assert.equal(s.json<BeaconBatchResult>().accepted, 2);

  const tv = await post(session(anon, PLAN_LESSON, { platform: 'tv' }));
  assert.equal(tv.statusCode, 202, tv.body);
  await drained();
  assert.equal(await views(lessonId), 2);
  assert.equal(await views(PLAN_LESSON), 1);
});
