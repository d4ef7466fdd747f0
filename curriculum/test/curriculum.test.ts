// The curriculum service over HTTP on a real mongod and redis-server: import, build, publish, repair.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  scheduleChangedChannel,
  type Plan,
  type Problem,
  type ScheduleChanged,
  type ScheduleDiff,
  type ScheduleEntry,
  type ScheduleSummary,
} from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { type TestInfra, testLogger, useInfra } from '@sky/devkit';
import type { InjectOptions } from 'fastify';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { createApp } from '../src/app.js';
import { chainKey, schoolDays } from '../src/services/calendar.js';
import { generatePlan } from '../src/services/plan-generator.js';
import { checkSchedule } from '../src/services/schedule-rules.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';
const tokens = createTokenIssuer(SECRET, 600);
const admin = { authorization: `Bearer ${tokens.sign({ sub: 'admin-1', role: 'admin' })}` };
const student = {
  authorization: `Bearer ${tokens.sign({ sub: 'student-1', role: 'student', grade: 'p3' })}`,
};

let infra: TestInfra;
let mongo: Connection;
let redis: Redis;
let sub: Redis;
let app: Awaited<ReturnType<typeof createApp>>;
const events: ScheduleChanged[] = [];
const plan = generatePlan({ startDate: '2027-03-01', seed: 3 });

before(async () => {
  infra = await useInfra();
  mongo = await mongoose.createConnection(infra.mongoUri).asPromise();
  redis = new Redis(infra.redisUrl);
  sub = new Redis(infra.redisUrl);
  await sub.subscribe(scheduleChangedChannel(infra.prefix));
  sub.on('message', (_channel, message) => events.push(JSON.parse(message) as ScheduleChanged));
  app = await createApp({
    logger: testLogger('curriculum', logOptions('curriculum', 'info')),
    mongo,
    redis,
    redisPrefix: infra.prefix,
    verify: (t) => tokens.verify(t),
    version: 'test',
  });
  await app.http.ready();
});
after(async () => {
  await app.close();
  sub.disconnect();
  redis.disconnect();
  await mongo.close();
  await infra.close();
});

const inject = (opts: InjectOptions) => app.http.inject(opts);
const schedule = async (query: string) =>
  (await inject({ url: `/schedule?${query}` })).json<ScheduleEntry[]>();
const waitFor = async <T>(fn: () => T | undefined): Promise<T> => {
  for (let i = 0; i < 100; i++) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out waiting');
};

test('an admin imports the 3,100-lesson plan as JSON and builds a schedule with no hard violation', async () => {
  const put = await inject({
    method: 'PUT',
    url: '/plan',
    headers: { ...admin, 'content-type': 'application/json' },
    payload: JSON.stringify(plan),
  });
  assert.equal(put.statusCode, 200, put.body);
  assert.equal(put.json<{ lessons: number }>().lessons, 3100);

  const built = await inject({ method: 'POST', url: '/schedule/build', headers: admin });
  assert.equal(built.statusCode, 200, built.body);
  const summary = built.json<ScheduleSummary>();
  assert.equal(summary.lessons, 3100);
  assert.equal(summary.days, 40);
  assert.ok(summary.score.total > 0.8, `score ${JSON.stringify(summary.score)}`);

  const all = await schedule('');
  assert.equal(all.length, 3100);
  assert.deepEqual(checkSchedule(plan, all), []);
  const event = await waitFor(() => events.find((e) => e.reason === 'build'));
  assert.equal(event.grades.length, 12);
});

