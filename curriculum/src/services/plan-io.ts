import {
  assertPlainJson,
  GRADE_IDS,
  GradeId,
  IsoDate,
  Plan,
  PlanLesson,
  RECORDING_STATUSES,
  restoreCsvText,
  stageOf,
  Teacher,
  writeCsv,
  type RecordingStatus,
  type RowError,
} from '@sky/contracts';
import { parse, type CsvError } from 'csv-parse/sync';
import type { z } from 'zod';
import { GRADE_NAMES } from './catalog.js';

/**
 * Plans in and out as CSV (what the bureau edits in Excel) and JSON (what the generator writes).
 * Imports validate every row with the contract schemas and report every bad row at once, with the file's
 * own line and column name, so a plan is imported whole or not at all.
 */

type CellKind = 'text' | 'int' | 'grade' | 'recording' | 'date' | 'list' | 'grades' | 'dates';

interface Column<F extends string> {
  field: F;
  en: string;
  zh: string;
  kind: CellKind;
  required: boolean;
}

const LESSON_COLUMNS: readonly Column<keyof PlanLesson>[] = [
  { field: 'id', en: 'id', zh: '编号', kind: 'text', required: true },
  { field: 'title', en: 'title', zh: '标题', kind: 'text', required: true },
  { field: 'grade', en: 'grade', zh: '年级', kind: 'grade', required: true },
  { field: 'subject', en: 'subject', zh: '学科', kind: 'text', required: true },
  { field: 'unit', en: 'unit', zh: '单元', kind: 'text', required: true },
  { field: 'order', en: 'order', zh: '序号', kind: 'int', required: true },
  { field: 'durationMin', en: 'duration_min', zh: '时长', kind: 'int', required: true },
  { field: 'teacherId', en: 'teacher_id', zh: '教师', kind: 'text', required: true },
  { field: 'recording', en: 'recording', zh: '录制状态', kind: 'recording', required: true },
  { field: 'readyOn', en: 'ready_on', zh: '可播日期', kind: 'date', required: false },
  { field: 'vodLessonId', en: 'vod_lesson_id', zh: '点播课程', kind: 'text', required: false },
];

const TEACHER_COLUMNS: readonly Column<keyof Teacher>[] = [
  { field: 'id', en: 'id', zh: '编号', kind: 'text', required: true },
  { field: 'name', en: 'name', zh: '姓名', kind: 'text', required: true },
  { field: 'subjects', en: 'subjects', zh: '学科', kind: 'list', required: false },
  { field: 'grades', en: 'grades', zh: '年级', kind: 'grades', required: false },
  { field: 'unavailable', en: 'unavailable', zh: '不可用日期', kind: 'dates', required: false },
];

const RECORDING_ZH: Record<RecordingStatus, string> = { planned: '待录制', ready: '已就绪', live: '直播' };
const LIST_SEPARATOR = /[;；、]/;
const GRADE_CHOICES = 'p1…s3 (or 一年级…六年级, 初一…初三, 高一…高三)';

// ---------------------------------------------------------------------------------------------- export

export function lessonsToCsv(lessons: readonly PlanLesson[]): string {
  return toCsv(
    LESSON_COLUMNS,
    lessons.map((l) => [
      l.id,
      l.title,
      l.grade,
      l.subject,
      l.unit,
      l.order,
      l.durationMin,
      l.teacherId,
      l.recording,
      l.readyOn ?? '',
      l.vodLessonId ?? '',
    ]),
  );
}

export function teachersToCsv(teachers: readonly Teacher[]): string {
  return toCsv(
    TEACHER_COLUMNS,
    teachers.map((t) => [t.id, t.name, t.subjects.join(';'), t.grades.join(';'), t.unavailable.join(';')]),
  );
}

/** As every CSV of the platform is written: BOM, CRLF, formulas in text cells written as text. */
function toCsv(columns: readonly Column<string>[], rows: (string | number)[][]): string {
  return writeCsv([columns.map((c) => c.en), ...rows]);
}

// ---------------------------------------------------------------------------------------------- import

interface CsvRows<T> {
  /** The rows that passed, in file order. */
  items: T[];
  /** `lines[i]` is the line in the file of `items[i]`. */
  lines: number[];
  errors: RowError[];
  /** The header of each field as written in the file (absent columns fall back to the English name). */
  headers: Map<string, string>;
  /** Ids of the rows that failed, so other files' references to them are not reported again. */
  rejectedIds: Set<string>;
}

