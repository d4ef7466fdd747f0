// npm run curriculum:generate -- [--out file] [--lessons N] [--seed N] [--start YYYY-MM-DD] [--csv dir]
// Writes a demo term plan as JSON (and optionally lessons.csv and teachers.csv) for the curriculum service.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { STAGES, stageOf } from '@sky/contracts';
import { schoolDays } from '../services/calendar.js';
import { generatePlan, type GeneratePlanOptions } from '../services/plan-generator.js';
import { lessonsToCsv, teachersToCsv } from '../services/plan-io.js';

const USAGE =
  'usage: curriculum:generate [--out .data/curriculum/plan.json] [--lessons 3100] [--seed 1] [--start YYYY-MM-DD] [--csv dir]';

function wholeNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new RangeError(`--${name} must be a whole number, got ${raw}`);
  return Number(raw);
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: '.data/curriculum/plan.json' },
      lessons: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      csv: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const lessons = wholeNumber('lessons', values.lessons);
  const seed = wholeNumber('seed', values.seed);
  const opts: GeneratePlanOptions = {
    ...(values.start === undefined ? {} : { startDate: values.start }),
    ...(lessons === undefined ? {} : { lessons }),
    ...(seed === undefined ? {} : { seed }),
  };
  const plan = generatePlan(opts);

  const out = resolve(process.cwd(), values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(plan, null, 2)}\n`);
  const written = [out];
  if (values.csv !== undefined) {
    const dir = resolve(process.cwd(), values.csv);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lessons.csv'), lessonsToCsv(plan.lessons));
    writeFileSync(join(dir, 'teachers.csv'), teachersToCsv(plan.teachers));
    written.push(join(dir, 'lessons.csv'), join(dir, 'teachers.csv'));
  }

  const perStage = STAGES.map((s) => `${s} ${plan.lessons.filter((l) => stageOf(l.grade) === s).length}`);
  const days = schoolDays(plan.term);
  console.log(
    `${plan.term.name}: ${plan.lessons.length} lessons (${perStage.join(', ')}), ${plan.teachers.length} teachers, ` +
      `${days.length} school days ${plan.term.startDate}…${plan.term.endDate} → ${written.join(', ')}`,
  );
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  console.error(USAGE);
  process.exitCode = 1;
}
