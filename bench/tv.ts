// The lineup under a flood of set-top boxes: the M3U, the XMLTV guide and a live channel playlist,
// served by the real gateway (over the real curriculum service with this week's demo plan scheduled),
// each against nginx serving the very same bytes as static files. Load comes from autocannon in a
// separate process, one target at a time, gateway and nginx in alternating slices after a warm-up.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Lesson } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import {
  freePort,
  startLocalInfra,
  startProcess,
  waitForPort,
  type LocalInfra,
  type Managed,
} from '@sky/devkit';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { pino } from 'pino';
import { createApp as createCurriculum } from '../curriculum/src/app.js';
import { weekStart } from '../curriculum/src/services/calendar.js';
import { generatePlan } from '../curriculum/src/services/plan-generator.js';
import type { MediaSource } from '../tv-gateway/src/adapters/api.client.js';
import { createApp as createGateway } from '../tv-gateway/src/app.js';
import { loadConfig } from '../tv-gateway/src/config.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 2);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
const TARGET_RATIO = 0.5;
const SECRET = 'bench-secret-that-is-at-least-32-characters';
const TARGETS = {
  m3u: '/channels.m3u',
  guide: '/guide.xml',
  playlist: '/channels/tv-p1/720p.m3u8',
} as const;

const work = mkdtempSync(join(tmpdir(), 'sky-bench-tv-'));
const log = (msg: string) => console.log(`[bench] ${msg}`);
/** Everything started, stopped in reverse order at the end, each step bounded. */
const stops: { name: string; stop: () => Promise<unknown> }[] = [];
const bounded = (p: Promise<unknown>, ms: number) =>
  Promise.race([p, new Promise((resolve) => setTimeout(resolve, ms).unref())]);

/** One lesson rendition of 100 six-second segments stands in for every recorded lesson. */
function fakeMedia(mediaUrl: string): MediaSource {
  const lesson: Lesson = {
    id: 'bench-lesson',
    title: '认识钟表',
    grade: 'p1',
    subject: 'math',
    teacherId: 't001',
    status: 'ready',
    createdAt: new Date().toISOString(),
  };
  const segments = Array.from({ length: 100 }, (_, i) => ({
    url: `${mediaUrl}/media/lessons/bench-lesson/v1/tv/720p/seg_${String(i).padStart(5, '0')}.ts`,
    durationSec: 6,
  }));
  const rendition = { height: 720, bandwidth: 2_600_000, codecs: ['avc1.640028', 'mp4a.40.2'], segments };
  return { lessonMedia: async () => ({ lesson, renditions: [rendition] }) };
}

interface Run {
  rps: number;
  /** The load generator's own CPU over the slice, in % of one core (autocannon is single-threaded). */
  loadCpuPct: number;
  /** The server's CPU over the slice, in % of one core. */
  serverCpuPct: number;
  p99_ms: number;
  requests: number;
  /** CPU seconds the server spent during the run. */
  cpuSec: number;
  errors: number;
  non2xx: number;
}

interface Server {
  url: string;
  /** CPU seconds used so far (user + system). */
  cpuSec: () => number;
}

