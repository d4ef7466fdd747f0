import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRADE_IDS, Plan, type GradeId, type PlanInput, type ScheduleEntry } from '@sky/contracts';
import fc from 'fast-check';
import { chainKey, dateOf, dayNumber, schoolDays } from './calendar.js';
import { reschedule } from './reschedule.js';
import { checkSchedule } from './schedule-rules.js';
import { schedulePlan } from './scheduler.js';

const STAGES = {
  primary: { slots: ['08:30', '09:20', '10:10', '13:30', '14:20'], maxDaily: 4, lessonMinutes: 20 },
  junior: { slots: ['08:00', '08:50', '09:40', '10:30', '13:30', '14:20'], maxDaily: 5, lessonMinutes: 30 },
  senior: {
    slots: ['08:00', '08:50', '09:40', '10:30', '13:30', '14:20', '15:10'],
    maxDaily: 6,
    lessonMinutes: 30,
  },
};

/** The knobs of a small random plan: a few grades, subjects, teachers, and a short term. */
const planShape = fc.record({
  grades: fc.uniqueArray(fc.constantFrom(...GRADE_IDS), { minLength: 1, maxLength: 3 }),
  subjects: fc.integer({ min: 1, max: 4 }),
  lessonsPerSubject: fc.array(fc.integer({ min: 1, max: 14 }), { minLength: 12, maxLength: 12 }),
  teachers: fc.integer({ min: 1, max: 5 }),
  weeks: fc.integer({ min: 1, max: 3 }),
  /** Teacher index → day offsets off. */
  absences: fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 3 }), {
    minLength: 5,
    maxLength: 5,
  }),
  /** Lesson index → planned recording ready on this school-day offset (or none). */
  planned: fc.array(fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }), {
    minLength: 60,
    maxLength: 60,
  }),
  liveEvery: fc.integer({ min: 0, max: 9 }),
  shareTv: fc.boolean(),
});
type Shape = typeof planShape extends fc.Arbitrary<infer T> ? T : never;

const START = '2027-03-01'; // a Monday

function buildPlan(s: Shape): Plan {
  const subjects = ['chinese', 'math', 'english', 'art'].slice(0, s.subjects);
  const teachers = Array.from({ length: s.teachers }, (_, i) => ({
    id: `t${i}`,
    name: `教师${i}`,
    unavailable: [...new Set((s.absences[i] ?? []).map((d) => dateOf(dayNumber(START) + d)))],
  }));
  const lessons: PlanInput['lessons'] = [];
  let n = 0;
  s.grades.forEach((grade, gi) => {
    subjects.forEach((subject, si) => {
      const count = s.lessonsPerSubject[(gi * 4 + si) % 12]!;
      for (let order = 1; order <= count; order++, n++) {
        const ready = s.planned[n % 60];
        lessons.push({
          id: `${grade}-${subject}-${order}`,
          title: `${subject} ${order}`,
          grade,
          subject,
          unit: `U${Math.ceil(order / 4)}`,
          order,
          durationMin: grade.startsWith('p') ? 20 : 30,
          teacherId: `t${(gi + si) % s.teachers}`,
          ...(ready !== undefined
            ? { recording: 'planned' as const, readyOn: dateOf(dayNumber(START) + ready) }
            : {
                recording:
                  s.liveEvery > 0 && n % (s.liveEvery * 3) === 0 ? ('live' as const) : ('ready' as const),
              }),
        });
      }
    });
  });
  const channels: PlanInput['channels'] = s.grades.flatMap((g, i) => [
    { id: `web-${g}`, kind: 'web' as const, number: 101 + i, zh: g, en: g, grades: [g] },
  ]);
  // Either one TV channel per grade, or the first two grades share one.
  if (s.shareTv && s.grades.length >= 2) {
    channels.push({
      id: 'tv-shared',
      kind: 'tv',
      number: 1,
      zh: '共享',
      en: 'shared',
      grades: s.grades.slice(0, 2),
    });
    s.grades
      .slice(2)
      .forEach((g, i) =>
        channels.push({ id: `tv-${g}`, kind: 'tv', number: 2 + i, zh: g, en: g, grades: [g] }),
      );
  } else {
    s.grades.forEach((g, i) =>
      channels.push({ id: `tv-${g}`, kind: 'tv', number: 1 + i, zh: g, en: g, grades: [g] }),
    );
  }
  return Plan.parse({
    term: {
      name: 'test term',
      startDate: START,
      endDate: dateOf(dayNumber(START) + s.weeks * 7 - 3),
      stages: STAGES,
      maxPerSubjectPerDay: 2,
    },
    subjects: subjects.map((code, i) => ({
      code,
      zh: code,
      en: code,
      stages: ['primary', 'junior', 'senior'],
      weeklyQuota: 3,
      core: i < 2,
    })),
    teachers,
    channels,
    lessons,
  } satisfies PlanInput);
}

