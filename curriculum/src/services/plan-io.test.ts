import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Plan, PlanLesson, RowError } from '@sky/contracts';
import { generatePlan } from './plan-generator.js';
import {
  assemblePlan,
  gradeOf,
  lessonsToCsv,
  parseLessonsCsv,
  parsePlanJson,
  parseTeachersCsv,
  teachersToCsv,
  validatePlanReferences,
} from './plan-io.js';

const PLAN = generatePlan({ startDate: '2027-03-01', lessons: 300, seed: 5 });
const { lessons: _lessons, teachers: _teachers, ...BASE } = PLAN;
const HEADER = 'id,title,grade,subject,unit,order,duration_min,teacher_id,recording,ready_on,vod_lesson_id';
const T1 = PLAN.lessons.find((l) => l.id === 'p1-chinese-001')!.teacherId;

function row(
  id: string,
  over: Partial<Record<'title' | 'grade' | 'order' | 'teacher' | 'recording' | 'readyOn', string>> = {},
) {
  const order = over.order ?? String(Number(id.slice(-3)));
  return [
    id,
    over.title ?? `语文 第${order}课`,
    over.grade ?? 'p1',
    'chinese',
    '第一单元',
    order,
    '20',
    over.teacher ?? T1,
    over.recording ?? 'ready',
    over.readyOn ?? '',
    '',
  ].join(',');
}

test('CSV out and back in gives the same lessons and teachers', () => {
  const lessons: PlanLesson[] = PLAN.lessons.map((l, i) =>
    i === 0 ? { ...l, title: '语文 "开学第一课", 识字', vodLessonId: '65f0c0ffee0000000000abcd' } : l,
  );
  const teachers = PLAN.teachers.map((t, i) =>
    i === 0 ? { ...t, grades: ['p1' as const, 'p2' as const], unavailable: ['2027-03-03', '2027-03-04'] } : t,
  );
  const lessonsCsv = lessonsToCsv(lessons);
  assert.ok(lessonsCsv.startsWith(`\uFEFF${HEADER}\r\n`));
  assert.ok(lessonsCsv.endsWith('\r\n'));
  assert.equal(lessonsCsv.split('\r\n').length, lessons.length + 2);
  const back = parseLessonsCsv(lessonsCsv);
  assert.deepEqual(back.errors, []);
  assert.deepEqual(back.lessons, lessons);
  assert.deepEqual(back.lines.slice(0, 3), [2, 3, 4]);

  const teachersCsv = teachersToCsv(teachers);
  assert.ok(teachersCsv.startsWith('\uFEFFid,name,subjects,grades,unavailable\r\n'));
  assert.ok(teachersCsv.includes(',p1;p2,2027-03-03;2027-03-04\r\n'));
  const backTeachers = parseTeachersCsv(teachersCsv);
  assert.deepEqual(backTeachers.errors, []);
  assert.deepEqual(backTeachers.teachers, teachers);

  const assembled = assemblePlan(BASE, { lessonsCsv, teachersCsv });
  assert.deepEqual(assembled.errors, []);
  assert.deepEqual(assembled.plan, { ...PLAN, lessons, teachers });
});

