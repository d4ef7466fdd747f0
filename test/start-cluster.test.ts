// npm-test: alone
// `npm run start:cluster` as its user meets it: started on a fresh data folder, it prints every role's
// address; through nginx both api processes answer /healthz, the demo student signs in and lists lessons,
// the sample lesson (transcoded from S3 by the cluster's transcoders) plays through the caching edge, both
// sfu nodes beat in the room directory, the TV gateways' M3U answers, the api's /api/tv outlives gateway 1;
// a killed process is reported; and SIGTERM stops it all with nothing left running. Alone: 20-odd
// processes start on two cores.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PlatformStatus, PublicStatus, SFU_DIRECTORY, SfuNodeRecord, type LessonList } from '@sky/contracts';
import { connectRedis } from '@sky/contracts/redis';
import { reserveRtcPorts, until } from '@sky/devkit';

const ROOT = join(import.meta.dirname, '..');
const PORTS = 23; // the cluster's port offsets 0–22 (scripts/start-cluster.ts)
const MARK = 'SKY_START_CLUSTER_TEST';
const mark = randomUUID();
const dataDir = mkdtempSync(join(tmpdir(), 'sky-start-cluster-'));
let output = '';
let errors = '';
let exited: Promise<number | null>;
let child: ReturnType<typeof spawn>;
let base: number;

/** The address start:cluster printed for a role (`  <role>   <url> …`). */
const role = (name: string) => {
  const m = new RegExp(`^ {2}${name.replace(/[+()]/g, '\\$&')}\\s+(\\S+)`, 'm').exec(output);
  assert.ok(m, `start:cluster printed the address of ${name}`);
  return m[1]!;
};

const free = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/** Processes of this machine whose environment carries this test's mark: the cluster's, however deep. */
function marked(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`${MARK}=${mark}`)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The last lines of the edge's and nginx's error logs, for a failure's message. */
function nginxErrors(): string {
  return ['edge', 'nginx']
    .map((d) => {
      try {
        return `--- ${d}\n${readFileSync(join(dataDir, d, 'error.log'), 'utf8')
          .split('\n')
          .slice(-6)
          .join('\n')}`;
      } catch {
        return `--- ${d}: no log`;
      }
    })
    .join('\n')
    .concat(
      ...['api-1', 'api-2'].map((a) => {
        try {
          const lines = readFileSync(join(dataDir, 'logs', `${a}.log`), 'utf8').split('\n');
          return `\n--- ${a}\n${lines
            .filter((l) => /"level":50|"statusCode":5/.test(l))
            .slice(-4)
            .join('\n')}`;
        } catch {
          return '';
        }
      }),
    );
}