test('a grade’s week and a channel’s programme come from the schedule', async () => {
  const week = await schedule('grade=p1&from=2027-03-01&to=2027-03-05');
  assert.ok(week.length >= 25 && week.length <= 35, `${week.length} lessons in p1's first week`);
  assert.ok(week.every((e) => e.grade === 'p1' && e.date >= '2027-03-01' && e.date <= '2027-03-05'));
  const prog = await inject({ url: '/channels/tv-p1/programme?from=2027-03-02&to=2027-03-02' });
  assert.equal(prog.statusCode, 200);
  const { channel, entries } = prog.json<{ channel: { zh: string }; entries: ScheduleEntry[] }>();
  assert.match(channel.zh, /一年级/);
  assert.ok(entries.length > 0 && entries.every((e) => e.grade === 'p1' && e.date === '2027-03-02'));
  assert.equal((await inject({ url: '/channels/tv-x/programme' })).statusCode, 404);
  const bad = await inject({ url: '/schedule?grade=x9&from=2027-13-01' });
  assert.equal(bad.statusCode, 400);
  const paths = bad.json<Problem>().errors?.map((e) => e.path) ?? [];
  assert.ok(paths.includes('querystring.grade') && paths.includes('querystring.from'), paths.join());
});

test('changing the plan needs an admin token', async () => {
  assert.equal((await inject({ method: 'POST', url: '/schedule/build' })).statusCode, 401);
  assert.equal((await inject({ method: 'POST', url: '/schedule/build', headers: student })).statusCode, 403);
  const put = await inject({ method: 'PUT', url: '/plan.csv', headers: student, payload: '' });
  assert.ok([403, 404].includes(put.statusCode));
});

test('a teacher’s week off moves only that teacher’s lessons, and subscribers hear which', async () => {
  const before = await schedule('');
  const days = schoolDays(plan.term).slice(10, 15); // the third week
  // the teacher with the most lessons that week
  const counts = new Map<string, number>();
  for (const e of before)
    if (days.includes(e.date)) counts.set(e.teacherId, (counts.get(e.teacherId) ?? 0) + 1);
  const [teacherId, affected] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  const res = await inject({
    method: 'POST',
    url: `/teachers/${teacherId}/unavailability`,
    headers: admin,
    payload: { dates: days },
  });
  assert.equal(res.statusCode, 200, res.body);
  const diff = res.json<ScheduleDiff>();
  assert.ok(diff.moved.length >= affected, `${diff.moved.length} moved, ${affected} affected`);
  const chains = new Set(plan.lessons.filter((l) => l.teacherId === teacherId).map(chainKey));
  const byId = new Map(plan.lessons.map((l) => [l.id, l]));
  for (const m of diff.moved)
    assert.ok(chains.has(chainKey(byId.get(m.lessonId)!)), `${m.lessonId} is another teacher's`);

  const afterwards = await schedule('');
  assert.equal(afterwards.length, 3100);
  assert.ok(!afterwards.some((e) => e.teacherId === teacherId && days.includes(e.date)));
  const movedIds = new Set(diff.moved.map((m) => m.lessonId));
  const was = new Map(before.map((e) => [e.lessonId, e]));
  for (const e of afterwards) if (!movedIds.has(e.lessonId)) assert.deepEqual(e, was.get(e.lessonId));
  const stored = (await inject({ url: '/plan' })).json<Plan>();
  assert.deepEqual(checkSchedule(stored, afterwards), []);
  assert.ok(stored.teachers.find((t) => t.id === teacherId)!.unavailable.includes(days[0]!));
  const event = await waitFor(() => events.find((e) => e.reason === 'unavailability'));
  assert.deepEqual(new Set(event.lessonIds), movedIds);
});