export function parseLessonsCsv(text: string): {
  lessons: PlanLesson[];
  lines: number[];
  errors: RowError[];
} {
  const { items, lines, errors } = parseCsvSection(text, 'lessons', LESSON_COLUMNS, PlanLesson);
  return { lessons: items, lines, errors };
}

export function parseTeachersCsv(text: string): { teachers: Teacher[]; lines: number[]; errors: RowError[] } {
  const { items, lines, errors } = parseCsvSection(text, 'teachers', TEACHER_COLUMNS, Teacher);
  return { teachers: items, lines, errors };
}

interface CsvRecord {
  line: number;
  cells: string[];
}

/** Records with the physical line each starts on; syntax errors become RowErrors instead of throwing. */
function readCsv(text: string, section: string): { records: CsvRecord[]; errors: RowError[] } {
  // csv-parse counts "\r\n" as two lines; one kind of line break keeps its line numbers physical.
  const body = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const records: CsvRecord[] = [];
  const errors: RowError[] = [];
  let lastLine = 0;
  parse(body, {
    relax_column_count: true,
    skip_records_with_error: true,
    on_record: (cells: string[], ctx) => {
      records.push({ line: lastLine + 1, cells });
      lastLine = ctx.lines;
      return cells;
    },
    on_skip: (err?: CsvError) => {
      const start = lastLine + 1;
      const at = typeof err?.['lines'] === 'number' ? err['lines'] : start;
      errors.push(
        err?.code === 'CSV_QUOTE_NOT_CLOSED'
          ? { section, line: start, column: '', reason: 'a quoted cell opened on this line is never closed' }
          : { section, line: at, column: '', reason: `CSV syntax: ${err?.message ?? 'unreadable row'}` },
      );
      lastLine = Math.max(at, start);
      return undefined;
    },
  });
  return { records, errors };
}

function parseCsvSection<T>(
  text: string,
  section: string,
  columns: readonly Column<string>[],
  schema: z.ZodType<T>,
): CsvRows<T> {
  const { records, errors } = readCsv(text, section);
  const rows = records.filter((r) => r.cells.some((c) => c.trim() !== ''));
  const headers = new Map(columns.map((c) => [c.field, c.en]));
  const out: CsvRows<T> = { items: [], lines: [], errors, headers, rejectedIds: new Set() };
  const header = rows.shift();
  if (!header) {
    if (errors.length === 0) {
      errors.push({
        section,
        line: 1,
        column: '',
        reason: `the file is empty: expected a header row (${columns.map((c) => c.en).join(', ')})`,
      });
    }
    return out;
  }

  // Header: each cell names one known column, English or Chinese, once.
  const byIndex: (Column<string> | undefined)[] = [];
  const seen = new Map<string, string>();
  header.cells.forEach((raw, i) => {
    const name = raw.trim();
    const lower = name.toLowerCase();
    const col = columns.find((c) => c.en === lower || c.field.toLowerCase() === lower || c.zh === name);
    if (name === '') {
      // Excel leaves empty columns after the data; a nameless column holding data is an error.
      if (rows.some((r) => (r.cells[i] ?? '').trim() !== '')) {
        errors.push({
          section,
          line: header.line,
          column: '',
          reason: `column ${i + 1} has data but no name`,
        });
      }
    } else if (!col) {
      errors.push({
        section,
        line: header.line,
        column: name,
        reason: `unknown column; expected ${columns.map((c) => `${c.en} (${c.zh})`).join(', ')}`,
      });
    } else if (seen.has(col.field)) {
      errors.push({
        section,
        line: header.line,
        column: name,
        reason: `column given twice (also as "${seen.get(col.field)!}")`,
      });
    } else {
      seen.set(col.field, name);
      headers.set(col.field, name);
      byIndex[i] = col;
    }
  });
  const missing = new Set<string>();
  for (const c of columns) {
    if (c.required && !seen.has(c.field)) {
      missing.add(c.field);
      errors.push({
        section,
        line: header.line,
        column: c.en,
        reason: `required column is missing (${c.zh})`,
      });
    }
  }

  for (const row of rows) {
    const rowErrors: RowError[] = [];
    const extra = row.cells.slice(header.cells.length).filter((c) => c.trim() !== '');
    if (extra.length > 0) {
      rowErrors.push({
        section,
        line: row.line,
        column: '',
        reason: `has ${row.cells.length} cells but the header has ${header.cells.length}`,
      });
    }
    const candidate: Record<string, unknown> = {};
    const raws = new Map<string, string>();
    const bad = new Set<string>(missing);
    byIndex.forEach((col, i) => {
      if (!col) return;
      // our exports write formula-like text with a leading apostrophe (writeCsv): read it back as the text
      const raw = restoreCsvText((row.cells[i] ?? '').trim());
      raws.set(col.field, raw);
      const cell = convertCell(col.kind, raw);
      if ('error' in cell) {
        bad.add(col.field);
        rowErrors.push({ section, line: row.line, column: headers.get(col.field)!, reason: cell.error });
      } else if (cell.value !== undefined) {
        candidate[col.field] = cell.value;
      }
    });
    const parsed = schema.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '');
        if (bad.has(field)) continue;
        rowErrors.push({
          section,
          line: row.line,
          column: headers.get(field) ?? field,
          reason: reasonOf(issue, raws.get(field)),
        });
      }
    }
    if (rowErrors.length > 0 || !parsed.success) {
      errors.push(...rowErrors);
      const id = raws.get('id');
      if (id) out.rejectedIds.add(id);
    } else {
      out.items.push(parsed.data);
      out.lines.push(row.line);
    }
  }
  out.errors = sortErrors(errors);
  return out;
}

