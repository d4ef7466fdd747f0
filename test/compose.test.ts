import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { z } from 'zod';
import { parse } from 'yaml';
import { ApiConfigSchema } from '../api/src/config.js';
import { CurriculumConfigSchema } from '../curriculum/src/config.js';
import { SfuConfigSchema } from '../sfu/src/config.js';
import { TranscoderConfigSchema } from '../transcoder/src/config.js';
import { TvGatewayConfigSchema } from '../tv-gateway/src/config.js';

const ROOT = join(import.meta.dirname, '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { environment?: Record<string, string>; command?: string[]; image?: string; build?: string }
  >;
};

const keysOf = (s: z.ZodType): string[] => {
  const def = (s as unknown as { def: { type: string; in?: z.ZodType; shape?: Record<string, unknown> } })
    .def;
  if (def.shape) return Object.keys(def.shape);
  if (def.in) return keysOf(def.in);
  const inner = (s as unknown as { _zod: { def: { schema?: z.ZodType } } })._zod.def.schema;
  if (inner) return keysOf(inner);
  throw new Error('not an object schema');
};

const SCHEMAS: Record<string, z.ZodType> = {
  api: ApiConfigSchema,
  transcoder: TranscoderConfigSchema,
  sfu: SfuConfigSchema,
  curriculum: CurriculumConfigSchema,
  'tv-gateway': TvGatewayConfigSchema,
};

test('every env name a compose service sets is one its config schema reads', () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const svc = compose.services[name];
    assert.ok(svc, `compose has a ${name} service`);
    const known = new Set([...keysOf(schema), 'NODE_ENV']);
    const unknown = Object.keys(svc.environment ?? {}).filter((k) => !known.has(k));
    assert.deepEqual(unknown, [], `${name} sets env names its config does not read`);
    assert.ok(svc.command?.join(' ').includes(`${name}/dist/src/main.js`), `${name} runs its own main.js`);
  }
});

test('every required config value is set in compose (or by the image)', () => {
  const fromImage = new Set(['MEDIASOUP_WORKER_BIN']);
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const env = {
      ...Object.fromEntries([...fromImage].map((k) => [k, '/bin/sh'])),
      ...compose.services[name]!.environment,
    };
    // What an operator puts in .env for the ${VAR:?…} placeholders.
    const dotenv: Record<string, string> = {
      JWT_SECRET: 'x'.repeat(40),
      SFU_ANNOUNCED_IP: '203.0.113.7',
      SFU_PUBLIC_URL: 'http://203.0.113.7:8081',
    };
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        // ${VAR:-default} falls back like compose does; ${VAR:?msg} needs the .env value
        String(v).replace(
          /\$\{(\w+)(?::-([^}]*))?[^}]*\}/g,
          (_m, n: string, fallback: string | undefined) => dotenv[n] ?? fallback ?? '',
        ),
      ]),
    );
    const r = schema.safeParse(resolved);
    assert.ok(
      r.success,
      `${name}: ${r.success ? '' : r.error.issues.map((i) => i.path.join('.') + ' ' + i.message).join('; ')}`,
    );
  }
});

test('the data services are MongoDB 7 as replica set rs0 with an init step, Redis 7 and nginx', () => {
  assert.equal(compose.services['mongo']?.image, 'mongo:7');
  assert.ok(compose.services['mongo']?.command?.includes('rs0'));
  assert.match(JSON.stringify(compose.services['mongo-init']?.command), /rs\.initiate/);
  assert.equal(compose.services['redis']?.image, 'redis:7');
  assert.ok(compose.services['nginx']);
});

test('nginx tells every proxied service the client address; api and gateway trust only their fixed proxy hops', () => {
  const conf = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  // each location block (balanced braces) that proxies sets both headers itself
  const proxied: string[] = [];
  for (let at = conf.indexOf('location'); at !== -1; at = conf.indexOf('location', at + 1)) {
    const open = conf.indexOf('{', at);
    let depth = 0;
    let end = open;
    for (; end < conf.length; end++) {
      if (conf[end] === '{') depth++;
      else if (conf[end] === '}' && --depth === 0) break;
    }
    const block = conf.slice(open, end);
    if (!/\bproxy_pass\b/.test(block)) continue;
    const name = conf.slice(at, open).trim();
    proxied.push(name);
    assert.match(block, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/, name);
    assert.match(block, /proxy_set_header X-Real-IP \$remote_addr;/, name);
  }
  assert.ok(proxied.some((n) => n.includes('/tv/')) && proxied.some((n) => n.includes('/api/')));

  type Svc = { environment?: Record<string, string>; networks?: { default?: { ipv4_address?: string } } };
  const services = compose.services as Record<string, Svc>;
  const addr = (name: string) => services[name]?.networks?.default?.ipv4_address;
  const [nginx, apiAddr, gateway] = [addr('nginx'), addr('api'), addr('tv-gateway')];
  assert.ok(nginx && apiAddr && gateway, 'nginx, api and tv-gateway have fixed addresses');
  const trusted = (svc: string, schema: typeof ApiConfigSchema | typeof TvGatewayConfigSchema) =>
    schema.shape.TRUST_PROXY.parse(services[svc]!.environment?.['TRUST_PROXY']);
  assert.deepEqual(trusted('api', ApiConfigSchema), [nginx, gateway]);
  assert.deepEqual(trusted('tv-gateway', TvGatewayConfigSchema), [nginx, apiAddr]);
});

test('the deployment is never the demo: the api’s DEMO_MODE is off (the sign-in page shows no demo hint)', () => {
  const env = compose.services['api']!.environment ?? {};
  assert.equal(ApiConfigSchema.shape.DEMO_MODE.parse(env['DEMO_MODE']), false);
});