/** Our own process: the gateway (the curriculum service beside it idles, its programmes cached). */
const ownCpuSec = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A process and its children (nginx's master and worker), from /proc in clock ticks. */
function treeCpuSec(pid: number, ticksPerSec: number): number {
  const stat = (p: string) => {
    try {
      const text = readFileSync(`/proc/${p}/stat`, 'utf8');
      return text.slice(text.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined; // gone meanwhile
    }
  };
  let ticks = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const f = stat(p);
    // fields after the command: state, ppid, … utime (12th), stime (13th)
    if (f && (Number(p) === pid || Number(f[1]) === pid)) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / ticksPerSec;
}

/**
 * autocannon in a child process that also reports its own CPU time: a load generator near 100 % of its
 * core sets the pace, and then only CPU per request tells the servers apart.
 */
const CANNON_SCRIPT = `
import autocannon from ${JSON.stringify(AUTOCANNON)};
const [url, connections, duration] = process.argv.slice(1);
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const result = await autocannon({ url, connections: Number(connections), duration: Number(duration) });
const cpu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ result, cpuSec: (cpu.user + cpu.system) / 1e6, wallSec: wall }));
`;

/** One autocannon run, in a child process. */
async function cannon(server: Server, seconds: number): Promise<Run> {
  const cpu0 = server.cpuSec();
  const t0 = Date.now();
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', CANNON_SCRIPT, server.url, String(CONNECTIONS), String(seconds)],
    { timeout: (seconds + 30) * 1000, maxBuffer: 16 * 1024 * 1024 },
  );
  const cpuSec = server.cpuSec() - cpu0;
  const wallSec = (Date.now() - t0) / 1000;
  const out = JSON.parse(stdout) as { result: unknown; cpuSec: number; wallSec: number };
  const r = out.result as {
    requests: { average: number; total: number };
    latency: { p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    rps: r.requests.average,
    loadCpuPct: (out.cpuSec / out.wallSec) * 100,
    serverCpuPct: (cpuSec / wallSec) * 100,
    p99_ms: r.latency.p99,
    requests: r.requests.total,
    cpuSec,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Both servers under the same load in alternating slices (after a warm-up of each), so that a noisy
 * neighbour slowing the machine for a while weighs on both alike; medians over the slices. CPU per
 * request tells the servers apart even when the load generator, not the server, sets the pace.
 */
async function compare(a: Server, b: Server) {
  const slice = Math.max(1, Math.round(SECONDS / ROUNDS));
  if (WARMUP_SECONDS > 0) for (const server of [a, b]) await cannon(server, WARMUP_SECONDS);
  const runs: [Run[], Run[]] = [[], []];
  for (let i = 0; i < ROUNDS; i++) {
    runs[0].push(await cannon(a, slice));
    runs[1].push(await cannon(b, slice));
  }
  const sum = (rs: Run[], f: (r: Run) => number) => rs.reduce((n, r) => n + f(r), 0);
  return runs.map((rs) => ({
    rps: Math.round(median(rs.map((r) => r.rps))),
    load_cpu_pct: Math.round(median(rs.map((r) => r.loadCpuPct))),
    server_cpu_pct: Math.round(median(rs.map((r) => r.serverCpuPct))),
    p99_ms: median(rs.map((r) => r.p99_ms)),
    cpu_us_per_req: Number(((sum(rs, (r) => r.cpuSec) / sum(rs, (r) => r.requests)) * 1e6).toFixed(1)),
    errors: sum(rs, (r) => r.errors),
    non2xx: sum(rs, (r) => r.non2xx),
    slices: rs.map((r) => Math.round(r.rps)),
  })) as [Comparison, Comparison];
}
type Comparison = Pick<Run, 'rps' | 'p99_ms' | 'errors' | 'non2xx'> & {
  cpu_us_per_req: number;
  load_cpu_pct: number;
  server_cpu_pct: number;
  slices: number[];
};

function nginxConf(dir: string, port: number): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  types {
    audio/x-mpegurl m3u;
    application/xml xml;
    application/vnd.apple.mpegurl m3u8;
  }
  charset utf-8;
  charset_types audio/x-mpegurl application/xml application/vnd.apple.mpegurl;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/html;
    add_header cache-control "public, max-age=300";
  }
}
`;
}

let exitCode = 0;
try {
  log('starting mongod and redis-server…');
  const infra: LocalInfra = await startLocalInfra({ cacheGb: 0.25 });
  stops.push({ name: 'infra', stop: () => infra.close() });
  const prefix = `bench${process.pid}`;
  const redis: Redis[] = [];
  const connect = () => {
    const c = new Redis(infra.redis.url);
    redis.push(c);
    return c;
  };
  stops.push({ name: 'redis clients', stop: async () => redis.forEach((c) => c.disconnect()) });
  const mongo: Connection = await mongoose.createConnection(infra.mongo.uriFor(prefix)).asPromise();
  stops.push({ name: 'mongo connection', stop: () => mongo.close() });
  const tokens = createTokenIssuer(SECRET, 600);
  const logger = pino({ level: 'warn' });

  const curriculum = await createCurriculum({
    logger,
    mongo,
    redis: connect(),
    redisPrefix: prefix,
    verify: (t) => tokens.verify(t),
    version: 'bench',
  });
  stops.push({ name: 'curriculum', stop: () => curriculum.close() });
  await curriculum.http.listen({ host: '127.0.0.1', port: 0 });
  const curriculumUrl = `http://127.0.0.1:${(curriculum.http.server.address() as { port: number }).port}`;
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const generated = generatePlan({ startDate: weekStart(today) });
  // Recorded lessons point at the one fake rendition, so channels stitch lessons between slates.
  const plan = {
    ...generated,
    lessons: generated.lessons.map((l) =>
      l.recording === 'ready' ? { ...l, vodLessonId: 'bench-lesson' } : l,
    ),
  };
  await curriculum.schedule.replacePlan(plan, 'bench');
  const built = await curriculum.schedule.build('bench');
  log(`plan from ${plan.term.startDate}: ${built.lessons} lessons scheduled in ${Math.round(built.ms)} ms`);

  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const gateway = await createGateway({
    config: loadConfig({
      CURRICULUM_URL: curriculumUrl,
      API_URL: 'http://127.0.0.1:9', // not asked: media comes from the fake source
      PUBLIC_URL: gatewayUrl,
      REDIS_URL: infra.redis.url,
      REDIS_PREFIX: prefix,
      JWT_SECRET: SECRET,
      CACHE_DIR: join(work, 'cache'),
      LOG_LEVEL: 'warn',
    }),
    logger,
    version: 'bench',
    redis: connect(),
    subscriber: connect(),
    verifyUser: (t) => tokens.verify(t),
    media: fakeMedia('http://media.example.cn'),
  });
  stops.push({ name: 'gateway', stop: () => gateway.close() });
  await gateway.http.listen({ host: '127.0.0.1', port: gatewayPort });

  // The same bytes for nginx, fetched from the gateway.
  const root = join(work, 'nginx');
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const bodies: Record<keyof typeof TARGETS, Buffer> = {
    m3u: Buffer.alloc(0),
    guide: Buffer.alloc(0),
    playlist: Buffer.alloc(0),
  };
  for (const [name, path] of Object.entries(TARGETS) as [keyof typeof TARGETS, string][]) {
    const res = await fetch(`${gatewayUrl}${path}`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    bodies[name] = Buffer.from(await res.arrayBuffer());
    const file = join(root, 'html', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bodies[name]);
  }
  // The guide as served must pass the XMLTV validator too.
  const guideCheck = await run('tv_validate_file', [
    '--dtd-file',
    '/usr/share/xmltv/xmltv.dtd',
    join(root, 'html', 'guide.xml'),
  ]).then(
    () => 'Validated ok',
    (err: { stdout?: string }) => (err.stdout ?? 'failed').trim(),
  );
  log(`guide.xml: ${guideCheck}`);
  const onAir = /\/slate\//.test(bodies.playlist.toString()) ? 'slate' : 'lesson';

  // nginx's workers may run as another user when we are root: let them read the folder.
  for (const d of [work, root]) chmodSync(d, 0o755);
  const nginxPort = await freePort();
  writeFileSync(join(root, 'nginx.conf'), nginxConf(root, nginxPort));
  const nginx: Managed = startProcess(
    'nginx',
    'nginx',
    ['-p', root, '-e', join(root, 'error.log'), '-c', join(root, 'nginx.conf')],
    {
      logFile: join(work, 'nginx.out'),
    },
  );
  stops.push({ name: 'nginx', stop: () => nginx.stop(5000) });
  await waitForPort(nginxPort, 10_000).catch((err: unknown) => {
    throw new Error(`nginx did not start: ${String(err)}\n${readFileSync(join(root, 'error.log'), 'utf8')}`);
  });
  const nginxUrl = `http://127.0.0.1:${nginxPort}`;
  for (const [name, path] of Object.entries(TARGETS) as [keyof typeof TARGETS, string][]) {
    const same = Buffer.from(await (await fetch(`${nginxUrl}${path}`)).arrayBuffer());
    if (!same.equals(bodies[name])) throw new Error(`nginx does not serve the same ${path}`);
  }

  const ticksPerSec = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const nginxPid = nginx.child.pid!;
  const results: Record<string, unknown> = {};
  let allMet = true;
  for (const [name, path] of Object.entries(TARGETS) as [keyof typeof TARGETS, string][]) {
    log(`${path}: gateway and nginx, ${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} slices…`);
    const [ours, theirs] = await compare(
      { url: `${gatewayUrl}${path}`, cpuSec: ownCpuSec },
      { url: `${nginxUrl}${path}`, cpuSec: () => treeCpuSec(nginxPid, ticksPerSec) },
    );
    const ratio = Number((ours.rps / theirs.rps).toFixed(2));
    // the headline: nginx's CPU per request over ours, what the rps ratio would be were both saturated
    const cpuRatio = Number((theirs.cpu_us_per_req / ours.cpu_us_per_req).toFixed(2));
    if (cpuRatio < TARGET_RATIO || ours.errors + ours.non2xx > 0) allMet = false;
    results[name] = {
      path,
      cpu_ratio: cpuRatio,
      bytes: bodies[name].length,
      rps: ours.rps,
      nginx_rps: theirs.rps,
      ratio,
      p99_ms: ours.p99_ms,
      nginx_p99_ms: theirs.p99_ms,
      cpu_us_per_req: ours.cpu_us_per_req,
      nginx_cpu_us_per_req: theirs.cpu_us_per_req,
      // the load generator (one core at most) against the servers' CPU, medians over the slices
      load_cpu_pct: ours.load_cpu_pct,
      nginx_load_cpu_pct: theirs.load_cpu_pct,
      server_cpu_pct: ours.server_cpu_pct,
      nginx_server_cpu_pct: theirs.server_cpu_pct,
      load_bound: ours.load_cpu_pct >= 90 || theirs.load_cpu_pct >= 90,
      errors: ours.errors,
      non2xx: ours.non2xx,
      rps_slices: ours.slices,
      nginx_rps_slices: theirs.slices,
      ...(name === 'playlist' ? { on_air: onAir } : {}),
      ...(name === 'guide' ? { tv_validate_file: guideCheck } : {}),
    };
  }
  const result = {
    connections: CONNECTIONS,
    seconds: SECONDS,
    slices: ROUNDS,
    cpus: availableParallelism(),
    node: process.version,
    nginx: (await run('nginx', ['-v'])).stderr.trim().replace('nginx version: ', ''),
    plan: { startDate: plan.term.startDate, lessons: built.lessons },
    ...results,
    target: `each cpu_ratio ≥ ${TARGET_RATIO}, no errors`,
    note:
      'headline: cpu_ratio = nginx CPU µs per request / gateway CPU µs per request, same bytes, same load, ' +
      'alternating slices (gateway: its whole process; nginx: master + worker). rps and its ratio are ' +
      'secondary: on 2 cores the load generator (autocannon, single-threaded) shares the machine, so ' +
      'load_cpu_pct (its own CPU, % of one core) says whether it set the pace (load_bound when ≥ 90 %); ' +
      'server_cpu_pct is the server’s CPU over the same slices.',
  };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'tv.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  if (!allMet) exitCode = 1;
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  for (const s of stops.reverse()) {
    await bounded(
      s.stop().catch((err: unknown) => console.error(`[bench] stopping ${s.name}: ${String(err)}`)),
      15_000,
    );
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
