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
      CASCADE_SECRET: 'c'.repeat(40),
      S3_ACCESS_KEY_ID: 'sky-admin',
      S3_SECRET_ACCESS_KEY: 's'.repeat(20),
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

test('the data services are a 3-member MongoDB 7 replica set rs0 with an init step, Redis 7 and nginx', () => {
  const members = ['mongo-1', 'mongo-2', 'mongo-3'];
  for (const m of members) {
    assert.equal(compose.services[m]?.image, 'mongo:7', m);
    assert.ok(compose.services[m]?.command?.includes('rs0'), `${m} runs as a member of rs0`);
  }
  const init = JSON.stringify(compose.services['mongo-init']?.command);
  assert.match(init, /rs\.initiate/);
  for (const m of members) assert.ok(init.includes(`${m}:27017`), `mongo-init makes ${m} a member`);
  assert.equal(compose.services['redis']?.image, 'redis:7');
  assert.ok(compose.services['nginx']);
});

const env = (svc: string) => compose.services[svc]?.environment ?? {};
const hostsOf = (list: string) => list.split(',').map((h) => h.split(':')[0]!);

test('every service that uses Mongo has the whole replica set; every Redis user but the sfu has the sentinels', () => {
  for (const name of Object.keys(SCHEMAS)) {
    const e = env(name);
    if (e['MONGODB_URI']) {
      assert.match(e['MONGODB_URI'], /[?&]replicaSet=rs0(&|$)/, `${name}: replicaSet=rs0`);
      const hosts = hostsOf(/^mongodb:\/\/([^/]+)/.exec(e['MONGODB_URI'])![1]!);
      assert.deepEqual(hosts, ['mongo-1', 'mongo-2', 'mongo-3'], `${name} lists every member`);
    }
    // the sfu runs on the host network, where container names do not resolve (README: Deployment)
    if (name === 'sfu') continue;
    assert.equal(e['REDIS_URL'], undefined, `${name} follows a failover: Sentinel, not one Redis`);
    const sentinels = hostsOf(e['REDIS_SENTINELS'] ?? '');
    assert.equal(sentinels.length, 3, `${name} knows the 3 sentinels`);
    for (const s of sentinels) {
      const command = (compose.services[s]?.command ?? []).join(' ');
      assert.match(command, /--sentinel/, `${s} is a sentinel`);
      assert.ok(
        command.includes(`sentinel monitor ${e['REDIS_SENTINEL_MASTER']} redis 6379`),
        `${s} watches the master ${name} asks for`,
      );
    }
  }
  const replica = (compose.services['redis-replica']?.command ?? []).join(' ');
  assert.match(replica, /--replicaof redis 6379/);
  assert.equal(env('api')['ANALYTICS_REPLICA_ACKS'], '1', 'beacons wait for the replica');
});

test('lessons live in the S3 bucket: api and transcoders use the store compose runs and creates the bucket of', () => {
  for (const name of ['api', 'transcoder']) {
    const e = env(name);
    const host = new URL(e['S3_ENDPOINT'] ?? 'http://none').hostname;
    assert.ok(compose.services[host], `${name}'s S3_ENDPOINT is a compose service (${host})`);
    assert.equal(compose.services[host]?.image, 'minio/minio');
    assert.ok(
      JSON.stringify(compose.services['minio-init']?.command).includes(`sky/${e['S3_BUCKET']}`),
      `minio-init creates ${name}'s bucket`,
    );
  }
  assert.equal(env('transcoder')['MEDIA_DIR'], undefined, 'transcoders share the bucket, not a folder');
});

test('the api publishes no port (nginx is the way in) and the sfu reaches it through nginx', () => {
  const services = compose.services as Record<string, { ports?: string[] }>;
  assert.equal(services['api']?.ports, undefined);
  assert.ok(services['nginx']?.ports?.some((p) => p.endsWith(':80')));
  // nginx's published port 80, on the host network the sfu shares
  assert.equal(new URL(env('sfu')['API_URL'] ?? '').origin, 'http://127.0.0.1');
  assert.ok((env('sfu')['CASCADE_SECRET'] ?? '').length > 0, 'more sfu nodes can join the directory');
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
