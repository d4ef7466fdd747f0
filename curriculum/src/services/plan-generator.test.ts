import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRADE_IDS, Plan, stageOf, type GradeId } from '@sky/contracts';
import { schoolDays } from './calendar.js';
import { apportion, chineseNumeral, generatePlan } from './plan-generator.js';
import { checkSchedule } from './schedule-rules.js';
import { schedulePlan } from './scheduler.js';

const START = '2027-03-01'; // a Monday

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

function assertSchedulable(plan: Plan): void {
  const outcome = schedulePlan(plan);
  assert.ok(
    outcome.ok,
    `not schedulable: ${JSON.stringify(outcome.ok ? [] : outcome.diagnosis.slice(0, 3))}`,
  );
  assert.equal(outcome.entries.length, plan.lessons.length);
  assert.deepEqual(checkSchedule(plan, outcome.entries), []);
}

test('the default plan: 3,100 lessons over 40 school days, split exactly by grade, and schedulable', () => {
  const plan = generatePlan({ startDate: START });
  assert.deepEqual(Plan.parse(plan), plan);
  assert.equal(plan.term.name, '2027 春季学期 空中课堂');
  assert.equal(plan.term.endDate, '2027-04-23');
  assert.equal(schoolDays(plan.term).length, 40);
  assert.equal(plan.lessons.length, 3100);

  const perGrade = countBy(plan.lessons, (l) => l.grade);
  assert.deepEqual(
    GRADE_IDS.map((g) => perGrade.get(g)),
    [250, 250, 250, 250, 250, 250, 262, 262, 262, 272, 271, 271],
  );
  const perChain = countBy(plan.lessons, (l) => `${l.grade} ${l.subject}`);
  for (const [chain, n] of perChain) assert.ok(n <= 80, `${chain} has ${n} lessons`);
  // 250 × 8/30 = 66.7 → 67 (largest remainder); 250 × 6/30 = 50.
  assert.equal(perChain.get('p1 chinese'), 67);
  assert.equal(perChain.get('p1 math'), 50);
  assert.equal(perChain.get('j1 physics'), undefined);
  assert.equal(perChain.get('j2 chemistry'), undefined);
  assert.ok((perChain.get('j3 chemistry') ?? 0) > 0);

  const recording = countBy(plan.lessons, (l) => l.recording);
  assert.equal(recording.get('live'), 93);
  assert.equal(recording.get('planned'), 372);
  assert.equal(recording.get('ready'), 3100 - 93 - 372);
  for (const l of plan.lessons.filter((x) => x.recording === 'live')) {
    assert.notEqual(stageOf(l.grade), 'primary');
    assert.ok(['chinese', 'math', 'english'].includes(l.subject), l.id);
    assert.ok(l.order > perChain.get(`${l.grade} ${l.subject}`)! / 2, `${l.id} is an early lesson`);
  }

  assertSchedulable(plan);
});

test('a smaller plan keeps the exact total and still schedules', () => {
  const plan = generatePlan({ startDate: START, lessons: 300, seed: 42 });
  assert.equal(plan.lessons.length, 300);
  const perGrade = countBy(plan.lessons, (l) => l.grade);
  assert.equal(
    [...perGrade.values()].reduce((a, b) => a + b, 0),
    300,
  );
  for (const g of GRADE_IDS) assert.ok((perGrade.get(g) ?? 0) >= 24, `${g} has ${perGrade.get(g)}`);
  assertSchedulable(plan);
});

test('other totals and seeds schedule without violations', () => {
  for (const [lessons, seed] of [
    [12, 1],
    [1000, 2],
    [2500, 3],
    [3100, 99],
  ] as const) {
    const plan = generatePlan({ startDate: '2027-08-30', lessons, seed });
    assert.equal(plan.lessons.length, lessons);
    assertSchedulable(plan);
  }
});

test('the same options give the same plan; another seed another one', () => {
  const a = generatePlan({ startDate: START, seed: 7, lessons: 600 });
  const b = generatePlan({ startDate: START, seed: 7, lessons: 600 });
  assert.deepEqual(a, b);
  const c = generatePlan({ startDate: START, seed: 8, lessons: 600 });
  assert.notDeepEqual(
    a.teachers.map((t) => t.name),
    c.teachers.map((t) => t.name),
  );
});

test('lessons: readable ids, units of eight, titles in Chinese, the stage length', () => {
  const plan = generatePlan({ startDate: START });
  const byId = new Map(plan.lessons.map((l) => [l.id, l]));
  const first = byId.get('p1-chinese-001')!;
  assert.equal(first.order, 1);
  assert.equal(first.unit, '第一单元');
  assert.match(first.title, /^语文 第1课/);
  assert.equal(first.durationMin, 20);
  assert.equal(byId.get('p1-chinese-008')!.unit, '第一单元');
  assert.equal(byId.get('p1-chinese-009')!.unit, '第二单元');
  assert.equal(byId.get('s1-physics-001')!.durationMin, 30);
  for (const l of plan.lessons) {
    assert.match(l.id, /^(p[1-6]|j[1-3]|s[1-3])-[a-z]+-\d{3}$/);
    assert.ok(l.id.endsWith(`-${String(l.order).padStart(3, '0')}`));
  }
});