type Cell = { value: unknown } | { error: string };

function convertCell(kind: CellKind, raw: string): Cell {
  if (raw === '') return { value: kind === 'list' || kind === 'grades' || kind === 'dates' ? [] : undefined };
  switch (kind) {
    case 'text':
      return { value: raw };
    case 'int':
      return /^\d+$/.test(raw) ? { value: Number(raw) } : { error: `must be a whole number, got ${raw}` };
    case 'grade': {
      const grade = gradeOf(raw);
      return grade ? { value: grade } : { error: `must be one of ${GRADE_CHOICES}, got ${raw}` };
    }
    case 'recording': {
      const status = RECORDING_STATUSES.find((s) => s === raw.toLowerCase() || RECORDING_ZH[s] === raw);
      return status
        ? { value: status }
        : {
            error: `must be one of ${RECORDING_STATUSES.join(', ')} (or ${Object.values(RECORDING_ZH).join(', ')}), got ${raw}`,
          };
    }
    case 'date':
      return IsoDate.safeParse(raw).success
        ? { value: raw }
        : { error: `must be a date YYYY-MM-DD, got ${raw}` };
    case 'list':
      return { value: splitList(raw) };
    case 'grades': {
      const items = splitList(raw);
      const wrong = items.filter((g) => !gradeOf(g));
      return wrong.length === 0
        ? { value: items.map(gradeOf) }
        : { error: `must be grades among ${GRADE_CHOICES}, got ${wrong.join(', ')}` };
    }
    case 'dates': {
      const items = splitList(raw);
      const wrong = items.filter((d) => !IsoDate.safeParse(d).success);
      return wrong.length === 0
        ? { value: items }
        : { error: `must be dates YYYY-MM-DD, got ${wrong.join(', ')}` };
    }
  }
}