test('moving a lesson displaces the one in its way to the nearest free slot', async () => {
  const entries = await schedule('grade=s2');
  const target = entries.find((e) => e.date === schoolDays(plan.term)[20] && e.slot === 0)!;
  const mover = entries.find((e) => e.subject === target.subject && e.order === target.order + 1)!;
  // moving mover onto the previous lesson's slot breaks the order: refused with the reason
  const refused = await inject({
    method: 'POST',
    url: '/schedule/moves',
    headers: admin,
    payload: { lessonId: mover.lessonId, date: target.date, slot: 0 },
  });
  assert.equal(refused.statusCode, 422, refused.body);
  assert.equal(refused.json<Problem>().diagnosis?.[0]?.constraint, 'order');
  // moving a lesson earlier, onto another subject's slot after its predecessor, works: the occupant moves
  const key = (e: ScheduleEntry) => `${e.date} ${e.start}`;
  let pick: { lesson: ScheduleEntry; onto: ScheduleEntry } | undefined;
  for (const lesson of entries) {
    const prev = entries.find((e) => e.subject === lesson.subject && e.order === lesson.order - 1);
    if (!prev) continue;
    const onto = entries.find(
      (e) =>
        key(e) > key(prev) &&
        key(e) < key(lesson) &&
        !entries.some((x) => x.date === e.date && x.subject === lesson.subject),
    );
    if (onto) {
      pick = { lesson, onto };
      break;
    }
  }
  assert.ok(pick, 'a lesson with a free slot of another subject between it and its predecessor');
  const ok = await inject({
    method: 'POST',
    url: '/schedule/moves',
    headers: admin,
    payload: { lessonId: pick.lesson.lessonId, date: pick.onto.date, slot: pick.onto.slot },
  });
  assert.equal(ok.statusCode, 200, ok.body);
  const diff = ok.json<ScheduleDiff>();
  assert.ok(diff.moved.some((m) => m.lessonId === pick.lesson.lessonId && m.to?.date === pick.onto.date));
  assert.ok(
    diff.moved.some((m) => m.lessonId === pick.onto.lessonId),
    'the occupant moved',
  );
  assert.ok(diff.moved.length <= 3, `${diff.moved.length} moved`);
  const now = await schedule('');
  assert.deepEqual(checkSchedule((await inject({ url: '/plan' })).json<Plan>(), now), []);
});

test('a CSV with bad rows: every bad row reported with line and column, nothing imported', async () => {
  const csv = (await inject({ url: '/plan/lessons.csv' })).body;
  assert.ok(csv.startsWith('\ufeff'), 'BOM for Excel');
  const lines = csv.replace(/^\ufeff/, '').split('\r\n');
  lines[3] = lines[3]!.replace(',p1,', ',p13,'); // line 4: bad grade
  lines[10] = lines[10]!.replace(/,t\d+,/, ',nobody,'); // line 11: unknown teacher
  lines[20] = lines[20]!.replace(/^[^,]+,[^,]+/, (m) => `${m.split(',')[0]},`); // line 21: empty title
  const res = await inject({
    method: 'PUT',
    url: '/plan/lessons.csv',
    headers: { ...admin, 'content-type': 'text/csv' },
    payload: lines.join('\r\n'),
  });
  assert.equal(res.statusCode, 422, res.body);
  const problem = res.json<Problem>();
  assert.equal(problem.code, 'PLAN_INVALID');
  const where = new Set(problem.rows?.map((r) => `${r.line}:${r.column}`));
  for (const w of ['4:grade', '11:teacher_id', '21:title'])
    assert.ok(where.has(w), `${w} in ${[...where].join(' ')}`);
  const stored = (await inject({ url: '/plan' })).json<Plan>();
  assert.equal(stored.lessons.length, 3100);
  assert.equal(stored.lessons.find((l) => l.id === lines[3]!.split(',')[0])?.grade, 'p1', 'nothing imported');
});