test('property: every schedule keeps every hard constraint, or the plan gets a diagnosis naming who and where', () => {
  let scheduled = 0;
  let diagnosed = 0;
  fc.assert(
    fc.property(planShape, (shape) => {
      const plan = buildPlan(shape);
      const out = schedulePlan(plan);
      if (out.ok) {
        scheduled++;
        assert.deepEqual(checkSchedule(plan, out.entries), []);
        assert.equal(out.entries.length, plan.lessons.length);
        assert.deepEqual(schedulePlan(plan), out, 'deterministic');
      } else {
        diagnosed++;
        assert.ok(out.diagnosis.length > 0);
        for (const d of out.diagnosis) {
          assert.ok(d.message.length > 0);
          assert.ok(
            d.grade ?? d.teacherId ?? d.date ?? d.channelId,
            `names a grade, teacher, date or channel: ${d.message}`,
          );
        }
      }
    }),
    { numRuns: 300, seed: 20261129 },
  );
  // Both branches were exercised by the generator, not just one.
  assert.ok(scheduled > 50, `scheduled ${scheduled}`);
  assert.ok(diagnosed > 5, `diagnosed ${diagnosed}`);
});

/** A plan that surely fits: one grade, light load, no absences, everything recorded. */
const easyShape = planShape.map((s) => ({
  ...s,
  weeks: 3,
  lessonsPerSubject: s.lessonsPerSubject.map((n) => Math.min(n, 8)),
  absences: s.absences.map(() => []),
  planned: s.planned.map(() => undefined),
  teachers: Math.max(s.teachers, 4),
}));

test('property: infeasible plans are diagnosed with the constraint that breaks', () => {
  const cases: {
    name: string;
    constraint: string;
    breakIt: (p: Plan) => Plan;
    names: (p: Plan) => Partial<Record<'grade' | 'teacherId', string>>;
  }[] = [
    {
      name: 'more lessons than the grade has slots',
      constraint: 'capacity',
      breakIt: (p) => {
        const g = p.lessons[0]!.grade;
        const extra = Array.from({ length: 200 }, (_, i) => ({
          ...p.lessons[0]!,
          id: `extra-${i}`,
          subject: 'extra',
          order: i + 1,
        }));
        return {
          ...p,
          subjects: [...p.subjects, { ...p.subjects[0]!, code: 'extra' }],
          lessons: [...p.lessons, ...extra.map((l) => ({ ...l, grade: g }))],
        };
      },
      names: (p) => ({ grade: p.lessons[0]!.grade }),
    },
    {
      name: 'a teacher away for the whole term',
      constraint: 'unavailable',
      breakIt: (p) => ({
        ...p,
        teachers: p.teachers.map((t) =>
          t.id === p.lessons[0]!.teacherId ? { ...t, unavailable: schoolDays(p.term) } : t,
        ),
      }),
      names: (p) => ({ teacherId: p.lessons[0]!.teacherId }),
    },
    {
      name: 'a recording ready after the term',
      constraint: 'recording',
      breakIt: (p) => ({
        ...p,
        lessons: p.lessons.map((l, i) =>
          i === 0 ? { ...l, recording: 'planned' as const, readyOn: '2027-12-31' } : l,
        ),
      }),
      names: (p) => ({ grade: p.lessons[0]!.grade }),
    },
    {
      name: 'one subject needing more days than the term has at 2 a day',
      constraint: 'subjectPerDay',
      breakIt: (p) => {
        const first = p.lessons[0]!;
        const days = schoolDays(p.term).length;
        const chain = Array.from({ length: days * 2 + 1 }, (_, i) => ({
          ...first,
          id: `long-${i}`,
          subject: 'long',
          order: i + 1,
        }));
        return {
          ...p,
          subjects: [...p.subjects, { ...p.subjects[0]!, code: 'long' }],
          lessons: [...p.lessons.filter((l) => l.grade !== first.grade), ...chain],
        };
      },
      names: (p) => ({ grade: p.lessons[0]!.grade }),
    },
  ];
  for (const c of cases) {
    fc.assert(
      fc.property(easyShape, (shape) => {
        const plan = buildPlan(shape);
        const out = schedulePlan(c.breakIt(plan));
        assert.equal(out.ok, false, c.name);
        if (out.ok) return;
        const hit = out.diagnosis.find((d) => d.constraint === c.constraint);
        assert.ok(hit, `${c.name}: got ${out.diagnosis.map((d) => d.constraint).join(', ')}`);
        for (const [k, v] of Object.entries(c.names(plan)))
          assert.equal(hit[k as 'grade'], v, `${c.name}: names the ${k}`);
      }),
      { numRuns: 40, seed: 7 },
    );
  }
});

