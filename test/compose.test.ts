import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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

/**
 * A value as compose interpolates it: ${VAR:-default} falls back (the default may itself be a ${…}),
 * ${VAR:?msg} needs the .env value. Innermost first.
 */
function interpolate(value: string, dotenv: Record<string, string>): string {
  for (let v = value; ;) {
    const next = v.replace(
      /\$\{(\w+)(?::-([^{}]*))?[^{}]*\}/g,
      (_m, n: string, fallback: string | undefined) => dotenv[n] ?? fallback ?? '',
    );
    if (next === v) return v;
    v = next;
  }
}

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
      Object.entries(env).map(([k, v]) => [k, interpolate(String(v), dotenv)]),
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

test('every service that uses Mongo has the whole replica set; every Redis user has the sentinels', () => {
  for (const name of Object.keys(SCHEMAS)) {
    const e = env(name);
    if (e['MONGODB_URI']) {
      assert.match(e['MONGODB_URI'], /[?&]replicaSet=rs0(&|$)/, `${name}: replicaSet=rs0`);
      const hosts = hostsOf(/^mongodb:\/\/([^/]+)/.exec(e['MONGODB_URI'])![1]!);
      assert.deepEqual(hosts, ['mongo-1', 'mongo-2', 'mongo-3'], `${name} lists every member`);
    }
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

test('lessons, live HLS and the TV slate live in the S3 bucket: api, transcoders, sfu and TV gateways use the store compose runs and creates the bucket of', () => {
  for (const name of ['api', 'transcoder', 'sfu', 'tv-gateway']) {
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

type Ports = { ports?: string[]; network_mode?: string; volumes?: string[] };
const services = compose.services as Record<string, Ports & { environment?: Record<string, string> }>;

test('the api publishes no port (nginx is the way in); the sfu, on the compose network, publishes its RTC range as it is', () => {
  assert.equal(services['api']?.ports, undefined);
  assert.ok(services['nginx']?.ports?.some((p) => p.endsWith(':80')));
  const sfu = services['sfu']!;
  assert.equal(sfu.network_mode, undefined, 'not the host network: the sentinels and MinIO resolve');
  assert.equal(new URL(env('sfu')['API_URL'] ?? '').host, 'api:8080');
  assert.equal(new URL(env('api')['SFU_URL'] ?? '').host, `sfu:${env('sfu')['PORT']}`);
  const range = `${env('sfu')['RTC_MIN_PORT']}-${env('sfu')['RTC_MAX_PORT']}`;
  // ICE announces the port the node bound: published at the same number, udp and tcp
  for (const proto of ['udp', 'tcp'])
    assert.ok(
      sfu.ports?.includes(`${range}:${range}/${proto}`),
      `${range}/${proto} published: ${(sfu.ports ?? []).join(', ')}`,
    );
  assert.ok(sfu.ports?.includes(`${env('sfu')['PORT']}:${env('sfu')['PORT']}`), 'browsers reach socket.io');
  assert.ok((env('sfu')['CASCADE_SECRET'] ?? '').length > 0, 'more sfu nodes can join the directory');
});

test('nginx sends /media/lessons/ and /media/live/ to the api (the bucket) and mounts no media volume', () => {
  const conf = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  for (const prefix of ['/media/lessons/', '/media/live/']) {
    const at = conf.indexOf(`location ${prefix} {`);
    assert.ok(at > 0, `deploy/nginx.conf has location ${prefix}`);
    assert.match(conf.slice(at, conf.indexOf('}', at)), /proxy_pass http:\/\/api:8080;/, prefix);
  }
  assert.ok(!(services['nginx']?.volumes ?? []).some((v) => v.startsWith('media:')));
});

test('nginx’s pages name the same sfu nodes as the api: its entrypoint sources deploy/nginx-csp.envsh', () => {
  const mounts = services['nginx']?.volumes ?? [];
  const script = mounts.find((v) => v.startsWith('./deploy/nginx-csp.envsh:'));
  // the image's entrypoint sources /docker-entrypoint.d/*.envsh that are executable, before the templates
  assert.match(script ?? '', /:\/docker-entrypoint\.d\/1\d-[\w-]+\.envsh:ro$/);
  assert.ok(statSync(join(ROOT, 'deploy', 'nginx-csp.envsh')).mode & 0o111, 'the script is executable');
  const tree = execFileSync('git', ['ls-files', '-s', 'deploy/nginx-csp.envsh'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.match(tree, /^100755 /, 'git keeps it executable (a checkout mounts it as it is)');
  // as an operator's .env fills them in, with and without more nodes
  for (const dotenv of [
    { SFU_PUBLIC_URL: 'http://203.0.113.7:8081' },
    {
      SFU_PUBLIC_URL: 'http://203.0.113.7:8081',
      SFU_PUBLIC_URLS: 'http://203.0.113.7:8081,http://203.0.113.8:8081',
    },
  ])
    for (const k of ['SFU_PUBLIC_URL', 'SFU_PUBLIC_URLS']) {
      const [fromNginx, fromApi] = ['nginx', 'api'].map((svc) => interpolate(env(svc)[k] ?? '', dotenv));
      assert.ok(fromApi, `the api's ${k} is set`);
      assert.equal(fromNginx, fromApi, `nginx and the api get the same ${k}`);
    }
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