test('every bad row is reported with its line and column, and no plan comes back', () => {
  const csv = [
    HEADER,
    row('p1-chinese-001'),
    row('p1-chinese-002', { grade: '七年级' }),
    row('p1-chinese-003', { title: '' }),
    row('p1-chinese-004', { order: 'four' }),
    row('p1-chinese-005', { teacher: 't999' }),
    row('p1-chinese-001', { order: '6' }),
    row('p1-chinese-007', { recording: 'planned' }),
    row('p1-chinese-008', { title: '"语文, 第8课"' }),
    '',
    row('p1-chinese-009', { recording: 'planned', readyOn: '2027/3/5' }),
  ].join('\r\n');
  const result = assemblePlan(PLAN, { lessonsCsv: csv });
  assert.equal(result.plan, undefined);
  assert.deepEqual(result.errors, [
    {
      section: 'lessons',
      line: 3,
      column: 'grade',
      reason: 'must be one of p1…s3 (or 一年级…六年级, 初一…初三, 高一…高三), got 七年级',
    },
    { section: 'lessons', line: 4, column: 'title', reason: 'is required' },
    { section: 'lessons', line: 5, column: 'order', reason: 'must be a whole number, got four' },
    { section: 'lessons', line: 6, column: 'teacher_id', reason: 'unknown teacher t999' },
    {
      section: 'lessons',
      line: 7,
      column: 'id',
      reason: 'duplicate lesson id p1-chinese-001 (first on line 2)',
    },
    {
      section: 'lessons',
      line: 8,
      column: 'ready_on',
      reason: 'a planned recording needs the date it will be ready',
    },
    { section: 'lessons', line: 11, column: 'ready_on', reason: 'must be a date YYYY-MM-DD, got 2027/3/5' },
  ] satisfies RowError[]);
});

test('Chinese headers, grade names, statuses and list separators are read; a BOM is skipped', () => {
  const lessons = [
    '\uFEFF编号,标题,年级,学科,单元,序号,时长,教师,录制状态,可播日期,点播课程',
    `j1-math-001,数学 第1课,初一,math,第一单元,1,30,${T1},已就绪,,`,
    `s3-english-002,英语 第2课,高三,english,第一单元,2,30,${T1},直播,,`,
    `p2-chinese-003,语文 第3课,二年级,chinese,第一单元,3,20,${T1},待录制,2027-03-10,`,
  ].join('\n');
  const parsed = parseLessonsCsv(lessons);
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(
    parsed.lessons.map((l) => [l.grade, l.recording, l.readyOn]),
    [
      ['j1', 'ready', undefined],
      ['s3', 'live', undefined],
      ['p2', 'planned', '2027-03-10'],
    ],
  );
  const teachers = parseTeachersCsv(
    '\uFEFF编号,姓名,学科,年级,不可用日期\r\nt1,王伟,chinese；math,一年级、p2;高一,2027-03-01；2027-03-02\r\n',
  );
  assert.deepEqual(teachers.errors, []);
  assert.deepEqual(teachers.teachers, [
    {
      id: 't1',
      name: '王伟',
      subjects: ['chinese', 'math'],
      grades: ['p1', 'p2', 's1'],
      unavailable: ['2027-03-01', '2027-03-02'],
    },
  ]);
  // Errors name the column as the file wrote it.
  const bad = parseTeachersCsv('编号,姓名,年级\nt1,王伟,七年级\n');
  assert.deepEqual(bad.errors, [
    {
      section: 'teachers',
      line: 2,
      column: '年级',
      reason: 'must be grades among p1…s3 (or 一年级…六年级, 初一…初三, 高一…高三), got 七年级',
    },
  ]);
  assert.equal(gradeOf('Junior 2'), 'j2');
  assert.equal(gradeOf('S3'), 's3');
  assert.equal(gradeOf('七年级'), undefined);
  // The contract's own field names work as headers too.
  assert.deepEqual(parseTeachersCsv('ID,Name,Grades\nt2,李娜,p3\n').errors, []);
});

test('an unclosed quote is reported on the line it opens, never thrown', () => {
  const csv = [
    HEADER,
    row('p1-chinese-001'),
    row('p1-chinese-002', { title: '"语文 第2课' }),
    row('p1-chinese-003'),
  ].join('\r\n');
  const parsed = parseLessonsCsv(csv);
  assert.deepEqual(
    parsed.lessons.map((l) => l.id),
    ['p1-chinese-001'],
  );
  assert.deepEqual(parsed.errors, [
    { section: 'lessons', line: 3, column: '', reason: 'a quoted cell opened on this line is never closed' },
  ]);
  const result = assemblePlan(BASE, { lessonsCsv: csv, teachersCsv: teachersToCsv(PLAN.teachers) });
  assert.equal(result.plan, undefined);
  assert.equal(result.errors.length, 1);
});