test("property: a teacher's days off move only that teacher's lessons and their subject successors; the rest stay", () => {
  fc.assert(
    fc.property(
      easyShape,
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 1, max: 5 }),
      (shape, t, fromDay, len) => {
        const plan = buildPlan(shape);
        const built = schedulePlan(plan);
        if (!built.ok) return;
        const teacherId = `t${t % shape.teachers}`;
        const days = schoolDays(plan.term);
        const dates = days.slice(fromDay, fromDay + len);
        const changed: Plan = {
          ...plan,
          teachers: plan.teachers.map((x) =>
            x.id === teacherId ? { ...x, unavailable: [...x.unavailable, ...dates] } : x,
          ),
        };
        const out = reschedule(changed, built.entries, { kind: 'unavailability', teacherId, dates });
        if (!out.ok) {
          assert.ok(out.diagnosis[0]!.lessonIds.length > 0);
          return;
        }
        assert.deepEqual(checkSchedule(changed, out.entries), []);
        const teacherChains = new Set(plan.lessons.filter((l) => l.teacherId === teacherId).map(chainKey));
        const before = new Map(built.entries.map((e) => [e.lessonId, e]));
        for (const m of out.moved)
          assert.ok(
            teacherChains.has(chainKey(before.get(m.lessonId)!)),
            `${m.lessonId} is not ${teacherId}'s`,
          );
        const hit = built.entries.filter((e) => e.teacherId === teacherId && dates.includes(e.date));
        for (const e of hit)
          assert.ok(
            out.moved.some((m) => m.lessonId === e.lessonId),
            `${e.lessonId} left its day off`,
          );
        const movedIds = new Set(out.moved.map((m) => m.lessonId));
        for (const e of out.entries)
          if (!movedIds.has(e.lessonId)) assert.deepEqual(e, before.get(e.lessonId));
      },
    ),
    { numRuns: 150, seed: 11 },
  );
});

test('property: moving a lesson puts it where asked, keeps every constraint, or says why not', () => {
  fc.assert(
    fc.property(
      easyShape,
      fc.nat(),
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 6 }),
      (shape, pick, day, slot) => {
        const plan = buildPlan(shape);
        const built = schedulePlan(plan);
        if (!built.ok) return;
        const lesson = plan.lessons[pick % plan.lessons.length]!;
        const date = schoolDays(plan.term)[day]!;
        const out = reschedule(plan, built.entries, { kind: 'move', lessonId: lesson.id, date, slot });
        if (!out.ok) {
          assert.ok(
            [
              'order',
              'calendar',
              'recording',
              'unavailable',
              'subjectPerDay',
              'teacher',
              'channel',
              'dailyLoad',
              'capacity',
            ].includes(out.diagnosis[0]!.constraint),
          );
          return;
        }
        assert.deepEqual(checkSchedule(plan, out.entries), []);
        const at = out.entries.find((e) => e.lessonId === lesson.id)!;
        assert.deepEqual([at.date, at.slot], [date, slot]);
      },
    ),
    { numRuns: 150, seed: 5 },
  );
});

test('the checker catches each broken constraint in a hand-broken schedule', () => {
  const plan = buildPlan({
    grades: ['p1', 'p2'] as GradeId[],
    subjects: 2,
    lessonsPerSubject: Array(12).fill(5),
    teachers: 2,
    weeks: 2,
    absences: [[3], [], [], [], []],
    planned: Array(60).fill(undefined),
    liveEvery: 0,
    shareTv: true,
  });
  const built = schedulePlan(plan);
  assert.ok(built.ok);
  const entries = built.entries;
  const constraintsOf = (es: ScheduleEntry[]) => new Set(checkSchedule(plan, es).map((v) => v.constraint));
  const first = entries.find((e) => e.lessonId === 'p1-chinese-1')!;
  const second = entries.find((e) => e.lessonId === 'p1-chinese-2')!;
  // Swap two lessons of one subject: order breaks.
  const swapped = entries.map((e) =>
    e === first
      ? { ...e, date: second.date, slot: second.slot, start: second.start, end: second.end }
      : e === second
        ? { ...e, date: first.date, slot: first.slot, start: first.start, end: first.end }
        : e,
  );
  assert.ok(constraintsOf(swapped).has('order'));
  // Drop one: it is reported as not scheduled.
  assert.ok(constraintsOf(entries.slice(1)).has('capacity'));
  // Put a p2 lesson on top of a p1 lesson: they share the TV channel.
  const p2 = entries.find((e) => e.grade === 'p2')!;
  const p1 = entries.find((e) => e.grade === 'p1' && e.date !== p2.date)!;
  const clash = entries.map((e) =>
    e === p2 ? { ...e, date: p1.date, slot: p1.slot, start: p1.start, end: p1.end } : e,
  );
  assert.ok(constraintsOf(clash).has('channel'));
  // A lesson running past midnight meets the next day's first one on the channel (days are one clock).
  const late = entries.find((e) => e.grade === 'p1' && e !== p1)!;
  const eve = new Date(Date.parse(`${late.date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const night = entries.map((e) =>
    e === p1
      ? { ...e, date: eve, start: '23:50', end: '00:30' }
      : e === late
        ? { ...e, start: '00:05', end: '00:45' }
        : e,
  );
  const violations = checkSchedule(plan, night).filter((v) => v.constraint === 'channel');
  assert.ok(
    violations.some((v) => v.lessonIds?.includes(p1.lessonId) && v.lessonIds.includes(late.lessonId)),
    'the lesson past midnight and the next morning’s overlap on the channel',
  );
});