function splitList(raw: string): string[] {
  return raw
    .split(LIST_SEPARATOR)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A grade from its id (p1, S3) or its name (一年级, 初一, 高三, Junior 2). */
export function gradeOf(raw: string): GradeId | undefined {
  const text = raw.trim();
  const id = GradeId.safeParse(text.toLowerCase());
  if (id.success) return id.data;
  return GRADE_IDS.find(
    (g) => GRADE_NAMES[g].zh === text || GRADE_NAMES[g].en.toLowerCase() === text.toLowerCase(),
  );
}

function reasonOf(issue: z.core.$ZodIssue, raw: string | undefined): string {
  if (issue.code === 'invalid_type' && (raw === undefined || raw === '')) return 'is required';
  if (raw === undefined || raw === '') return issue.message;
  const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return `${issue.message}, got ${shown}`;
}

// ---------------------------------------------------------------------------------------------- checks

/**
 * Checks across rows, after each row passed on its own: ids unique, references resolve, each subject in
 * a stage that teaches it, each grade with lessons on at least one channel. Channels may share a grade.
 * `lines` maps an item's index to its CSV line; without it, line = index + 1 (JSON). Line 0 = the section.
 */
export function validatePlanReferences(
  plan: Plan,
  lines: { lessons?: readonly number[]; teachers?: readonly number[] } = {},
): RowError[] {
  return checkReferences(plan, lines, new Set());
}

/** `rejectedTeachers`: ids of teacher rows already reported as bad; lessons naming them are not. */
function checkReferences(
  plan: Plan,
  lines: { lessons?: readonly number[]; teachers?: readonly number[] },
  rejectedTeachers: ReadonlySet<string>,
): RowError[] {
  const errors: RowError[] = [];
  const lessonLine = (i: number) => lines.lessons?.[i] ?? i + 1;
  const teacherLine = (i: number) => lines.teachers?.[i] ?? i + 1;

  const subjects = new Map<string, Plan['subjects'][number]>();
  plan.subjects.forEach((s, i) => {
    if (subjects.has(s.code)) {
      errors.push({
        section: 'subjects',
        line: i + 1,
        column: 'code',
        reason: `duplicate subject code ${s.code}`,
      });
    } else subjects.set(s.code, s);
  });

  const teacherAt = new Map<string, number>();
  plan.teachers.forEach((t, i) => {
    const first = teacherAt.get(t.id);
    if (first !== undefined) {
      errors.push({
        section: 'teachers',
        line: teacherLine(i),
        column: 'id',
        reason: `duplicate teacher id ${t.id} (first on line ${teacherLine(first)})`,
      });
    } else teacherAt.set(t.id, i);
    const unknown = t.subjects.filter((s) => !subjects.has(s));
    if (unknown.length > 0) {
      errors.push({
        section: 'teachers',
        line: teacherLine(i),
        column: 'subjects',
        reason: `unknown subject ${unknown.join(', ')}`,
      });
    }
  });

  const channelAt = new Map<string, number>();
  const numberAt = new Map<string, number>();
  plan.channels.forEach((c, i) => {
    if (channelAt.has(c.id)) {
      errors.push({ section: 'channels', line: i + 1, column: 'id', reason: `duplicate channel id ${c.id}` });
    } else channelAt.set(c.id, i);
    const numberKey = `${c.kind} ${c.number}`;
    const other = numberAt.get(numberKey);
    if (other !== undefined) {
      errors.push({
        section: 'channels',
        line: i + 1,
        column: 'number',
        reason: `${c.kind} channel number ${c.number} is also ${plan.channels[other]!.id}'s`,
      });
    } else numberAt.set(numberKey, i);
  });

  const lessonAt = new Map<string, number>();
  const orderAt = new Map<string, number>();
  const lessonsPerGrade = new Map<string, number>();
  plan.lessons.forEach((l, i) => {
    const line = lessonLine(i);
    lessonsPerGrade.set(l.grade, (lessonsPerGrade.get(l.grade) ?? 0) + 1);
    const first = lessonAt.get(l.id);
    if (first !== undefined) {
      errors.push({
        section: 'lessons',
        line,
        column: 'id',
        reason: `duplicate lesson id ${l.id} (first on line ${lessonLine(first)})`,
      });
    } else {
      lessonAt.set(l.id, i);
      // A repeated row is one problem: its id. Otherwise two lessons may not share a place in the sequence.
      const key = `${l.grade} ${l.subject} ${l.order}`;
      const same = orderAt.get(key);
      if (same !== undefined) {
        errors.push({
          section: 'lessons',
          line,
          column: 'order',
          reason: `${l.grade} ${l.subject} already has order ${l.order} (${plan.lessons[same]!.id} on line ${lessonLine(same)})`,
        });
      } else orderAt.set(key, i);
    }
    if (!teacherAt.has(l.teacherId) && !rejectedTeachers.has(l.teacherId)) {
      errors.push({
        section: 'lessons',
        line,
        column: 'teacherId',
        reason: `unknown teacher ${l.teacherId}`,
      });
    }
    const subject = subjects.get(l.subject);
    if (!subject) {
      errors.push({ section: 'lessons', line, column: 'subject', reason: `unknown subject ${l.subject}` });
    } else if (!subject.stages.includes(stageOf(l.grade))) {
      errors.push({
        section: 'lessons',
        line,
        column: 'subject',
        reason: `${l.subject} is not taught in ${stageOf(l.grade)} (${l.grade}); only in ${subject.stages.join(', ')}`,
      });
    }
  });

  const carried = new Set(plan.channels.flatMap((c) => c.grades));
  for (const grade of GRADE_IDS) {
    const count = lessonsPerGrade.get(grade);
    if (count !== undefined && !carried.has(grade)) {
      errors.push({
        section: 'channels',
        line: 0,
        column: 'grades',
        reason: `no channel carries ${grade}, which has ${count} lesson${count === 1 ? '' : 's'}`,
      });
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------- plans

export function parsePlanJson(text: string): { plan?: Plan; errors: RowError[] } {
  const body = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { errors: [{ section: 'plan', line: jsonErrorLine(message, body), column: '', reason: message }] };
  }
  // keys such as toString or __proto__, and nesting no plan has, are refused before anything reads them
  assertPlainJson(json);
  const parsed = Plan.safeParse(json);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => {
        const e = issueToRowError(issue);
        const value = valueAt(json, issue.path);
        if (value === undefined && issue.code === 'invalid_type') return { ...e, reason: 'is required' };
        if (value === null || typeof value === 'object' || value === undefined) return e;
        return { ...e, reason: `${e.reason}, got ${JSON.stringify(value)}` };
      }),
    };
  }
  const errors = validatePlanReferences(parsed.data);
  return errors.length > 0 ? { errors } : { plan: parsed.data, errors };
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let at = json;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** V8 says "at position N" (and newer ones "line N"); the end of input is the last line. */
function jsonErrorLine(message: string, body: string): number {
  const line = /\bline (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /at position (\d+)/.exec(message);
  if (position) return body.slice(0, Number(position[1])).split('\n').length;
  if (/end of JSON input/.test(message)) return body.split('\n').length;
  return 1;
}

/** section = first path element; line = item index + 1 (0 for the section itself, 1 for the term). */
function issueToRowError(
  issue: z.core.$ZodIssue,
  lines: { lessons?: readonly number[]; teachers?: readonly number[] } = {},
  headers: { lessons?: Map<string, string>; teachers?: Map<string, string> } = {},
): RowError {
  const [head, index, ...rest] = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (head === undefined) return { section: 'plan', line: 0, column: '', reason: issue.message };
  const section = String(head);
  const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '';
  if (typeof index !== 'number') {
    const column = [index, ...rest].filter((p) => p !== undefined).join('.');
    return { section, line: section === 'term' ? 1 : 0, column: column || keys, reason: issue.message };
  }
  const mapped = section === 'lessons' || section === 'teachers' ? lines[section]?.[index] : undefined;
  const field = rest.length > 0 ? String(rest[0]) : '';
  const header = section === 'lessons' || section === 'teachers' ? headers[section]?.get(field) : undefined;
  const column = rest.length > 0 ? [header ?? field, ...rest.slice(1)].join('.') : keys;
  return { section, line: mapped ?? index + 1, column, reason: issue.message };
}

/**
 * The plan with its lessons and/or teachers replaced from CSV, and every problem found. A plan comes back
 * only when there is none: the caller saves that or nothing.
 */
export function assemblePlan(
  base: Omit<Plan, 'lessons' | 'teachers'> & Partial<Pick<Plan, 'lessons' | 'teachers'>>,
  parts: { lessonsCsv?: string; teachersCsv?: string },
): { plan?: Plan; errors: RowError[] } {
  const lessons =
    parts.lessonsCsv === undefined
      ? undefined
      : parseCsvSection(parts.lessonsCsv, 'lessons', LESSON_COLUMNS, PlanLesson);
  const teachers =
    parts.teachersCsv === undefined
      ? undefined
      : parseCsvSection(parts.teachersCsv, 'teachers', TEACHER_COLUMNS, Teacher);
  const candidate: Plan = {
    ...base,
    lessons: lessons?.items ?? base.lessons ?? [],
    teachers: teachers?.items ?? base.teachers ?? [],
  };
  const lines = {
    ...(lessons ? { lessons: lessons.lines } : {}),
    ...(teachers ? { teachers: teachers.lines } : {}),
  };
  const headers = {
    ...(lessons ? { lessons: lessons.headers } : {}),
    ...(teachers ? { teachers: teachers.headers } : {}),
  };
  const errors: RowError[] = [...(lessons?.errors ?? []), ...(teachers?.errors ?? [])];
  const rowsFailed = new Set(errors.map((e) => e.section));

  const parsed = Plan.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const e = issueToRowError(issue, lines, headers);
      // "lessons: too few" says nothing new when the rows themselves were bad.
      if (!(e.line === 0 && rowsFailed.has(e.section))) errors.push(e);
    }
  }
  for (const e of checkReferences(candidate, lines, teachers?.rejectedIds ?? new Set())) {
    const header =
      e.section === 'lessons' || e.section === 'teachers' ? headers[e.section]?.get(e.column) : undefined;
    errors.push(header === undefined ? e : { ...e, column: header });
  }
  const ordered = sortErrors(errors);
  return ordered.length === 0 && parsed.success ? { plan: parsed.data, errors: [] } : { errors: ordered };
}

const SECTION_ORDER = ['plan', 'term', 'subjects', 'channels', 'teachers', 'lessons'];

function sortErrors(errors: RowError[]): RowError[] {
  const rank = (s: string) => {
    const i = SECTION_ORDER.indexOf(s);
    return i === -1 ? SECTION_ORDER.length : i;
  };
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e.section) - rank(b.e.section) || a.e.line - b.e.line || a.i - b.i)
    .map(({ e }) => e);
}