test('a cell spanning lines keeps the following rows on their physical lines', () => {
  const csv = [
    HEADER,
    row('p1-chinese-001', { title: '"语文\r\n第1课"' }),
    row('p1-chinese-002', { grade: 'x' }),
  ].join('\r\n');
  const parsed = parseLessonsCsv(csv);
  assert.equal(parsed.lessons[0]!.title, '语文\n第1课');
  assert.deepEqual(
    parsed.errors.map((e) => [e.line, e.column]),
    [[4, 'grade']],
  );
});

test('header problems are reported on line 1: unknown, repeated and missing columns', () => {
  const parsed = parseLessonsCsv('id,title,年级,grade,colour\np1-chinese-001,x,p1,p1,red\n');
  assert.deepEqual(
    parsed.errors.map((e) => [e.line, e.column, e.reason.split(';')[0]]),
    [
      [1, 'grade', 'column given twice (also as "年级")'],
      [1, 'colour', 'unknown column'],
      [1, 'subject', 'required column is missing (学科)'],
      [1, 'unit', 'required column is missing (单元)'],
      [1, 'order', 'required column is missing (序号)'],
      [1, 'duration_min', 'required column is missing (时长)'],
      [1, 'teacher_id', 'required column is missing (教师)'],
      [1, 'recording', 'required column is missing (录制状态)'],
    ],
  );
  assert.deepEqual(
    parseTeachersCsv('').errors.map((e) => [e.line, e.reason.slice(0, 14)]),
    [[1, 'the file is em']],
  );
  const extra = parseTeachersCsv('id,name\nt1,王伟,surplus\n');
  assert.deepEqual(extra.errors, [
    { section: 'teachers', line: 2, column: '', reason: 'has 3 cells but the header has 2' },
  ]);
});

test('reference checks: subject, stage, teacher, duplicates, and grades without a channel', () => {
  const lessons = PLAN.lessons.slice(0, 3);
  const plan: Plan = {
    ...PLAN,
    teachers: [...PLAN.teachers, PLAN.teachers[0]!],
    channels: PLAN.channels.filter((c) => !c.grades.includes('p3')),
    lessons: [
      ...lessons,
      { ...lessons[0]!, id: 'p3-physics-001', grade: 'p3', subject: 'physics' },
      { ...lessons[0]!, id: 'p1-drama-001', subject: 'drama', teacherId: 'nobody' },
      { ...lessons[1]!, id: 'p1-chinese-dup' },
    ],
  };
  const dupTeacherLine = PLAN.teachers.length + 1;
  assert.deepEqual(validatePlanReferences(plan), [
    {
      section: 'teachers',
      line: dupTeacherLine,
      column: 'id',
      reason: `duplicate teacher id ${PLAN.teachers[0]!.id} (first on line 1)`,
    },
    {
      section: 'lessons',
      line: 4,
      column: 'subject',
      reason: 'physics is not taught in primary (p3); only in junior, senior',
    },
    { section: 'lessons', line: 5, column: 'teacherId', reason: 'unknown teacher nobody' },
    { section: 'lessons', line: 5, column: 'subject', reason: 'unknown subject drama' },
    {
      section: 'lessons',
      line: 6,
      column: 'order',
      reason: `p1 chinese already has order 2 (${lessons[1]!.id} on line 2)`,
    },
    { section: 'channels', line: 0, column: 'grades', reason: 'no channel carries p3, which has 1 lesson' },
  ] satisfies RowError[]);
  // With CSV lines.
  const lines = validatePlanReferences(plan, { lessons: [2, 3, 4, 7, 8, 9] }).filter(
    (e) => e.section === 'lessons',
  );
  assert.deepEqual(
    lines.map((e) => e.line),
    [7, 8, 8, 9],
  );
  // Two grades on one shared TV channel is fine.
  const shared: Plan = {
    ...PLAN,
    channels: [...PLAN.channels, { ...PLAN.channels[0]!, id: 'tv-extra', number: 99, grades: ['p1', 'p2'] }],
  };
  assert.deepEqual(validatePlanReferences(shared), []);
});