before(async () => {
  // 23 consecutive free ports below the ephemeral range (10000–19999, as devkit's freePort)
  base = await until(
    'a free run of ports',
    async () => {
      const b = 10_000 + Math.floor(Math.random() * (10_000 - PORTS));
      for (let i = 0; i < PORTS; i++) if (!(await free(b + i))) return undefined;
      return b;
    },
    10_000,
    0,
  );
  const [rtcMin, rtcMax] = reserveRtcPorts();
  const t0 = performance.now();
  child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start-cluster.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      [MARK]: mark,
      CLUSTER_DATA_DIR: dataDir,
      CLUSTER_PORT_BASE: String(base),
      RTC_MIN_PORT: String(rtcMin),
      RTC_MAX_PORT: String(rtcMax),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await until(
    'start:cluster running',
    async () => {
      if (child.exitCode !== null) return false;
      return output.includes('is running as a cluster') ? true : undefined;
    },
    480_000,
    250,
  ).then(
    (running) => {
      if (!running) throw new Error('start:cluster exited');
    },
    (err: Error) => {
      throw new Error(
        `${err.message}\n--- stdout\n${output.slice(-3000)}\n--- stderr\n${errors.slice(-3000)}`,
      );
    },
  );
  const startSec = (performance.now() - t0) / 1000;
  console.log(
    `[start-cluster] running ${startSec.toFixed(1)} s after launch (first run: sample video, seed)`,
  );
  console.log(
    output
      .split('\n')
      .filter((l) => /up in|healthy in/.test(l))
      .join('\n'),
  );
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  // KEEP_CLUSTER_DATA=1 keeps the data folder and its logs for whoever looks into a failure
  if (process.env['KEEP_CLUSTER_DATA'] === '1') console.log(`[start-cluster] data kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
});

test('both api processes answer /healthz through nginx', async () => {
  const web = role('web + api');
  assert.equal(web, `http://127.0.0.1:${base}`);
  const upstreams = new Set<string>();
  for (let i = 0; i < 12 && upstreams.size < 2; i++) {
    const res = await fetch(`${web}/healthz`);
    assert.equal(res.status, 200, `nginx → api /healthz: ${await res.text()}`);
    upstreams.add(res.headers.get('x-sky-upstream') ?? '');
  }
  assert.equal(upstreams.size, 2, `answers came from ${[...upstreams].join(', ')}`);
});

/** Signs in through nginx as the demo user of a role (npm start's seed writes their logins). */
async function demoSignIn(web: string, who: string): Promise<string> {
  const logins = JSON.parse(readFileSync(join(dataDir, 'demo-logins.json'), 'utf8')) as {
    role: string;
    username: string;
    password: string;
  }[];
  const user = logins.find((l) => l.role === who);
  assert.ok(user, `the demo has a ${who}`);
  const login = await fetch(`${web}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  return ((await login.json()) as { accessToken: string }).accessToken;
}

test('the demo student signs in through nginx, lists lessons, and the sample plays through the edge from S3', async () => {
  const web = role('web + api');
  const edge = role('media edge');
  const accessToken = await demoSignIn(web, 'student');
  const auth = { authorization: `Bearer ${accessToken}` };
  // the sample lesson appears once a transcoder has packaged it (its source went to the bucket, its
  // renditions too)
  const ready = await until(
    'the student sees the sample lesson',
    async () => {
      const r = await fetch(`${web}/api/lessons?limit=20`, { headers: auth });
      assert.equal(r.status, 200);
      return ((await r.json()) as LessonList).items.find((l) => l.status === 'ready');
    },
    300_000,
    2000,
  );
  assert.ok(ready.playbackUrl);
  const master = `${edge}${ready.playbackUrl}`;
  const first = await fetch(master).catch((err: Error) => {
    throw new Error(`${err.message} (${String(err.cause)})\n${nginxErrors()}`);
  });
  assert.equal(first.status, 200, `${await first.clone().text()}\n${nginxErrors()}`);
  assert.match(first.headers.get('x-cache-status') ?? '', /MISS|HIT|EXPIRED|UPDATING|STALE/);
  const text = await first.text();
  assert.match(text, /^#EXTM3U/);
  const variant = text.split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(variant, 'the master playlist names a variant');
  const variantUrl = new URL(variant, master).href;
  const playlist = await (await fetch(variantUrl)).text();
  const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(segment, 'the variant lists segments');
  const segUrl = new URL(segment, variantUrl).href;
  const a = await fetch(segUrl).catch((err: Error) => {
    throw new Error(`${err.message} (${String(err.cause)})\n${nginxErrors()}`);
  });
  assert.equal(a.status, 200, nginxErrors());
  const bytes = Buffer.from(await a.arrayBuffer());
  assert.ok(bytes.length > 1000, `a segment of ${bytes.length} bytes`);
  const b = await fetch(segUrl);
  assert.equal(b.headers.get('x-cache-status'), 'HIT', 'the edge answers a segment again from its cache');
  assert.deepEqual(Buffer.from(await b.arrayBuffer()), bytes);
});

test('both sfu nodes beat in the room directory at their own public address', async () => {
  const sentinels = role('sentinels').split(',');
  const master = /master name (\w+)/.exec(output)?.[1];
  assert.ok(master);
  const redis = connectRedis(
    {
      sentinels: sentinels.map((s) => ({ host: s.split(':')[0]!, port: Number(s.split(':')[1]) })),
      master,
    },
    { maxRetriesPerRequest: 2 },
  );
  try {
    const urls = await until(
      'both sfu nodes in the directory',
      async () => {
        const ids = await redis.smembers(SFU_DIRECTORY.nodes('sky'));
        const raws = ids.length ? await redis.mget(ids.map((id) => SFU_DIRECTORY.node('sky', id))) : [];
        const recs = raws.flatMap((r) => (r ? [SfuNodeRecord.parse(JSON.parse(r))] : []));
        const beating = recs.filter((r) => Date.now() - r.beatAt < 5000).map((r) => r.publicUrl);
        return beating.length === 2 ? beating.sort() : undefined;
      },
      30_000,
      250,
    );
    assert.deepEqual(urls, [role('sfu-1'), role('sfu-2')].sort());
  } finally {
    redis.disconnect();
  }
});

test('the status page shows each sfu node and each transcoder, all up, to an admin; counts to anyone', async () => {
  const web = role('web + api');
  const accessToken = await demoSignIn(web, 'admin');
  const detail = await until(
    'two sfu nodes and two transcoders up on the status page',
    async () => {
      const r = await fetch(`${web}/api/status/detail`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const d = PlatformStatus.parse(await r.json());
      const of = (service: string) => d.services.filter((s) => s.service === service && s.ok);
      return of('sfu').length === 2 && of('transcoder').length === 2 ? d : undefined;
    },
    30_000,
    500,
  );
  const sfu = detail.services.filter((s) => s.service === 'sfu');
  assert.equal(new Set(sfu.map((s) => s.node)).size, 2, 'each sfu node by its own name');
  assert.ok(
    sfu.every((s) => s.report?.node === s.node),
    'each answered for itself',
  );
  const transcoders = detail.services.filter((s) => s.service === 'transcoder');
  assert.equal(new Set(transcoders.map((s) => s.node)).size, 2, 'each transcoder worker by its own name');
  const pub = PublicStatus.parse(await (await fetch(`${web}/api/status`)).json());
  const by = Object.fromEntries(pub.services.map((s) => [s.service, s]));
  assert.deepEqual(by['sfu']?.nodes, { up: 2, total: 2 });
  assert.deepEqual(by['transcoder']?.nodes, { up: 2, total: 2 });
});

test('the web app nginx serves may open its live socket at either sfu node (its CSP names both)', async () => {
  const res = await fetch(`${role('web + api')}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<div id="root">|<script/);
  const csp = /connect-src ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')?.[1] ?? '';
  for (const sfu of [role('sfu-1'), role('sfu-2')]) {
    assert.ok(csp.split(' ').includes(sfu), `connect-src names ${sfu}: ${csp}`);
    assert.ok(csp.split(' ').includes(sfu.replace(/^http/, 'ws')), `connect-src names its websocket: ${csp}`);
  }
});

