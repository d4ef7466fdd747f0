// npm run bench -- <name>: runs bench/<name>.ts, which prints its figures and writes bench/results/<name>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, setupEnv } from './lib.ts';

const name = process.argv[2];
const available = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !existsSync(join(ROOT, 'bench', `${name}.ts`))) {
  console.error(`usage: npm run bench -- <name>   (one of: ${available.join(', ')})`);
  process.exit(2);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(ROOT, 'bench', `${name}.ts`), ...process.argv.slice(3)],
  {
    stdio: 'inherit',
    cwd: ROOT,
    env: { ...process.env, ...setupEnv() },
  },
);
process.exit(r.status ?? 1);