test('JSON: syntax errors carry a line, schema problems the item and path, then the references', () => {
  const good = parsePlanJson(`\uFEFF${JSON.stringify(PLAN, null, 2)}`);
  assert.deepEqual(good.errors, []);
  assert.deepEqual(good.plan, PLAN);

  const syntax = parsePlanJson('{\n  "term": {},\n  "lessons": [1 2]\n}').errors;
  assert.deepEqual(
    syntax.map((e) => [e.section, e.line]),
    [['plan', 3]],
  );
  assert.deepEqual(
    parsePlanJson('{\n  "term": {').errors.map((e) => [e.section, e.line]),
    [['plan', 2]],
  );

  const broken = structuredClone(PLAN) as unknown as {
    lessons: Record<string, unknown>[];
    teachers: unknown[];
  };
  broken.lessons[3]!['grade'] = '七年级';
  broken.lessons[5]!['recording'] = 'planned';
  delete broken.lessons[7]!['title'];
  const schema = parsePlanJson(JSON.stringify(broken)).errors;
  assert.deepEqual(schema, [
    {
      section: 'lessons',
      line: 4,
      column: 'grade',
      reason:
        'Invalid option: expected one of "p1"|"p2"|"p3"|"p4"|"p5"|"p6"|"j1"|"j2"|"j3"|"s1"|"s2"|"s3", got "七年级"',
    },
    {
      section: 'lessons',
      line: 6,
      column: 'readyOn',
      reason: 'a planned recording needs the date it will be ready',
    },
    { section: 'lessons', line: 8, column: 'title', reason: 'is required' },
  ] satisfies RowError[]);

  const unknownTeacher = structuredClone(PLAN);
  unknownTeacher.lessons[2]!.teacherId = 't999';
  const refs = parsePlanJson(JSON.stringify(unknownTeacher));
  assert.equal(refs.plan, undefined);
  assert.deepEqual(refs.errors, [
    { section: 'lessons', line: 3, column: 'teacherId', reason: 'unknown teacher t999' },
  ]);
});

test('assemblePlan keeps the base part not given as CSV, and refuses an empty lessons file', () => {
  const teachersOnly = assemblePlan(PLAN, { teachersCsv: teachersToCsv(PLAN.teachers) });
  assert.deepEqual(teachersOnly.errors, []);
  assert.deepEqual(teachersOnly.plan, PLAN);

  const empty = assemblePlan(PLAN, { lessonsCsv: `${HEADER}\r\n` });
  assert.equal(empty.plan, undefined);
  assert.deepEqual(
    empty.errors.map((e) => [e.section, e.line]),
    [['lessons', 0]],
  );

  // A bad teacher row is reported once, not again by every lesson of that teacher.
  const t = PLAN.teachers[0]!;
  const badTeacher = teachersToCsv(PLAN.teachers).replace(`\r\n${t.id},${t.name},`, `\r\n${t.id},,`);
  const once = assemblePlan(PLAN, { teachersCsv: badTeacher });
  assert.equal(once.plan, undefined);
  assert.deepEqual(once.errors, [{ section: 'teachers', line: 2, column: 'name', reason: 'is required' }]);

  // Removing a teacher other lessons still use is caught across files.
  const fewer = assemblePlan(PLAN, { teachersCsv: teachersToCsv(PLAN.teachers.slice(1)) });
  assert.equal(fewer.plan, undefined);
  assert.ok(fewer.errors.length > 0);
  assert.ok(fewer.errors.every((e) => e.section === 'lessons' && e.column === 'teacherId'));
});
