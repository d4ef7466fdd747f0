// What the fuzz tests send, and what they look for in the answers. The inputs come from fast-check with a
// fixed seed (a failure prints it, and the same seed replays it); they are built from the words the
// contracts use (field names, roles, grades) so that many get past the first check and reach deeper code.
import fc from 'fast-check';

/** The seed of a run: FUZZ_SEED, or a fixed default so that CI runs the same inputs every time. */
export function fuzzSeed(): number {
  const s = Number(process.env['FUZZ_SEED']);
  return Number.isInteger(s) ? s : 20_261_204;
}

/** A route of a fastify app, from its printRoutes() tree. */
export interface PrintedRoute {
  method: string;
  url: string;
}

/**
 * Every route of a fastify app: `app.printRoutes({ commonPrefix: false })` draws a tree whose lines are
 * `├── /segment (GET, HEAD)`, each level 4 characters deeper than its parent.
 */
export function routesOf(printed: string): PrintedRoute[] {
  const out: PrintedRoute[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const m = /^([│ ├└─]*?)([├└]── )(\S+)(?: \(([A-Z, ]+)\))?\s*$/u.exec(line);
    if (!m) continue;
    const depth = Math.round([...m[1]!].length / 4);
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[3]!;
    stack[depth] = url;
    for (const method of (m[4] ?? '').split(',').map((s) => s.trim()))
      if (method && method !== 'HEAD' && method !== 'OPTIONS') out.push({ method, url });
  }
  return out;
}

/** Field names of every zod object schema among `exports` (and of the objects nested in them). */
export function fieldNames(exports: Record<string, unknown>): string[] {
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number) => {
    if (!v || typeof v !== 'object' || seen.has(v) || depth > 6) return;
    seen.add(v);
    const shape = (v as { shape?: unknown }).shape;
    if (shape && typeof shape === 'object') {
      for (const [k, child] of Object.entries(shape)) {
        names.add(k);
        walk(child, depth + 1);
      }
    }
    // wrappers (optional, array, union…) keep their inner schemas under these names in zod 4
    const def = (v as { def?: Record<string, unknown> }).def;
    if (def && typeof def === 'object')
      for (const k of ['innerType', 'element', 'options', 'in', 'out', 'left', 'right', 'schema'])
        walk(def[k], depth + 1);
    if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
  };
  for (const v of Object.values(exports)) walk(v, 0);
  return [...names].sort();
}

/** Strings an attacker tries: control bytes, paths, prototype keys, huge, odd unicode, injection. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\n\r\t',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  '%',
  '__proto__',
  'constructor',
  'toString',
  'prototype',
  'hasOwnProperty',
  '{"$gt":""}',
  '$where',
  '<script>alert(1)</script>',
  '=HYPERLINK("http://x")',
  "'; DROP TABLE lessons; --",
  '😀'.repeat(50),
  '\uD800',
  'x'.repeat(10_000),
  '-1',
  '0',
  '1e309',
  'NaN',
  'null',
  'true',
  '000000000000000000000000',
  'ffffffffffffffffffffffff',
  '2026-02-30',
  '9999-12-31T23:59:59Z',
  'p1',
  'admin',
];

/** Values of the domain: the ids that exist in the stack under test, grades, roles, dates. */
export interface FuzzWords {
  fields: readonly string[];
  ids: readonly string[];
}

export function fuzzArbitraries(words: FuzzWords) {
  const str = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS, ...words.ids) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  );
  const num = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -0, 0.5),
  );
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...words.fields) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '$gt', '$where', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      str,
      num,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6 }),
    ),
  }));
  const object = fc.dictionary(key, value, { maxKeys: 8 });
  /** A body as bytes on the wire: JSON of anything, or not JSON at all. */
  const body = fc.oneof(
    { weight: 6, arbitrary: object.map((o) => JSON.stringify(o)) },
    { weight: 2, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":',
        'null',
        '[]',
        '"x"',
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"admin":true}}}',
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`,
        JSON.stringify({ title: 'x'.repeat(2_000_000) }),
      ),
    },
  );
  const segment = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...words.ids) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 200)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  );
  const query = fc.array(fc.tuple(key, fc.oneof(str, num.map(String))), { maxLength: 5 });
  return { value, object, body, segment, query };
}

/** An absolute path of this machine, a stack frame, or an exception's name in an answer: a leak. */
export function leakIn(text: string, serverPaths: readonly string[]): string | undefined {
  for (const p of serverPaths) if (p.length > 4 && text.includes(p)) return `server path ${p}`;
  const frame = /\bat (?:async )?[\w$.<>]+ \(?(?:file:\/\/|\/|node:)[^)\s]*:\d+:\d+\)?/.exec(text);
  if (frame) return `stack frame ${frame[0]}`;
  const kind = /\b(?:TypeError|ReferenceError|RangeError|MongoServerError|CastError|ValidationError)\b/.exec(
    text,
  );
  if (kind) return `exception ${kind[0]}`;
  if (/node_modules/.test(text)) return 'node_modules path';
  return undefined;
}

/** `n` inputs of `arb` from `seed` (the same every run). */
export function sampleOf<T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] {
  return fc.sample(arb, { numRuns: n, seed });
}

export { fc };
