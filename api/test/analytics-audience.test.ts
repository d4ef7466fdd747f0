// A live lesson's audience for its studio (issue 14 item 5): beacons of the three ways of watching go
// through the real ingest and aggregator (real mongod, redis-server) into the lesson's live sets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnalyticsSummary, Lesson, LessonAudience, Platform, Problem } from '@sky/contracts';
import { Redis } from 'ioredis';
import { analyticsKeys, LESSON_LIVE_TTL_SEC } from '../src/adapters/analytics.redis.js';
import { signedViewer } from './analytics-ids.js';
import { PASSWORD, startTestApi, type TestApi } from './helpers.js';

const HEARTBEAT_SEC = 30;

type Kind = 'start' | 'heartbeat' | 'end';

/** One beacon of a session; event ids are unique per (session, kind, n). */
function beacon(lessonId: string, platform: Platform, session: string, type: Kind, n = 0) {
  const base = {
    eventId: `${session}-${type}-${n}`,
    viewerId: signedViewer(`viewer-${session}`),
    sessionId: session,
    lessonId,
    platform,
    at: Date.now(),
    position: 60,
    live: true,
  };
  return type === 'start' ? { ...base, type } : { ...base, type, watchedSec: type === 'end' ? 5 : 30 };
}

describe('a live lesson’s audience: WebRTC room, live HLS and TV', () => {
  let api: TestApi;
  let redis: Redis;
  let lesson: Lesson;
  let otherTeacher: string;

  const post = async (events: unknown[], token?: string) => {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/analytics/beacons',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: JSON.stringify({ events }),
    });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ accepted: number; excluded: number }>();
  };
  /** Until the aggregator has applied and acknowledged everything in the stream. */
  const drained = async () => {
    const stream = analyticsKeys(api.prefix).shard(0).stream;
    const until = Date.now() + 30_000;
    while ((await redis.xlen(stream)) > 0) {
      if (Date.now() > until) assert.fail(`stream ${stream} not drained`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const audience = (id: string, token: string) =>
    api.app.http.inject({
      method: 'GET',
      url: `/api/lessons/${id}/live/audience`,
      headers: { authorization: `Bearer ${token}` },
    });
  /** A lesson of `token`'s teacher, taught live. */
  const liveLessonOf = async (token: string, title: string) => {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/lessons',
      headers: { authorization: `Bearer ${token}` },
      payload: { title, grade: 'p3', subject: '数学' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const created = res.json<Lesson>();
    // Taught live, so that the ingest counts its beacons (only published or live lessons are counted).
    const live = await api.app.http.inject({
      method: 'POST',
      url: `/api/lessons/${created.id}/live`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(live.statusCode, 201, live.body);
    return created;
  };

  before(async () => {
    api = await startTestApi(
      { ANALYTICS_FLUSH_MS: '50', ANALYTICS_RATE_MAX: '100000' },
      { planLessons: async () => new Set(['plan-p3-shuxue-01']) },
    );
    redis = new Redis(api.redisUrl);
    lesson = await liveLessonOf(api.tokens.teacher, '直播：认识分数');
    await api.app.services.users.create({
      username: `teacher2.${api.prefix}`,
      password: PASSWORD,
      displayName: '另一位老师',
      role: 'teacher',
    });
    otherTeacher = (await api.login(`teacher2.${api.prefix}`)).accessToken;
  });
  after(async () => {
    redis.disconnect();
    await api.close();
  });

  it('counts the lesson’s sessions per way of watching; ended and other lessons’ sessions do not count', async () => {
    const id = lesson.id;
    // WebRTC room: three students, one of whom leaves; web (live HLS): four; TV: three.
    const rtc = ['rtc-s-0001', 'rtc-s-0002', 'rtc-s-0003'];
    const web = ['web-s-0001', 'web-s-0002', 'web-s-0003', 'web-s-0004'];
    const tv = ['tv-s-00001', 'tv-s-00002', 'tv-s-00003'];
    await post([
      ...rtc.map((s) => beacon(id, 'live-webrtc', s, 'start')),
      ...web.map((s) => beacon(id, 'web', s, 'start')),
      ...tv.map((s) => beacon(id, 'tv', s, 'heartbeat')),
      // another lesson's web viewer, watching at the same time
      beacon('plan-p3-shuxue-01', 'web', 'other-s-001', 'start'),
    ]);
    await drained();
    // heartbeats in a later batch; one student leaves the room
    await post([
      ...web.slice(0, 2).map((s) => beacon(id, 'web', s, 'heartbeat', 1)),
      beacon(id, 'live-webrtc', rtc[2]!, 'end'),
    ]);
    // the teacher's own session is excluded at the ingest
    const own = await post([beacon(id, 'live-webrtc', 'teacher-s-01', 'start')], api.tokens.teacher);
    assert.equal(own.excluded, 1);
    await drained();

    const expected = { lessonId: id, webrtc: 2, web: 4, tv: 3, total: 9 };
    for (const token of [api.tokens.teacher, api.tokens.admin, api.tokens.analyst]) {
      const res = await audience(id, token);
      assert.equal(res.statusCode, 200, res.body);
      const { at, ...figures } = res.json<LessonAudience>();
      assert.deepEqual(figures, expected);
      assert.ok(Math.abs(Date.parse(at) - Date.now()) < 10_000, at);
    }

    // The city-wide sets go on as before: every session of every lesson.
    const summary = await api.app.http.inject({
      method: 'GET',
      url: '/api/analytics/summary',
      headers: { authorization: `Bearer ${api.tokens.analyst}` },
    });
    assert.deepEqual(summary.json<AnalyticsSummary>().concurrentNow, {
      web: 5,
      tv: 3,
      'live-webrtc': 2,
      total: 10,
    });

    // The lesson's sets expire an hour after their last write.
    const keys = analyticsKeys(api.prefix);
    for (const platform of ['web', 'tv', 'live-webrtc'] as const) {
      const ttl = await redis.ttl(keys.live({ lesson: id, platform }));
      assert.ok(ttl > 0 && ttl <= LESSON_LIVE_TTL_SEC, `${platform}: ttl ${ttl}`);
    }
    assert.equal(await redis.ttl(keys.live('web')), -1, 'the city-wide sets do not expire');
  });

  it('a session silent for more than 2 × the heartbeat interval no longer counts', async () => {
    const quiet = await liveLessonOf(api.tokens.teacher, '直播：长度单位');
    const teacher = api.app.services.auth.verifyAccess(api.tokens.teacher);
    const read = (now: number) => api.app.analytics.audience.audience(teacher, quiet.id, now);
    const window = 2 * HEARTBEAT_SEC * 1000;

    const beforeFirst = Date.now();
    await post([beacon(quiet.id, 'tv', 'quiet-tv-01', 'heartbeat')]);
    const afterFirst = Date.now();
    await drained();
    while (Date.now() <= afterFirst) await new Promise((r) => setTimeout(r, 1));
    const beforeSecond = Date.now();
    await post([beacon(quiet.id, 'web', 'quiet-web-01', 'heartbeat')]);
    const afterSecond = Date.now();
    await drained();

    // Both heard within the window of the first heartbeat's time.
    const both = await read(beforeFirst + window);
    assert.deepEqual({ tv: both.tv, web: both.web, total: both.total }, { tv: 1, web: 1, total: 2 });
    // The TV box's last heartbeat is now more than 2 × the interval old; the web one's is not.
    const later = await read(beforeSecond + window);
    assert.deepEqual({ tv: later.tv, web: later.web, total: later.total }, { tv: 0, web: 1, total: 1 });
    assert.equal(later.at, new Date(beforeSecond + window).toISOString());
    const gone = await read(afterSecond + window + 1);
    assert.equal(gone.total, 0);
  });

  it('only the lesson’s teacher, admins and analysts: 403 for others, 404 unknown, 400 bad id', async () => {
    for (const token of [api.tokens.student, api.tokens.family, otherTeacher]) {
      const res = await audience(lesson.id, token);
      assert.equal(res.statusCode, 403, res.body);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      assert.equal(res.json<Problem>().code, 'FORBIDDEN');
    }
    const anonymous = await api.app.http.inject({
      method: 'GET',
      url: `/api/lessons/${lesson.id}/live/audience`,
    });
    assert.equal(anonymous.statusCode, 401);

    for (const token of [api.tokens.teacher, api.tokens.analyst]) {
      const missing = await audience('0123456789abcdef01234567', token);
      assert.equal(missing.statusCode, 404, missing.body);
      assert.equal(missing.json<Problem>().code, 'NOT_FOUND');
    }

    const bad = await audience('not-a-lesson', api.tokens.teacher);
    assert.equal(bad.statusCode, 400);
    assert.match(String(bad.headers['content-type']), /application\/problem\+json/);
    const p = bad.json<Problem>();
    assert.equal(p.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      p.errors?.map((e) => e.path),
      ['params.id'],
    );
  });
});
