import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  AnalyticsBreakdown,
  AnalyticsQuality,
  AnalyticsRetention,
  AnalyticsSummary,
  AnalyticsTimeseries,
  AnalyticsTopLessons,
  Beacon,
  BeaconBatchResult,
  Problem,
} from '@sky/contracts';
import { Redis } from 'ioredis';
import { analyticsKeys } from '../src/adapters/analytics.redis.js';
import { addPlaces, SCRIPT_PLACES, signedViewer } from './analytics-ids.js';
import { startTestApi, type TestApi } from './helpers.js';
import {
  chunks,
  LESSON_SEC,
  scriptDay,
  shuffled,
  type ScriptLesson,
  type Truth,
} from './analytics-script.js';

/** 2026-03-02 08:00 China time: the scripted day (all events fall on 2026-03-02, China time). */
const DAY = '2026-03-02';
const DAY_START = Date.parse('2026-03-02T08:00:00+08:00');
const ANALYTICS_ENV = {
  ANALYTICS_FLUSH_MS: '100',
  ANALYTICS_RATE_MAX: '100000',
  ANALYTICS_VIEWER_SESSIONS_MAX: '100000',
};
/** The curriculum plan's lessons these tests' events name. */
const PLAN = { planLessons: async () => new Set(['plan-j2-yuwen-07', 'plan-s1-wuli-03', 'L1']) };

/** A lesson of the api that viewers can watch (transcoded: ready), 100 s like the script's. */
async function readyLesson(api: TestApi) {
  const teacher = api.app.services.auth.verifyAccess(api.tokens.teacher);
  const real = await api.app.services.lessons.create(teacher, {
    title: '分数的初步认识',
    grade: 'p3',
    subject: '数学',
  });
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: real.id,
    master: `lessons/${real.id}/master.m3u8`,
    tvMaster: `lessons/${real.id}/tv.m3u8`,
    durationSec: LESSON_SEC,
  });
  await addPlaces(api.app, api.prefix, SCRIPT_PLACES);
  return real;
}

async function post(api: TestApi, events: unknown[], headers: Record<string, string> = {}) {
  return api.app.http.inject({
    method: 'POST',
    url: '/api/analytics/beacons',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ events }),
  });
}

async function ingestAll(api: TestApi, events: Beacon[], size = 150): Promise<BeaconBatchResult[]> {
  const out: BeaconBatchResult[] = [];
  for (const batch of chunks(events, size)) {
    const res = await post(api, batch);
    assert.equal(res.statusCode, 202, res.body);
    out.push(res.json<BeaconBatchResult>());
  }
  return out;
}

/** Waits until the aggregator has applied and acknowledged everything in the stream. */
async function drained(api: TestApi, redis: Redis, timeoutMs = 30_000): Promise<void> {
  const stream = analyticsKeys(api.prefix).shard(0).stream;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await redis.xlen(stream)) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`stream ${stream} not drained in ${timeoutMs} ms`);
}

async function get<T>(api: TestApi, url: string, token = api.tokens.analyst): Promise<T> {
  const res = await api.app.http.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json<T>();
}

/** Every dashboard number for the scripted day, minus what depends on the wall clock. */
async function snapshot(api: TestApi, lessonIds: string[]) {
  const q = `from=${DAY}&to=${DAY}`;
  const s = await get<AnalyticsSummary>(api, `/api/analytics/summary?${q}`);
  const dims = await Promise.all(
    (['grade', 'subject', 'platform', 'district', 'school'] as const).map((d) =>
      get<AnalyticsBreakdown>(api, `/api/analytics/breakdown?${q}&dim=${d}`),
    ),
  );
  return {
    views: s.views,
    watchSec: s.watchSec,
    uniques: s.uniques,
    timeseries: await get<AnalyticsTimeseries>(api, `/api/analytics/timeseries?${q}`),
    top: await get<AnalyticsTopLessons>(api, `/api/analytics/top-lessons?${q}&limit=50`),
    dims,
    drill: await get<AnalyticsBreakdown>(api, `/api/analytics/breakdown?${q}&dim=school&district=haidian`),
    retention: await Promise.all(
      lessonIds.map((id) => get<AnalyticsRetention>(api, `/api/analytics/retention/${id}`)),
    ),
    quality: await get<AnalyticsQuality>(api, `/api/analytics/quality?${q}`),
  };
}