test('planned recordings are ready 3–5 school days before their even-pace day, never before the term', () => {
  const plan = generatePlan({ startDate: START, seed: 3 });
  const days = schoolDays(plan.term);
  const perChain = countBy(plan.lessons, (l) => `${l.grade} ${l.subject}`);
  const planned = plan.lessons.filter((l) => l.recording === 'planned');
  assert.ok(planned.length > 0);
  for (const l of planned) {
    const natural = Math.floor(((l.order - 1) * days.length) / perChain.get(`${l.grade} ${l.subject}`)!);
    const ready = days.indexOf(l.readyOn!);
    assert.ok(ready >= 0, `${l.id} ready on ${l.readyOn} is not a school day`);
    assert.ok(natural - ready >= 3 && natural - ready <= 5, `${l.id}: ready day ${ready}, airs ~${natural}`);
  }
  for (const l of plan.lessons.filter((x) => x.recording !== 'planned')) assert.equal(l.readyOn, undefined);
});

test('teachers: one per grade and subject, minor subjects shared by neighbouring grades; names unique', () => {
  const plan = generatePlan({ startDate: START });
  const teachers = new Map(plan.teachers.map((t) => [t.id, t]));
  assert.equal(plan.teachers[0]!.id, 't001');
  assert.equal(new Set(plan.teachers.map((t) => t.name)).size, plan.teachers.length);
  const teacherOf = (grade: GradeId, subject: string) =>
    plan.lessons.find((l) => l.grade === grade && l.subject === subject)!.teacherId;
  assert.equal(teacherOf('p1', 'music'), teacherOf('p2', 'music'));
  assert.notEqual(teacherOf('p2', 'music'), teacherOf('p3', 'music'));
  assert.equal(teacherOf('j1', 'pe'), teacherOf('j2', 'pe'));
  assert.notEqual(teacherOf('j2', 'pe'), teacherOf('j3', 'pe'));
  assert.equal(teacherOf('s1', 'infotech'), teacherOf('s2', 'infotech'));
  assert.notEqual(teacherOf('p1', 'chinese'), teacherOf('p2', 'chinese'));
  for (const l of plan.lessons) {
    const t = teachers.get(l.teacherId)!;
    assert.deepEqual(t.subjects, [l.subject]);
    assert.ok(t.grades.includes(l.grade));
    assert.deepEqual(t.unavailable, []);
  }
  for (const t of plan.teachers) {
    assert.ok(t.grades.length <= 2);
    assert.ok(new Set(t.grades.map(stageOf)).size === 1, `${t.id} spans stages`);
  }
});

test('subjects and channels: stages listed, core flagged, a TV and a web channel per grade', () => {
  const plan = generatePlan({ startDate: START, lessons: 300 });
  const subject = (code: string) => plan.subjects.find((s) => s.code === code)!;
  assert.deepEqual(subject('chinese').stages, ['primary', 'junior', 'senior']);
  assert.equal(subject('chinese').core, true);
  assert.equal(subject('music').core, false);
  assert.deepEqual(subject('science').stages, ['primary']);
  assert.deepEqual(subject('politics').stages, ['senior']);
  assert.equal(plan.channels.length, 24);
  const tv = plan.channels.find((c) => c.id === 'tv-j1')!;
  assert.deepEqual([tv.kind, tv.number, tv.zh, tv.grades], ['tv', 7, '空中课堂 初一', ['j1']]);
  const web = plan.channels.find((c) => c.id === 'web-s3')!;
  assert.deepEqual([web.kind, web.number, web.grades], ['web', 112, ['s3']]);
});

test('the term starts on the Monday of the week containing today, unless given; a non-Monday is refused', () => {
  assert.equal(generatePlan({ today: '2027-09-02', lessons: 12 }).term.startDate, '2027-08-30');
  assert.equal(generatePlan({ today: '2027-09-02', lessons: 12 }).term.name, '2027 秋季学期 空中课堂');
  assert.throws(() => generatePlan({ startDate: '2027-03-02' }), /must be a Monday/);
  assert.throws(() => generatePlan({ startDate: START, lessons: 5 }), /at least 12/);
  assert.throws(() => generatePlan({ startDate: START, lessons: 5000 }), /do not fit/);
});

test('apportion splits exactly by largest remainder; Chinese numerals', () => {
  assert.deepEqual(apportion(10, [1, 1, 1]), [4, 3, 3]);
  assert.deepEqual(
    apportion(3100, [750, 750, 750, 750, 750, 750, 786, 786, 786, 814, 814, 814]),
    [250, 250, 250, 250, 250, 250, 262, 262, 262, 272, 271, 271],
  );
  assert.deepEqual(apportion(5, [0, 0]), [0, 0]);
  assert.deepEqual([1, 3, 10, 11, 20, 23].map(chineseNumeral), ['一', '三', '十', '十一', '二十', '二十三']);
});