test('the TV gateways’ channel list answers through nginx, pointing boxes at nginx', async () => {
  const tv = role('TV (10-foot)');
  const res = await fetch(`${tv}channels.m3u`);
  assert.equal(res.status, 200);
  const m3u = await res.text();
  assert.match(m3u, /^#EXTM3U/);
  assert.ok(m3u.includes(`${tv}channels/`), 'channel playlists are addressed through nginx');
});

/** The process listening on a role's port (start:cluster's own child). */
const processOf = (script: string, port: number) =>
  marked().find(
    (p) =>
      p.includes(script) &&
      readFileSync(`/proc/${p.split(' ')[0]}/environ`, 'utf8').includes(`\0PORT=${port}\0`),
  );

/** SIGKILLs a role's process (`script` on `port`) and waits until start:cluster reports its death. */
async function killRole(name: string, script: string, port: number): Promise<void> {
  const victim = processOf(script, port);
  assert.ok(victim, `${name} runs`);
  process.kill(Number(victim.split(' ')[0]), 'SIGKILL');
  await until(
    'the death reported',
    async () => (errors.includes(`${name} exited`) ? true : undefined),
    10_000,
  );
}

test('the api’s /api/tv reaches a TV gateway after the first one dies', async () => {
  const web = role('web + api');
  const m3u = async () => {
    const res = await fetch(`${web}/api/tv/channels.m3u`);
    return { status: res.status, body: await res.text() };
  };
  const before = await m3u();
  assert.equal(before.status, 200, before.body);
  // tv-gateway-1 listens at the base + 9 (scripts/start-cluster.ts)
  await killRole('tv-gateway-1', 'tv-gateway/dist/src/main.js', base + 9);
  for (let i = 0; i < 6; i++) {
    const res = await m3u();
    assert.equal(res.status, 200, `call ${i + 1} after tv-gateway-1 died: ${res.body}`);
    assert.match(res.body, /^#EXTM3U/);
  }
});

test('a process that dies is reported, and SIGTERM stops everything with nothing left running', async () => {
  const transcoder2 = Number(new URL(role('transcoder-2')).port);
  // a SIGKILL leaves what it started (an ffmpeg mid-job) behind: the launcher takes that down too
  await killRole('transcoder-2', 'transcoder/dist/src/main.js', transcoder2);

  const t0 = performance.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
  console.log(`[start-cluster] stopped ${((performance.now() - t0) / 1000).toFixed(1)} s after SIGTERM`);
  assert.equal(code, 0, `start:cluster ended with ${code}:\n${errors.slice(-2000)}`);
  assert.match(output, /stopped; nothing left running/);
  // its own stop, not the watchdog's (which SIGKILLs what a launcher leaves once it has gone): nothing
  // of it runs the moment it has exited
  const left = marked().filter((p) => !p.includes('reaper-watch'));
  assert.deepEqual(left, [], 'no mongod, redis, swift, nginx or service process is left');
  for (let i = 0; i < PORTS; i++) assert.equal(await answers(base + i), false, `port ${base + i} is closed`);
});