function assertMatchesTruth(
  snap: Awaited<ReturnType<typeof snapshot>>,
  truth: Truth,
  lessons: ScriptLesson[],
) {
  assert.deepEqual(snap.views, truth.views, 'views per platform');
  for (const p of ['web', 'tv', 'live-webrtc', 'total'] as const) {
    assert.equal(Math.round(snap.watchSec[p] * 1000), truth.watchMs[p], `watch time ${p}`);
    // Redis's HyperLogLog has a 0.81 % standard error; the seeded viewer ids fix its estimate, which
    // must stay within 2 % (a change of the hash or of the ids that breaks this is a real change).
    const err = Math.abs(snap.uniques[p] - truth.uniques[p]) / truth.uniques[p];
    assert.ok(err <= 0.02, `uniques ${p}: ${snap.uniques[p]} vs ${truth.uniques[p]}`);
  }
  const hourly = snap.timeseries.points.reduce((n, pt) => n + pt.views.total, 0);
  assert.equal(hourly, truth.views.total, 'time series adds up to the views');
  assert.equal(snap.timeseries.points.length, 24);
  for (const l of snap.top.items)
    assert.equal(l.views.total, truth.viewsByLesson.get(l.lessonId) ?? 0, l.lessonId);
  assert.equal(snap.top.items.length, lessons.length);
  const district = snap.dims[3]!;
  for (const [d, n] of truth.viewsByDistrict)
    assert.equal(district.items.find((i) => i.key === d)?.views.total, n, d);
  for (const r of snap.retention) {
    const expected = truth.retention.get(r.lessonId)!;
    assert.equal(r.durationSec, 100);
    assert.equal(r.sessions, truth.startsByLesson.get(r.lessonId));
    r.counts.forEach((c, i) =>
      assert.ok(Math.abs(c - expected[i]!) < 1e-6, `retention ${r.lessonId}[${i}]: ${c} vs ${expected[i]}`),
    );
  }
  for (const q of snap.quality.items) {
    assert.equal(q.startups, truth.starts[q.platform]);
    assert.equal(q.startupAvgMs, Math.round(truth.startupSumMs[q.platform] / truth.starts[q.platform]));
    assert.equal(q.stalls, truth.stalls[q.platform]);
    assert.equal(q.stallMs, truth.stallMs[q.platform]);
    const w = truth.watchMs[q.platform];
    const ratio = truth.stallMs[q.platform] / (w + truth.stallMs[q.platform]);
    assert.ok(Math.abs(q.rebufferRatio - ratio) < 1e-5, `rebuffer ${q.platform}`);
    assert.ok(q.startupP50Ms !== null && q.startupP50Ms > 200 && q.startupP50Ms < 3200);
    assert.ok(q.startupP90Ms !== null && q.startupP90Ms >= q.startupP50Ms);
  }
}