test('a teacher’s page finds the slots of its api lessons: vodLessonIds selects the linked entries', async () => {
  const csv = (await inject({ url: '/plan/lessons.csv' })).body.replace(/^\ufeff/, '');
  const lines = csv.split('\r\n');
  const header = lines[0]!.split(',');
  const [idCol, vodCol] = [header.indexOf('id'), header.indexOf('vod_lesson_id')];
  assert.ok(idCol >= 0 && vodCol >= 0, header.join());
  // three live lessons and one recorded one, linked to api lessons (24-hex ids, as the api's are)
  const live = plan.lessons.filter((l) => l.recording === 'live').slice(0, 3);
  const ready = plan.lessons.find((l) => l.recording === 'ready')!;
  const vod = new Map([...live, ready].map((l, i) => [l.id, `65a0c0ffee0000000000000${i}`]));
  const linked = lines.map((line, n) => {
    const cells = line.split(',');
    const id = vod.get(cells[idCol] ?? '');
    if (n === 0 || !id) return line;
    cells[vodCol] = id;
    return cells.join(',');
  });
  const put = await inject({
    method: 'PUT',
    url: '/plan/lessons.csv',
    headers: { ...admin, 'content-type': 'text/csv' },
    payload: linked.join('\r\n'),
  });
  assert.equal(put.statusCode, 200, put.body);
  assert.equal((await inject({ method: 'POST', url: '/schedule/build', headers: admin })).statusCode, 200);

  const ids = [...vod.values()];
  const found = await schedule(`vodLessonIds=${[...ids, '65a0c0ffee00000000000099'].join(',')}`);
  assert.deepEqual(found.map((e) => e.lessonId).sort(), [...vod.keys()].sort());
  for (const e of found) assert.equal(e.vodLessonId, vod.get(e.lessonId));
  // only the live ones, as a teacher's home asks
  const onlyLive = await schedule(`vodLessonIds=${ids.join(',')}&recording=live`);
  assert.deepEqual(onlyLive.map((e) => e.lessonId).sort(), live.map((l) => l.id).sort());
  // with dates: only the slots in range
  const first = found[0]!;
  const day = await schedule(`vodLessonIds=${ids.join(',')}&from=${first.date}&to=${first.date}`);
  assert.ok(day.length >= 1 && day.every((e) => e.date === first.date && vod.has(e.lessonId)));

  // bounded and validated: 400 naming the field
  for (const bad of ['', 'a,,b', 'x'.repeat(65), Array.from({ length: 101 }, (_, i) => `id${i}`).join(',')]) {
    const res = await inject({ url: `/schedule?vodLessonIds=${bad}` });
    assert.equal(res.statusCode, 400, `${bad.slice(0, 20)}: ${res.body}`);
    const paths = res.json<Problem>().errors?.map((e) => e.path) ?? [];
    assert.ok(
      paths.some((p) => p.startsWith('querystring.vodLessonIds')),
      `${bad.slice(0, 20)}: ${paths.join()}`,
    );
  }
});

test('the issue’s example caps (5/6/7 a day) cannot hold 3,100 lessons: a diagnosis, and the schedule stays', async () => {
  const version = (await inject({ url: '/schedule/summary' })).json<ScheduleSummary>().version;
  const tight: Plan = {
    ...plan,
    term: {
      ...plan.term,
      stages: {
        primary: { ...plan.term.stages.primary, maxDaily: 5 },
        junior: { ...plan.term.stages.junior, maxDaily: 6 },
        senior: { ...plan.term.stages.senior, maxDaily: 7 },
      },
    },
  };
  const put = await inject({
    method: 'PUT',
    url: '/plan',
    headers: { ...admin, 'content-type': 'application/json' },
    payload: JSON.stringify(tight),
  });
  assert.equal(put.statusCode, 200);
  const res = await inject({ method: 'POST', url: '/schedule/build', headers: admin });
  assert.equal(res.statusCode, 422);
  const diagnosis = res.json<Problem>().diagnosis ?? [];
  assert.ok(
    diagnosis.some((d) => d.constraint === 'capacity' && d.grade === 'p1'),
    JSON.stringify(diagnosis[0]),
  );
  assert.equal((await inject({ url: '/schedule/summary' })).json<ScheduleSummary>().version, version);
});

test('OpenAPI documents the routes', async () => {
  const doc = (await inject({ url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
  for (const p of ['/schedule', '/channels/{id}/programme', '/teachers/{id}/unavailability', '/plan']) {
    assert.ok(doc.paths[p], `${p} documented`);
  }
});
