// npm run start:cluster: the platform as a cluster on one machine — a 3-member Mongo replica set, Redis
// with Sentinel, Swift as the S3 store, 2 api processes behind nginx, 2 cascaded sfu nodes, 2 transcoders,
// 2 TV gateways and a caching edge — each service wired to them through its own config (src/config.ts).
// Data under .data/cluster/ (CLUSTER_DATA_DIR), on ports from CLUSTER_PORT_BASE (default 18000), both kept.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  edgeConf,
  generateSampleVideo,
  originConf,
  startNginxHttp,
  startProcess,
  startReplicaSet,
  startS3,
  startSentinelRedis,
  tieChildrenToLife,
  type Managed,
  type Nginx,
  type ReplicaSet,
  type S3Stack,
  type SentinelRedis,
} from '@sky/devkit';
import { linkDemoLive, linkDemoMedia } from './demo.ts';
import { ROOT, setupEnv } from './lib.ts';

const t0 = performance.now();
const env = process.env;
const DATA = env['CLUSTER_DATA_DIR'] ?? join(ROOT, '.data', 'cluster');
const LOGS = join(DATA, 'logs');
for (const d of [DATA, LOGS]) mkdirSync(d, { recursive: true });
const say = (msg: string) => console.log(`\x1b[1;34m[sky-cluster]\x1b[0m ${msg}`);
const warn = (msg: string) => console.error(`\x1b[1;31m[sky-cluster] ${msg}\x1b[0m`);
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);

// Killed in any way (SIGKILL included), the cluster's processes go with this launcher.
tieChildrenToLife();

/**
 * Every port is the base plus a fixed offset. The replica set's members and Swift's rings name their
 * ports, so a data folder keeps the base it was made with.
 */
const OFFSET = {
  web: 0,
  edge: 1,
  api: [2, 3],
  sfu: [4, 5],
  curriculum: 6,
  transcoder: [7, 8],
  tvGateway: [9, 10],
  mongo: [11, 12, 13],
  // master, replica, 3 sentinels
  redis: [14, 15, 16, 17, 18],
  // proxy, account, container, object
  swift: [19, 20, 21, 22],
} as const;
const portsFile = join(DATA, 'ports.json');
const keptBase = existsSync(portsFile)
  ? (JSON.parse(readFileSync(portsFile, 'utf8')) as { base: number }).base
  : undefined;
const base = keptBase ?? Number(env['CLUSTER_PORT_BASE'] ?? 18000);
if (env['CLUSTER_PORT_BASE'] && keptBase !== undefined && Number(env['CLUSTER_PORT_BASE']) !== keptBase) {
  warn(`${DATA} was made on ports from ${keptBase}: unset CLUSTER_PORT_BASE, or remove the folder`);
  process.exit(1);
}
writeFileSync(portsFile, JSON.stringify({ base }) + '\n');
const at = (offset: number) => base + offset;
const url = (offset: number) => `http://127.0.0.1:${at(offset)}`;
const WEB = url(OFFSET.web);
const EDGE = url(OFFSET.edge);
const TV_PUBLIC = `${WEB}/tv`;
const [rtcMin, rtcMax] = [Number(env['RTC_MIN_PORT'] ?? 40000), Number(env['RTC_MAX_PORT'] ?? 40999)];
const rtcHalf = Math.floor((rtcMax - rtcMin + 1) / 2);

let stopping = false;
let rs: ReplicaSet | undefined;
let redis: SentinelRedis | undefined;
let s3: S3Stack | undefined;
const nginxes: Nginx[] = [];
const services: { role: string; process: Managed }[] = [];

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  say('stopping…');
  // the front first (no new requests), then the services, then the engines they use
  await Promise.all(nginxes.map((n) => n.process.stop(3000)));
  await Promise.all(services.map((s) => s.process.stop(8000)));
  await Promise.all([redis?.close(), s3?.close(), rs?.close()]);
  say(`stopped; nothing left running (${secs()} s)`);
  process.exit(code);
}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => void stopAll(0));

/** A cluster carries on without one process: its death is reported, and the others keep running. */
function report(role: string, proc: Managed, log: string): void {
  void proc.exited.then((code) => {
    if (!stopping) warn(`${role} exited (code ${code}); the others keep running; see ${log}`);
  });
}