describe('viewing analytics: ingest → aggregator → dashboard', () => {
  let api: TestApi;
  let redis: Redis;
  let lessons: ScriptLesson[];
  let script: ReturnType<typeof scriptDay>;

  before(async () => {
    api = await startTestApi(ANALYTICS_ENV, PLAN);
    redis = new Redis(api.redisUrl);
    const real = await readyLesson(api);
    // The api's record says p3/数学; the players claim otherwise, and the record wins.
    lessons = [
      { id: real.id, grade: 's1', subject: 'wrong' },
      { id: 'plan-j2-yuwen-07', grade: 'j2', subject: '语文' },
      { id: 'plan-s1-wuli-03', grade: 's1', subject: '物理' },
    ];
    script = scriptDay({
      seed: 7,
      tag: api.prefix,
      sessions: 400,
      viewers: 250,
      lessons,
      dayStartMs: DAY_START,
    });
  });
  after(async () => {
    redis.disconnect();
    await api.close();
  });

  it('counts a scripted day exactly: views only after 10 s, watch time, uniques, retention, quality', async () => {
    const results = await ingestAll(api, script.events);
    assert.equal(
      results.reduce((n, r) => n + r.accepted, 0),
      script.events.length,
    );
    assert.ok(results.every((r) => r.heartbeatSec === 30 && r.duplicates === 0));
    await drained(api, redis);
    const snap = await snapshot(
      api,
      lessons.map((l) => l.id),
    );
    assertMatchesTruth(snap, script.truth, lessons);
    const grade = snap.dims[0]!;
    assert.ok(
      grade.items.some((i) => i.key === 'p3'),
      'grade from the api lesson record',
    );
    assert.ok(
      !grade.items.some(
        (i) => i.key === 's1' && i.views.total === script.truth.viewsByLesson.get(lessons[0]!.id),
      ),
    );
    assert.equal(snap.top.items.find((l) => l.lessonId === lessons[0]!.id)?.title, '分数的初步认识');
    assert.ok(snap.drill.items.every((i) => i.key.startsWith('haidian-')));
  });

  it('replayed duplicates and shuffled, reordered batches change no number', async () => {
    const before = await snapshot(
      api,
      lessons.map((l) => l.id),
    );
    // Everything again, shuffled across batches (heartbeats before starts, ends first …).
    const again = shuffled(script.events, 99);
    const results = await ingestAll(api, again, 137);
    assert.equal(
      results.reduce((n, r) => n + r.duplicates, 0),
      script.events.length,
    );
    assert.equal(
      results.reduce((n, r) => n + r.accepted, 0),
      0,
    );
    await drained(api, redis);
    assert.deepEqual(
      await snapshot(
        api,
        lessons.map((l) => l.id),
      ),
      before,
    );

    // A second, independent api (own database and keys) fed only shuffled batches gets the same numbers.
    const other = await startTestApi(ANALYTICS_ENV, PLAN);
    const otherRedis = new Redis(other.redisUrl);
    try {
      const real = await readyLesson(other);
      const ids = new Map([[lessons[0]!.id, real.id]]);
      const mapped = shuffled(script.events, 5).map((e) => ({
        ...e,
        lessonId: ids.get(e.lessonId) ?? e.lessonId,
      }));
      // Each batch twice, in reverse order.
      const batches = chunks(mapped, 90).reverse();
      for (const b of [...batches, ...batches]) assert.equal((await post(other, b)).statusCode, 202);
      await drained(other, otherRedis);
      const theirs = await snapshot(
        other,
        lessons.map((l) => ids.get(l.id) ?? l.id),
      );
      const strip = (s: typeof theirs) =>
        JSON.stringify({
          ...s,
          top: s.top.items.map((l) => ({
            ...l,
            lessonId: l.lessonId === real.id ? lessons[0]!.id : l.lessonId,
          })),
          retention: s.retention.map((r) => r.counts),
        });
      assert.equal(strip(theirs), strip(before));
    } finally {
      otherRedis.disconnect();
      await other.close();
    }
  });

  it("drops teachers' and admins' own views; an invalid token counts as anonymous", async () => {
    const base = {
      viewerId: signedViewer('teacher-viewer-1'),
      lessonId: 'plan-j2-yuwen-07',
      platform: 'web',
      at: DAY_START,
      position: 20,
    };
    const ev = (sid: string, i: number) => ({
      ...base,
      sessionId: sid,
      eventId: `${sid}-hb-${i}`,
      type: 'heartbeat',
      watchedSec: 20,
    });
    const before = await get<AnalyticsSummary>(api, `/api/analytics/summary?from=${DAY}&to=${DAY}`);
    const t = await post(api, [ev('teacher-s-1', 1)], { authorization: `Bearer ${api.tokens.teacher}` });
    assert.equal(t.statusCode, 202);
    assert.deepEqual(
      { ...t.json<BeaconBatchResult>() },
      { accepted: 0, duplicates: 0, excluded: 1, heartbeatSec: 30 },
    );
    const a = await api.app.http.inject({
      method: 'POST',
      url: '/api/analytics/beacons',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: JSON.stringify({ events: [ev('admin-s-1', 1)], accessToken: api.tokens.admin }),
    });
    assert.equal(a.json<BeaconBatchResult>().excluded, 1, 'sendBeacon: the token in the body counts');
    // a token in the URL is not read (it would sit in every proxy's and access log)
    const q = await api.app.http.inject({
      method: 'POST',
      url: `/api/analytics/beacons?access_token=${api.tokens.admin}`,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: JSON.stringify({ events: [ev('admin-s-2', 1)] }),
    });
    assert.equal(q.json<BeaconBatchResult>().excluded, 0, 'a token in the URL is ignored');
    const s = await post(api, [ev('student-s-1', 1)], { authorization: 'Bearer not-a-token' });
    assert.equal(s.json<BeaconBatchResult>().accepted, 1);
    await drained(api, redis);
    const after = await get<AnalyticsSummary>(api, `/api/analytics/summary?from=${DAY}&to=${DAY}`);
    assert.equal(
      after.views.web,
      before.views.web + 2,
      'only the anonymous sessions count (the one whose token sat in the URL among them)',
    );
  });

  it('accepts navigator.sendBeacon text/plain bodies', async () => {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/analytics/beacons',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: JSON.stringify({
        events: [
          {
            type: 'pause',
            eventId: 'plain-evt-1',
            viewerId: signedViewer('plain-viewer'),
            sessionId: 'plain-sess',
            lessonId: 'L1',
            platform: 'tv',
            at: Date.now(),
            position: 3,
          },
        ],
      }),
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json<BeaconBatchResult>().accepted, 1);
  });

  it('malformed beacons → 400 naming the field; oversized batches → 413', async () => {
    const good = script.events.slice(0, 5);
    const bad = good.map((e, i) => (i === 3 ? { ...e, position: -4 } : e));
    const r1 = await post(api, bad);
    assert.equal(r1.statusCode, 400);
    assert.match(String(r1.headers['content-type']), /application\/problem\+json/);
    const p1 = r1.json<Problem>();
    assert.equal(p1.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      p1.errors?.map((e) => e.path),
      ['events.3.position'],
    );

    const r2 = await post(api, [{ ...good[0], type: 'teleport' }]);
    assert.equal(r2.statusCode, 400);
    assert.equal(r2.json<Problem>().errors?.[0]?.path, 'events.0.type');
    const r3 = await post(api, [
      { ...good[0], eventId: 'x' },
      { ...good[1], platform: 'vr' },
    ]);
    assert.deepEqual(
      r3.json<Problem>().errors?.map((e) => e.path),
      ['events.0.eventId', 'events.1.platform'],
    );
    const r4 = await post(api, [{ ...good[0], extra: 1 }]);
    assert.equal(r4.json<Problem>().errors?.[0]?.path, 'events.0.extra');
    const r5 = await api.app.http.inject({
      method: 'POST',
      url: '/api/analytics/beacons',
      headers: { 'content-type': 'text/plain' },
      payload: '{"events": [',
    });
    assert.equal(r5.statusCode, 400);
    assert.equal(r5.json<Problem>().errors?.[0]?.path, 'body');
    const r6 = await post(api, []);
    assert.equal(r6.json<Problem>().errors?.[0]?.path, 'events');

    const tooMany = Array.from({ length: 201 }, (_, i) => ({ ...good[0], eventId: `many-events-${i}` }));
    const r7 = await post(api, tooMany);
    assert.equal(r7.statusCode, 413);
    assert.equal(r7.json<Problem>().code, 'PAYLOAD_TOO_LARGE');
    const fat = Array.from({ length: 150 }, (_, i) => ({
      ...good[0],
      eventId: `fat-event-${i}-${'x'.repeat(40)}`,
      subject: 's'.repeat(32),
      school: 'k'.repeat(64),
      district: 'd'.repeat(64),
    }));
    assert.ok(JSON.stringify({ events: fat }).length > 64 * 1024);
    const r8 = await post(api, fat);
    assert.equal(r8.statusCode, 413);
    assert.equal(r8.json<Problem>().code, 'PAYLOAD_TOO_LARGE');
  });

  it('dashboard: analysts and admins only, CSV with BOM and Chinese headers, parameters checked', async () => {
    const q = `from=${DAY}&to=${DAY}`;
    for (const role of ['student', 'teacher', 'family'] as const) {
      const res = await api.app.http.inject({
        method: 'GET',
        url: `/api/analytics/summary?${q}`,
        headers: { authorization: `Bearer ${api.tokens[role]}` },
      });
      assert.equal(res.statusCode, 403, role);
    }
    assert.equal(
      (await api.app.http.inject({ method: 'GET', url: `/api/analytics/top-lessons?${q}` })).statusCode,
      401,
    );
    await get(api, `/api/analytics/summary?${q}`, api.tokens.admin);

    const csv = await api.app.http.inject({
      method: 'GET',
      url: `/api/analytics/top-lessons.csv?${q}`,
      headers: { authorization: `Bearer ${api.tokens.analyst}`, 'accept-language': 'zh-CN,zh;q=0.9' },
    });
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.deepEqual([...csv.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    const lines = csv.rawPayload.toString('utf8').slice(1).split('\r\n');
    assert.equal(
      lines[0],
      '排名,课程编号,课程名称,年级,学科,网页观看次数,电视观看次数,直播互动观看次数,观看次数合计,独立观众数,观看时长（秒）',
    );
    assert.ok(
      lines.some((l) => l.includes('分数的初步认识') && l.includes(',三年级,数学,')),
      'Chinese titles intact',
    );
    const en = await api.app.http.inject({
      method: 'GET',
      url: `/api/analytics/quality?${q}&format=csv&lang=en`,
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.match(en.body, /^\uFEFFPlatform,Starts,/);
    const ret = await api.app.http.inject({
      method: 'GET',
      url: `/api/analytics/retention/${lessons[1]!.id}?format=csv`,
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.equal(ret.body.split('\r\n')[0], '\uFEFF进度（%）,观看会话数,留存率');

    const bad = await api.app.http.inject({
      method: 'GET',
      url: '/api/analytics/summary?from=2026-13-01',
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<Problem>().errors?.[0]?.path, 'querystring.from');
    const rev = await api.app.http.inject({
      method: 'GET',
      url: '/api/analytics/timeseries?from=2026-03-05&to=2026-03-01',
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.equal(rev.json<Problem>().errors?.[0]?.path, 'querystring.to');
    const dim = await api.app.http.inject({
      method: 'GET',
      url: '/api/analytics/breakdown?dim=colour',
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.equal(dim.json<Problem>().errors?.[0]?.path, 'querystring.dim');
    const none = await api.app.http.inject({
      method: 'GET',
      url: '/api/analytics/retention/no-such-lesson',
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.equal(none.statusCode, 404);
  });

  it('concurrent viewers now and the peak of the day', async () => {
    const now = Date.now();
    const beats = Array.from({ length: 7 }, (_, i) => ({
      type: 'heartbeat',
      eventId: `live-now-${i}-hb`,
      viewerId: signedViewer(`live-viewer-${i}`),
      sessionId: `live-session-${i}`,
      lessonId: 'plan-j2-yuwen-07',
      platform: i < 4 ? 'tv' : 'web',
      at: now,
      position: 100,
      watchedSec: 30,
    }));
    assert.equal((await post(api, beats)).statusCode, 202);
    await drained(api, redis);
    const deadline = Date.now() + 5000;
    let s = await get<AnalyticsSummary>(api, '/api/analytics/summary');
    while (s.peakToday.at === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      s = await get<AnalyticsSummary>(api, '/api/analytics/summary');
    }
    assert.ok(s.concurrentNow.total >= 7, JSON.stringify(s.concurrentNow));
    assert.ok(s.concurrentNow.tv >= 4);
    assert.ok(s.peakToday.viewers >= 7);
    assert.equal(s.lagSec, 0);
  });
});

describe('viewing analytics: rate limit per client', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi(
      {
        ANALYTICS_RATE_MAX: '3',
        ANALYTICS_RATE_WINDOW_SEC: '60',
        ANALYTICS_WORKER: 'off',
        ANALYTICS_BACKLOG_HIGH: '2',
      },
      PLAN,
    );
  });
  after(() => api.close());

  it('429 with Retry-After past the limit, per signed viewer', async () => {
    const ev = (viewerId: string, i: number) => ({
      type: 'pause',
      eventId: `rl-${viewerId}-${i}`,
      viewerId: signedViewer(viewerId),
      sessionId: `rl-sess-${viewerId}`,
      lessonId: 'L1',
      platform: 'web',
      at: Date.now(),
      position: 1,
    });
    const intervals: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(api, [ev('viewer-aaaa', i)]);
      assert.equal(res.statusCode, 202);
      intervals.push(res.json<BeaconBatchResult>().heartbeatSec);
    }
    // No aggregator runs here: once the backlog passes ANALYTICS_BACKLOG_HIGH the interval doubles.
    assert.deepEqual(intervals, [30, 30, 60]);
    const redis = new Redis(api.redisUrl);
    const stream = analyticsKeys(api.prefix).shard(0).stream;
    const stored = await redis.xlen(stream);
    const limited = await post(api, [ev('viewer-aaaa', 9)]);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json<Problem>().code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(await redis.xlen(stream), stored, 'nothing of a refused batch is stored');
    redis.disconnect();
    // Another viewer behind the same address (a family's second device) is not held back.
    assert.equal((await post(api, [ev('viewer-bbbb', 1)])).statusCode, 202);
  });
});