function secret(file: string): string {
  const path = join(DATA, file);
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

async function healthy(role: string, base: string, timeoutMs: number, log: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${role} /healthz is not 200 after ${timeoutMs / 1000} s; see ${log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Until nginx has answered /healthz from every api process: one refused while it started is left out of
 * nginx's rotation for a moment (fail_timeout), and "running" should mean the front door reaches all.
 */
async function frontReachesAll(web: string, apis: string[], timeoutMs: number, log: string): Promise<void> {
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (!apis.every((a) => seen.has(a))) {
    if (Date.now() > deadline)
      throw new Error(
        `nginx reached only ${[...seen].join(', ') || 'no api'} of ${apis.join(', ')}; see ${log}`,
      );
    const res = await fetch(`${web}/healthz`).catch(() => undefined);
    // X-Sky-Upstream lists every process nginx tried; the last one answered
    const answered = res?.ok ? res.headers.get('x-sky-upstream')?.split(',').at(-1)?.trim() : undefined;
    await res?.arrayBuffer();
    if (answered) seen.add(answered);
    else await new Promise((r) => setTimeout(r, 250));
    if (!apis.every((a) => seen.has(a))) await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  say(`starting the engines (data in ${DATA}, ports from ${base})`);
  const [mongoUp, redisUp, s3Up] = await Promise.allSettled([
    startReplicaSet(join(DATA, 'mongo'), {
      ports: OFFSET.mongo.map(at),
      keepData: true,
      logDir: LOGS,
    }),
    startSentinelRedis(join(DATA, 'redis'), { ports: OFFSET.redis.map(at), persist: true }),
    startS3({
      dir: join(DATA, 'swift'),
      ports: OFFSET.swift.map(at) as [number, number, number, number],
    }),
  ]);
  if (mongoUp.status === 'fulfilled') rs = mongoUp.value;
  if (redisUp.status === 'fulfilled') redis = redisUp.value;
  if (s3Up.status === 'fulfilled') s3 = s3Up.value;
  for (const r of [mongoUp, redisUp, s3Up]) if (r.status === 'rejected') throw r.reason;
  if (!rs || !redis || !s3) throw new Error('an engine did not start');
  say(`engines up in ${secs()} s: mongod ×3 (rs0), redis + replica + 3 sentinels, swift (s3api)`);
  rs.members.forEach((m, i) => report(`mongod-${i}`, m.process, join(LOGS, `mongod-${i}.log`)));
  for (const p of [redis.master, redis.replica, ...redis.sentinels])
    report(p.name, p, join(DATA, 'redis', `${p.name}.log`));
  for (const p of s3.processes) report(p.name, p, join(DATA, 'swift', `${p.name.slice(6)}.log`));

  const bucket = await s3.createBucket('sky-media');
  const store = s3.store(bucket);
  // The demo lesson's source, where the api's seed looks for it (SEED_SAMPLE) and the transcoders read it.
  const sampleKey = 'samples/demo-lesson.mp4';
  if (!(await store.head(sampleKey))) {
    const sample = join(DATA, 'samples', 'demo-lesson.mp4');
    if (!existsSync(sample)) {
      say('generating the sample lesson video with ffmpeg (testsrc2 + sine)');
      await generateSampleVideo(sample, { seconds: 30, width: 1280, height: 720, fps: 25 });
    }
    await store.putFile(sampleKey, sample, { contentType: 'video/mp4' });
  }
  store.client.destroy();

  const media = join(DATA, 'media');
  const loginsFile = join(DATA, 'demo-logins.json');
  const firstRun = !existsSync(loginsFile);
  const jwt = env['JWT_SECRET'] ?? secret('jwt-secret');
  const common: Record<string, string | undefined> = {
    ...env,
    ...setupEnv(),
    NODE_ENV: env['NODE_ENV'] ?? 'production',
    JWT_SECRET: jwt,
    ...redis.env,
  };
  // what the services read from the launcher's own environment otherwise (npm start's settings)
  for (const k of ['REDIS_URL', 'MONGODB_URI', 'PORT', 'PUBLIC_URL', 'HOST']) delete common[k];
  const mongoUri = rs.uriFor('sky');
  const s3Env = s3.env(bucket);
  const sfuUrls = OFFSET.sfu.map(url);
  const apiUrls = OFFSET.api.map(url);
  const curriculumUrl = url(OFFSET.curriculum);
  const roles: { role: string; dir: string; url: string; env: Record<string, string> }[] = [
    {
      role: 'curriculum',
      dir: 'curriculum',
      url: curriculumUrl,
      env: { PORT: String(at(OFFSET.curriculum)), MONGODB_URI: mongoUri, SEED_DEMO: 'true' },
    },
    ...OFFSET.api.map((o, i) => ({
      role: `api-${i + 1}`,
      dir: 'api',
      url: url(o),
      env: {
        PORT: String(at(o)),
        MONGODB_URI: mongoUri,
        ...s3Env,
        MEDIA_DIR: media,
        WEB_DIST_DIR: join(ROOT, 'web-client', 'dist'),
        SEED_DEMO: i === 0 ? 'true' : 'false',
        SEED_LOGINS_FILE: loginsFile,
        DEMO_MODE: 'true',
        // a beacon is acknowledged once the Redis replica holds it (a failover loses none)
        ANALYTICS_REPLICA_ACKS: '1',
        // the status page finds every sfu node in the directory and every transcoder on the queue; SFU_URL is
        // the node asked while none beats, TRANSCODER_URL the transcoder that answers for itself
        SFU_URL: sfuUrls[0]!,
        // every node browsers may be sent to (the CSP names them all; others are never handed out)
        SFU_PUBLIC_URLS: sfuUrls.join(','),
        CURRICULUM_URL: curriculumUrl,
        TRANSCODER_URL: url(OFFSET.transcoder[0]),
        // /api/tv through nginx's gateway upstream: a dead gateway is skipped, as for boxes on /tv/
        TV_GATEWAY_URL: TV_PUBLIC,
        TV_PUBLIC_URL: TV_PUBLIC,
      },
    })),
    ...OFFSET.transcoder.map((o, i) => ({
      role: `transcoder-${i + 1}`,
      dir: 'transcoder',
      url: url(o),
      env: {
        PORT: String(at(o)),
        ...s3Env,
        WORK_DIR: join(DATA, `transcoder-${i + 1}-work`),
        CONCURRENCY: '1',
      },
    })),
    ...OFFSET.sfu.map((o, i) => ({
      role: `sfu-${i + 1}`,
      dir: 'sfu',
      url: url(o),
      env: {
        PORT: String(at(o)),
        API_URL: WEB,
        // live HLS and recordings go into the bucket; the folder is only ffmpeg's spool
        ...s3Env,
        MEDIA_DIR: media,
        NUM_WORKERS: '1',
        RTC_MIN_PORT: String(rtcMin + i * rtcHalf),
        RTC_MAX_PORT: String(rtcMin + (i + 1) * rtcHalf - 1),
        // cascaded through the room directory in Redis, each node at its own address
        CASCADE_SECRET: env['CASCADE_SECRET'] ?? secret('cascade-secret'),
        SFU_NODE_ID: `sfu-${i + 1}`,
        SFU_PUBLIC_URL: url(o),
        SFU_INTERNAL_URL: url(o),
      },
    })),
    ...OFFSET.tvGateway.map((o, i) => ({
      role: `tv-gateway-${i + 1}`,
      dir: 'tv-gateway',
      url: url(o),
      env: {
        PORT: String(at(o)),
        CURRICULUM_URL: curriculumUrl,
        API_URL: WEB,
        PUBLIC_URL: TV_PUBLIC,
        WEB_URL: WEB,
        // boxes fetch lesson segments from the caching edge
        MEDIA_URL: EDGE,
        CACHE_DIR: join(DATA, `tv-cache-${i + 1}`),
        TV_UI_DIR: join(ROOT, 'web-client', 'dist', 'tv'),
        // the slate is rendered by one gateway and copied from the bucket by the other
        ...s3Env,
      },
    })),
  ];
  const started = new Map<string, Promise<void>>();
  const start = (r: (typeof roles)[number]) => {
    const log = join(LOGS, `${r.role}.log`);
    const proc = startProcess(r.role, process.execPath, [join(ROOT, r.dir, 'dist', 'src', 'main.js')], {
      logFile: log,
      env: { ...common, ...r.env },
      cwd: join(ROOT, r.dir),
    });
    services.push({ role: r.role, process: proc });
    report(r.role, proc, log);
    const up = healthy(r.role, r.url, 180_000, log);
    up.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    started.set(r.role, up);
  };
  for (const r of roles) if (r.role !== 'api-2') start(r);

  // nginx in front now: the sfu nodes and TV gateways reach the api through it
  const originDir = join(DATA, 'nginx');
  const edgeDir = join(DATA, 'edge');
  for (const d of [originDir, edgeDir, join(edgeDir, 'cache')]) mkdirSync(d, { recursive: true });
  const origin = await startNginxHttp(
    originDir,
    (listen) =>
      originConf({
        listen,
        api: OFFSET.api.map((o) => `127.0.0.1:${at(o)}`),
        tvGateway: OFFSET.tvGateway.map((o) => `127.0.0.1:${at(o)}`),
        webDist: join(ROOT, 'web-client', 'dist'),
        sfuPublicUrls: sfuUrls,
      }),
    { port: at(OFFSET.web), master: true },
  );
  nginxes.push(origin);
  report('nginx', origin.process, join(originDir, 'error.log'));
  const edge = await startNginxHttp(
    edgeDir,
    (listen) => edgeConf({ origin: `127.0.0.1:${at(OFFSET.web)}`, cacheDir: join(edgeDir, 'cache'), listen }),
    { port: at(OFFSET.edge), master: true },
  );
  nginxes.push(edge);
  report('nginx edge', edge.process, join(edgeDir, 'error.log'));

  // the first api seeds an empty database before it listens; the second starts once it has
  await started.get('api-1');
  start(roles.find((r) => r.role === 'api-2')!);
  await Promise.all(started.values());
  say(`services healthy in ${secs()} s`);
  await frontReachesAll(
    WEB,
    OFFSET.api.map((o) => `127.0.0.1:${at(o)}`),
    30_000,
    join(originDir, 'error.log'),
  );

  // The live lessons first (quick), then the sample video (waits for its transcode): one plan change at a time.
  void linkDemoLive(WEB, loginsFile).then(() => (firstRun ? linkDemoMedia(WEB, loginsFile) : undefined));

  console.log('');
  say(`空中课堂 Sky Classroom is running as a cluster (up in ${secs()} s):`);
  const line = (role: string, where: string) => console.log(`  ${role.padEnd(14)}${where}`);
  line('web + api', `${WEB}   (nginx → api-1 ${apiUrls[0]}, api-2 ${apiUrls[1]})`);
  line('status page', `${WEB}/status`);
  line(
    'TV (10-foot)',
    `${TV_PUBLIC}/   (channels.m3u, guide.xml; → ${OFFSET.tvGateway.map(url).join(', ')})`,
  );
  line('media edge', `${EDGE}   (/media/ only: nginx-edge.conf → nginx → api → S3)`);
  sfuUrls.forEach((u, i) => line(`sfu-${i + 1}`, `${u}   (cascaded through the Redis room directory)`));
  line('curriculum', curriculumUrl);
  OFFSET.transcoder.forEach((o, i) => line(`transcoder-${i + 1}`, url(o)));
  line('mongod rs0', rs.hosts);
  line('redis', `master 127.0.0.1:${redis.master.port}, replica 127.0.0.1:${redis.replica.port}`);
  line('sentinels', `${redis.env.REDIS_SENTINELS} (master name ${redis.env.REDIS_SENTINEL_MASTER})`);
  line('S3 (swift)', `${s3.endpoint}   bucket ${bucket}`);
  line('logs', LOGS);
  if (firstRun && existsSync(loginsFile)) {
    const logins = JSON.parse(readFileSync(loginsFile, 'utf8')) as {
      role: string;
      username: string;
      password: string;
    }[];
    console.log(`\n  Demo logins (shown once; also kept in ${loginsFile}, readable only by you):`);
    for (const l of logins) console.log(`    ${l.role.padEnd(8)} ${l.username.padEnd(15)} ${l.password}`);
  } else {
    console.log(`\n  Demo logins: ${loginsFile}`);
  }
  console.log('\n  Ctrl-C stops everything.\n');
} catch (err) {
  warn((err as Error).message);
  await stopAll(1);
}
