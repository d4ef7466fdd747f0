// Sustained heartbeat ingest, end to end: real api process(es) and aggregation worker(s) on real mongod and
// redis-server; a separate load process POSTs batches of heartbeats over keep-alive HTTP for a fixed time;
// we count the events the api accepted per second, then wait until the rollups hold every one of them
// (`lag_s`: from the last accepted batch until the dashboard's watch time equals what was sent). In the same
// run, on the same redis-server, the yardstick is the api's own Lua ingest (dedupe + XADD of the batch,
// createAnalyticsRedis) called directly over ioredis with the same batches at the same concurrency
// (`ratio` = events_per_s / lua_ingest_events_per_s: what HTTP, validation and auth cost on top). CPU
// time of every process over the measured window says which one is the bottleneck.
//
// Then the city's shape: real clients flush every 5 s and send about one heartbeat per POST, so the city's
// load is many small requests. SMALL_VIEWERS viewers, each with its own student token (Authorization:
// Bearer, verified by the api), its own address (X-Forwarded-For, as nginx in front sets it; the api trusts
// loopback) and its own session, POST 1 or 2 events as text/plain (the browser's beacon transport), with
// the rate limiter on (keyed by the signed-in viewer). In the same run, bare fastify processes (as many as
// api processes, BENCH_API_PROCS) that parse the same bodies and answer 202 are the HTTP ceiling; the two
// alternate (ours, ceiling, ceiling, ours) and small_batch_ratio = ours ÷ ceiling. CPU µs per request of
// every process, and summed by role, says where each request's cost goes.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AnalyticsSummary } from '@sky/contracts';
import { createTokenIssuer, createViewerIds } from '@sky/contracts/tokens';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import {
  freePort,
  startLocalInfra,
  startProcess,
  waitForPort,
  type LocalInfra,
  type Managed,
} from '@sky/devkit';
import { createAnalyticsRedis, type BeaconIds } from '../api/src/adapters/analytics.redis.js';

/** The part of autocannon's API used here (it ships no types). */
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: {
  url: string;
  connections: number;
  duration: number;
  requests: {
    setupRequest: (req: CannonRequest) => CannonRequest;
    onResponse: (status: number, body: string) => void;
  }[];
}) => Promise<{
  requests: { total: number };
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}>;

const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 3);
/** Concurrent keep-alive connections of the load process. */
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 200);
/** Api processes, each on its own port; the load process spreads its connections over them. */
const API_PROCS = Number(process.env['BENCH_API_PROCS'] ?? 1);
/**
 * Sessions the heartbeats are spread over (round robin). 25k over a run of ~1M heartbeats gives each
 * ~40, as a 20-minute lesson sends at 30 s intervals: per-session work (the view's state, the dedupe
 * hash) then weighs on the pipeline as much as on a real day.
 */
const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 25_000);
const LESSONS = 100;
const WATCHED_SEC = 30;
const LAG_TIMEOUT_S = Number(process.env['BENCH_LAG_TIMEOUT'] ?? 300);
/** The Lua-ingest yardstick runs just before the HTTP load and again after the drain (the machine is shared). */
const YARDSTICK_SECONDS = 3;
const TARGET = { events_per_s: 50_000, ratio: 0.3 };
/** The city's shape: viewers, requests in flight, seconds per phase (after a warm-up of its own). */
const SMALL_VIEWERS = Number(process.env['BENCH_SMALL_VIEWERS'] ?? 20_000);
const SMALL_IN_FLIGHT = Number(process.env['BENCH_SMALL_IN_FLIGHT'] ?? 64);
const SMALL_SECONDS = Number(process.env['BENCH_SMALL_SECONDS'] ?? 8);
const SMALL_WARMUP_SECONDS = 2;
/** The aggregation worker as its own process (the api's inline one off), as in production. */
const WORKERS: readonly { name: string; file: string }[] = [
  { name: 'analytics-worker', file: 'api/src/analytics-worker.ts' },
];
/** BENCH_CPU_PROF=<dir>: the api and worker processes write V8 CPU profiles there (where the µs go). */
const PROFILE = process.env['BENCH_CPU_PROF']
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
  : [];
/** Extra environment for the api and its workers. */
const ANALYTICS_ENV: Record<string, string> = {
  ANALYTICS_WORKER: 'off',
  ANALYTICS_CONSUMER: 'bench-aggregator-1',
};

const log = (msg: string) => console.log(`[bench] ${msg}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, d = 1) => Number(n.toFixed(d));

// ————————————————————————————— the load process —————————————————————————————

interface LoadJob {
  /** bulk: BATCH heartbeats per POST, no token; small: the city's shape (see the top of the file). */
  shape: 'bulk' | 'small';
  urls: string[];
  runId: string;
  lessonIds: string[];
  warmupMs: number;
  measureMs: number;
  connections: number;
  batch: number;
  sessions: number;
  /** The stack's secret: viewer ids (both shapes) and, small, the viewers' tokens are signed with it. */
  secret: string;
}
interface LoadReport {
  events: number;
  accepted: number;
  duplicates: number;
  measuredAccepted: number;
  /** Requests answered 202 inside the measured window. */
  measuredRequests: number;
  measuredMs: number;
  requests: number;
  throttled: number;
  unavailable: number;
  failed: number;
  firstError?: string;
  startedAt: number;
  lastAckAt: number;
  p50_ms: number;
  p99_ms: number;
  bodyBytes: number;
  /** CPU seconds the load process used (user + system). */
  cpuSec: number;
}

/** The student account of small-shape viewer `v` (its token's subject). */
const studentOf = (v: number) => v.toString(16).padStart(24, '0');

/**
 * Each session's viewer id, signed as the api issues them (the ingest counts no other): bulk sessions are
 * anonymous viewers of their own; a small-shape viewer gets its student account's id, as the api answers
 * POST /api/analytics/viewer with that student's token. Made before the clock starts (players keep theirs).
 */
function viewerIdsOf(secret: string, shape: 'bulk' | 'small', runId: string, sessions: number): string[] {
  const viewers = createViewerIds(secret);
  return Array.from({ length: sessions }, (_, v) =>
    viewers.of(shape === 'small' ? `user:${studentOf(v)}` : `bench:${runId}:${v}`),
  );
}

/** One heartbeat, as the beacon client sends it; written as a string (JSON.stringify costs the load box). */
function heartbeat(
  runId: string,
  seq: number,
  session: number,
  viewerId: string,
  lessonId: string,
  at: number,
): string {
  const platform = session % 10 < 6 ? 'web' : 'tv';
  return (
    `{"eventId":"b${runId}${seq.toString(36)}","type":"heartbeat","viewerId":"${viewerId}",` +
    `"sessionId":"s${runId}${session.toString(36)}","lessonId":"${lessonId}","platform":"${platform}",` +
    `"at":${at},"position":${(seq % 80) * WATCHED_SEC},"rendition":"720p","watchedSec":${WATCHED_SEC}}`
  );
}

async function loadProcess(job: LoadJob, ready: () => void): Promise<LoadReport> {
  // small: every viewer's token, signed before the clock starts (a browser has its token already)
  const issuer = job.shape === 'small' ? createTokenIssuer(job.secret, 3600) : null;
  const viewerTokens = issuer
    ? Array.from({ length: job.sessions }, (_, v) => issuer.sign({ sub: studentOf(v), role: 'student' }))
    : [];
  const viewerIds = viewerIdsOf(job.secret, job.shape, job.runId, job.sessions);
  ready();
  const started = Date.now();
  const measureFrom = started + job.warmupMs;
  const stopAt = measureFrom + job.measureMs;
  const r: LoadReport = {
    events: 0,
    accepted: 0,
    duplicates: 0,
    measuredAccepted: 0,
    measuredRequests: 0,
    measuredMs: job.measureMs,
    requests: 0,
    throttled: 0,
    unavailable: 0,
    failed: 0,
    startedAt: started,
    lastAckAt: 0,
    p50_ms: 0,
    p99_ms: 0,
    bodyBytes: 0,
    cpuSec: 0,
  };
  const latencies: number[] = [];
  let seq = 0;
  let request = 0;
  /** One POST: the bulk batch, or one viewer's 1–2 events (2 in 3 of 10) with its token and address. */
  const nextRequest = (at: number): { body: string; headers: Record<string, string>; events: number } => {
    if (job.shape === 'bulk') {
      const parts: string[] = [];
      for (let i = 0; i < job.batch; i++) {
        const n = seq++;
        const session = n % job.sessions;
        parts.push(
          heartbeat(
            job.runId,
            n,
            session,
            viewerIds[session]!,
            job.lessonIds[session % job.lessonIds.length]!,
            at,
          ),
        );
      }
      return {
        body: `{"events":[${parts.join(',')}]}`,
        headers: { 'content-type': 'application/json' },
        events: job.batch,
      };
    }
    const k = request++;
    const viewer = k % job.sessions;
    const count = k % 10 < 7 ? 1 : 2;
    const parts: string[] = [];
    for (let i = 0; i < count; i++)
      parts.push(
        heartbeat(
          job.runId,
          seq++,
          viewer,
          viewerIds[viewer]!,
          job.lessonIds[viewer % job.lessonIds.length]!,
          at,
        ),
      );
    return {
      body: `{"events":[${parts.join(',')}]}`,
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        authorization: `Bearer ${viewerTokens[viewer]!}`,
        'x-forwarded-for': `10.${(viewer >> 16) & 255}.${(viewer >> 8) & 255}.${viewer & 255}`,
      },
      events: count,
    };
  };
  /** A 202's answer, counted (inside the measured window too when it came then). */
  const record = (body: string, now: number) => {
    const ack = JSON.parse(body) as { accepted?: number; duplicates?: number };
    r.accepted += ack.accepted ?? 0;
    r.duplicates += ack.duplicates ?? 0;
    if (now >= measureFrom && now < stopAt) {
      r.measuredAccepted += ack.accepted ?? 0;
      r.measuredRequests++;
    }
    r.lastAckAt = now;
  };
  if (job.shape === 'small') {
    // autocannon (the tv bench's load generator): fetch would spend more CPU per request than the
    // servers it measures. Every request is built fresh (its viewer's token, address and events).
    // one autocannon per api process, the connections shared out: a front balancing over them
    const share = (i: number) =>
      Math.floor(job.connections / job.urls.length) + (i < job.connections % job.urls.length ? 1 : 0);
    const results = await Promise.all(
      job.urls.map((url, i) =>
        autocannon({
          url,
          connections: share(i),
          duration: (job.warmupMs + job.measureMs) / 1000,
          requests: [
            {
              setupRequest: (req) => {
                const { body, headers } = nextRequest(Date.now());
                return { ...req, method: 'POST', path: '/api/analytics/beacons', headers, body };
              },
              onResponse: (status, body) => {
                const now = Date.now();
                if (status === 429) r.throttled++;
                else if (status === 503) r.unavailable++;
                else if (status !== 202) {
                  r.failed++;
                  r.firstError ??= `HTTP ${status} ${body.slice(0, 300)}`;
                  return;
                }
                if (status === 202) record(body, now);
              },
            },
          ],
        }),
      ),
    );
    const sum = (f: (x: (typeof results)[number]) => number) => results.reduce((a, x) => a + f(x), 0);
    const result = {
      requests: { total: sum((x) => x.requests.total) },
      errors: sum((x) => x.errors),
      timeouts: sum((x) => x.timeouts),
      // the slower front's: what a viewer behind it waits
      latency: {
        p50: Math.max(...results.map((x) => x.latency.p50)),
        p99: Math.max(...results.map((x) => x.latency.p99)),
      },
    };
    r.requests = result.requests.total;
    r.events = seq;
    r.failed += result.errors + result.timeouts;
    if (result.errors + result.timeouts > 0)
      r.firstError ??= `${result.errors} errors, ${result.timeouts} timeouts`;
    r.p50_ms = result.latency.p50;
    r.p99_ms = result.latency.p99;
    const usage = process.cpuUsage();
    r.cpuSec = (usage.user + usage.system) / 1e6;
    return r;
  }
  const connection = async (c: number) => {
    const url = `${job.urls[c % job.urls.length]}/api/analytics/beacons`;
    while (Date.now() < stopAt) {
      const { body, headers, events } = nextRequest(Date.now());
      r.bodyBytes = Math.max(r.bodyBytes, body.length);
      // The same batch is retried as is (same event ids) after a 429/503, as the beacon client does.
      for (let attempt = 0; ; attempt++) {
        const t0 = performance.now();
        let status: number;
        let text: string;
        try {
          r.requests++;
          const res = await fetch(url, { method: 'POST', headers, body });
          status = res.status;
          text = await res.text();
          if (status === 429 || status === 503) {
            if (status === 429) r.throttled++;
            else r.unavailable++;
            const after = Number(res.headers.get('retry-after'));
            await sleep(
              Number.isFinite(after) && after > 0 ? after * 1000 : Math.min(2000, 50 * 2 ** attempt),
            );
            continue;
          }
        } catch (err) {
          r.failed++;
          r.firstError ??= String(err);
          await sleep(Math.min(2000, 50 * 2 ** attempt));
          if (attempt < 20) continue;
          break;
        }
        latencies.push(performance.now() - t0);
        if (status !== 202 && status !== 200) {
          r.failed++;
          r.firstError ??= `HTTP ${status} ${text.slice(0, 300)}`;
          break;
        }
        r.events += events;
        record(text, Date.now());
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, (_, c) => connection(c)));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
  const usage = process.cpuUsage();
  r.cpuSec = (usage.user + usage.system) / 1e6;
  r.p50_ms = round(pct(50));
  r.p99_ms = round(pct(99));
  return r;
}

// ————————————————————————————— CPU accounting —————————————————————————————

const CLOCK_TICKS = 100;
/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (after the command name; see proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

// ————————————————————————————— the HTTP ceiling —————————————————————————————

/**
 * The HTTP ceiling: bare fastify on the same beacon path, with the api's body limit and proxy trust,
 * parsing the same JSON (both content types) and answering 202 with the api's answer shape. No token,
 * no limiter, no validation, no Redis: what any fastify endpoint costs for these requests.
 */
async function ceilingProcess(port: number): Promise<void> {
  const app = Fastify({ logger: false, trustProxy: ['loopback'], bodyLimit: 64 * 1024 });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(String(body)) as unknown);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.post('/api/analytics/beacons', async (req, reply) => {
    const events = (req.body as { events?: unknown[] }).events ?? [];
    return reply.code(202).send({ accepted: events.length, duplicates: 0 });
  });
  await app.listen({ host: '127.0.0.1', port });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

interface LoadRun {
  report: LoadReport;
  /** CPU seconds of each named process: at the load's start, at the end of warm-up, at the end of the window. */
  cpu: { name: string; start: number; from: number; to: number }[];
  windowS: number;
  loadStart: number;
}

/** One load process with `job`, CPU of `pids` (and of the load process) read around its measured window. */
async function runLoad(job: LoadJob, pids: readonly [string, number | undefined][]): Promise<LoadRun> {
  const child = fork(import.meta.filename, ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise<void>((resolve) => child.once('message', () => resolve()));
  const reportP = new Promise<LoadReport>((resolve, reject) => {
    child.on('message', (m: LoadReport | 'ready') => {
      if (m !== 'ready') resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`load process exited with ${code} before reporting`)));
  });
  reportP.catch(() => undefined); // awaited below; an early exit must not go unhandled meanwhile
  child.send(job);
  await Promise.race([ready, reportP]);
  const all: [string, number | undefined][] = [...pids, ['load', child.pid]];
  const start = all.map(([, pid]) => cpuSeconds(pid));
  const loadStart = loadavg()[0]!;
  await sleep(job.warmupMs);
  const from = all.map(([, pid]) => cpuSeconds(pid));
  const w0 = performance.now();
  await sleep(job.measureMs);
  const to = all.map(([, pid]) => cpuSeconds(pid));
  const windowS = (performance.now() - w0) / 1000;
  const report = await reportP;
  if (child.connected) child.disconnect();
  if (report.failed > 0)
    throw new Error(`load: ${report.failed} failed requests; first: ${report.firstError}`);
  return {
    report,
    cpu: all.map(([name], i) => ({ name, start: start[i]!, from: from[i]!, to: to[i]! })),
    windowS,
    loadStart,
  };
}

// ————————————————————————————— the bench —————————————————————————————

/** Today in China time (the dashboard's days are Asia/Shanghai days). */
const chinaDay = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

/**
 * The api's own ingest script (createAnalyticsRedis: dedupe every event id, each viewer's session budget,
 * XADD the batch as received) called straight over ioredis: the same batches of BATCH heartbeats (signed
 * viewer ids), CONNECTIONS calls in flight, with the api's default dedupe TTL, session budget and request
 * rate (and a backlog cap it never reaches), on the same redis-server. What the ingest costs without HTTP.
 */
async function luaIngestRate(redisUrl: string, secret: string, lessonId: string, seconds: number) {
  const runId = randomBytes(3).toString('hex');
  const prefix = `benchlua${runId}`;
  const store = createAnalyticsRedis(
    { url: redisUrl },
    {
      prefix,
      shards: 1,
      dedupeTtlSec: 6 * 3600,
      // no aggregator drains this stream: a cap it never reaches (the check costs the same)
      shardMaxEvents: 1e12,
      viewerSessions: { max: 30, windowSec: 3600 },
      requests: { max: 120, windowSec: 60 },
      // as the api runs it by default (ANALYTICS_REPLICA_ACKS=0): no replica to wait for here
      replicaAcks: { replicas: 0, timeoutMs: 1000 },
      onError: () => {},
    },
  );
  const viewerIds = viewerIdsOf(secret, 'bulk', runId, SESSIONS);
  // connected first: the store refuses commands while offline
  if (store.client.status !== 'ready') await new Promise((r) => store.client.once('ready', r));
  let seq = 0;
  let events = 0;
  const at = Date.now();
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  const lane = async () => {
    while (performance.now() < stopAt) {
      const lines: string[] = [];
      const ids: BeaconIds[] = [];
      for (let i = 0; i < BATCH; i++) {
        const n = seq++;
        const session = n % SESSIONS;
        lines.push(heartbeat(runId, n, session, viewerIds[session]!, lessonId, at));
        ids.push({
          viewerId: viewerIds[session]!,
          sessionId: `s${runId}${session.toString(36)}`,
          eventId: `b${runId}${n.toString(36)}`,
        });
      }
      // the api counts each request against its sender (here the batch's first viewer)
      const client = `v:${ids[0]!.viewerId}`;
      const r = await store.ingest([{ shard: 0, json: `{"events":[${lines.join(',')}]}`, ids }], client);
      events += r.accepted;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  const keys = [
    ...(await store.client.keys(`${prefix}:*`)),
    ...(await store.client.keys(`{${prefix}:*`)), // the stream shard's keys (hash-tagged)
  ];
  for (let i = 0; i < keys.length; i += 1000) await store.client.del(...keys.slice(i, i + 1000));
  store.client.disconnect();
  return { events_per_s: Math.round(events / elapsed), events, batch: BATCH, in_flight: CONNECTIONS };
}

/**
 * INFO commandstats as µs per request, per command, largest first. Commands a script runs are counted
 * under their own name too (so they are inside evalsha's figure as well).
 */
function redisCommandUsec(info: string, requests: number): Record<string, number> {
  const out: [string, number][] = [];
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):.*usec=(\d+),/.exec(line);
    if (m) out.push([m[1]!, round(Number(m[2]) / Math.max(1, requests), 2)]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]).filter(([, us]) => us >= 0.05));
}

/** Watch time the rollups hold for one China day, from the dashboard summary. */
async function rollupWatchSec(url: string, token: string, day: string): Promise<number> {
  const res = await fetch(`${url}/api/analytics/summary?from=${day}&to=${day}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`summary: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as AnalyticsSummary).watchSec.total;
}

interface Proc {
  name: string;
  managed: Managed;
}

async function bench() {
  let exitCode = 0;
  const work = mkdtempSync(join(tmpdir(), 'sky-bench-ingest-'));
  let infra: LocalInfra | undefined;
  const procs: Proc[] = [];
  try {
    log('starting mongod and redis-server…');
    infra = await startLocalInfra({ cacheGb: 0.25 });
    const secret = randomBytes(24).toString('base64url');
    const prefix = `benching${process.pid}`;
    const env = {
      ...process.env,
      HOST: '127.0.0.1',
      MONGODB_URI: infra.mongo.uriFor(prefix),
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: prefix,
      JWT_SECRET: secret,
      MEDIA_DIR: join(work, 'media'),
      LOG_LEVEL: 'warn',
      ...ANALYTICS_ENV,
    };
    mkdirSync(env.MEDIA_DIR, { recursive: true });
    const urls: string[] = [];
    for (let i = 0; i < API_PROCS; i++) {
      const port = await freePort();
      procs.push({
        name: `api-${i}`,
        managed: startProcess(
          `api-${i}`,
          process.execPath,
          [...PROFILE, '--import', 'tsx', join(ROOT, 'api', 'src', 'main.ts')],
          { logFile: join(work, `api-${i}.log`), cwd: ROOT, env: { ...env, PORT: String(port) } },
        ),
      });
      urls.push(`http://127.0.0.1:${port}`);
    }
    for (const w of WORKERS) {
      procs.push({
        name: w.name,
        managed: startProcess(w.name, process.execPath, [...PROFILE, '--import', 'tsx', join(ROOT, w.file)], {
          logFile: join(work, `${w.name}.log`),
          cwd: ROOT,
          env,
        }),
      });
    }
    for (const u of urls) await waitForPort(Number(new URL(u).port), 90_000);

    const tokens = createTokenIssuer(secret, 3600);
    const teacher = tokens.sign({ sub: 'feedfacefeedfacefeedface', role: 'teacher' });
    const analyst = tokens.sign({ sub: 'a11a11a11a11a11a11a11a11', role: 'analyst' });
    const lessonIds: string[] = [];
    for (let i = 0; i < LESSONS; i++) {
      const res = await fetch(`${urls[0]}/api/lessons`, {
        method: 'POST',
        headers: { authorization: `Bearer ${teacher}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `数学 第${i + 1}课`, grade: 'p5', subject: '数学' }),
      });
      if (res.status !== 201) throw new Error(`lesson: HTTP ${res.status} ${await res.text()}`);
      lessonIds.push(((await res.json()) as { id: string }).id);
    }

    // Watchable lessons only are counted: taught live (no media is made; their records carry no
    // duration, so the aggregator's work per heartbeat is what it was).
    for (const id of lessonIds) {
      const res = await fetch(`${urls[0]}/api/lessons/${id}/live`, {
        method: 'POST',
        headers: { authorization: `Bearer ${teacher}` },
      });
      if (res.status !== 201) throw new Error(`live: HTTP ${res.status} ${await res.text()}`);
    }

    const sample = heartbeat(
      'sample',
      123_456,
      4567,
      viewerIdsOf(secret, 'bulk', 'sample', 1)[0]!,
      lessonIds[0]!,
      Date.now(),
    );
    log(`the api's Lua ingest straight over ioredis for ${YARDSTICK_SECONDS} s (before)…`);
    const luaBefore = await luaIngestRate(infra.redis.url, secret, lessonIds[0]!, YARDSTICK_SECONDS);
    const day = chinaDay(Date.now());
    const before = await rollupWatchSec(urls[0]!, analyst, day);
    const job: LoadJob = {
      shape: 'bulk',
      urls,
      runId: randomBytes(3).toString('hex'),
      lessonIds,
      warmupMs: WARMUP_SECONDS * 1000,
      measureMs: SECONDS * 1000,
      connections: CONNECTIONS,
      batch: BATCH,
      sessions: SESSIONS,
      secret,
    };
    log(
      `load: ${CONNECTIONS} connections × batches of ${BATCH} heartbeats for ${WARMUP_SECONDS} + ${SECONDS} s ` +
        `→ ${API_PROCS} api process(es), ${WORKERS.length} worker process(es)`,
    );
    // CPU over the measured window, per process.
    const pids: [string, number | undefined][] = [
      ...procs.map((p): [string, number | undefined] => [p.name, p.managed.child.pid]),
      ['redis-server', infra.redis.process.child.pid],
      ['mongod', infra.mongo.process.child.pid],
    ];
    const bulk = await runLoad(job, pids);
    const report = bulk.report;
    const loadStart = bulk.loadStart;
    const cpuStart = bulk.cpu.map((c) => c.start);
    const cpu = Object.fromEntries(
      bulk.cpu.map((c) => [c.name, round((100 * (c.to - c.from)) / bulk.windowS)]),
    ) as Record<string, number>;
    const eventsPerS = Math.round(report.measuredAccepted / (report.measuredMs / 1000));
    log(
      `accepted ${report.accepted} events (${eventsPerS}/s measured), ${report.throttled} × 429, ${report.unavailable} × 503`,
    );
    log(`cpu % over the window: ${JSON.stringify(cpu)}`);

    // Lag: until the rollups hold every accepted heartbeat's watch time.
    const expected = before + report.accepted * WATCHED_SEC;
    let have = before;
    let lagS = NaN;
    const drainCpu0 = pids.map(([, pid]) => cpuSeconds(pid));
    const d0 = performance.now();
    const deadline = Date.now() + LAG_TIMEOUT_S * 1000;
    for (;;) {
      have = await rollupWatchSec(urls[0]!, analyst, day);
      if (have >= expected) {
        lagS = round((Date.now() - report.lastAckAt) / 1000, 2);
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    const drainS = (performance.now() - d0) / 1000;
    // CPU each process spent per accepted event, from the first send until the rollups held everything:
    // unlike CPU %, this does not depend on what else the shared machine was running.
    const cpuPerEvent = Object.fromEntries([
      ...pids.map(([name, pid], i) => [
        name,
        round(((cpuSeconds(pid) - cpuStart[i]!) / Math.max(1, report.accepted)) * 1e6, 2),
      ]),
      ['load', round((report.cpuSec / Math.max(1, report.accepted)) * 1e6, 2)],
    ]) as Record<string, number>;
    const drainCpu = Object.fromEntries(
      pids.map(([name, pid], i) => [name, round((100 * (cpuSeconds(pid) - drainCpu0[i]!)) / drainS)]),
    ) as Record<string, number>;
    // What the aggregation sustained end to end: every event from the first send until the rollups held all.
    const rollupPerS = Number.isNaN(lagS)
      ? NaN
      : Math.round(report.accepted / ((report.lastAckAt - report.startedAt) / 1000 + lagS));
    log(
      `lag ${lagS} s; rollups took ${rollupPerS} events/s end to end; cpu % while draining: ${JSON.stringify(drainCpu)}`,
    );
    log(`cpu µs per event (first send → rollups complete): ${JSON.stringify(cpuPerEvent)}`);
    if (Number.isNaN(lagS)) {
      log(`rollups hold ${have - before} of ${report.accepted * WATCHED_SEC} s after ${LAG_TIMEOUT_S} s`);
      exitCode = 1;
    } else if (have !== expected) {
      log(`rollups hold MORE watch time than sent: ${have - before} vs ${report.accepted * WATCHED_SEC}`);
      exitCode = 1;
    }

    // The city's shape: ours and the bare fastify ceiling alternate (ours, ceiling, ceiling, ours). The
    // load spreads over every api process, and over as many ceiling processes: the same fan-out.
    const ceilingUrls: string[] = [];
    const ceilingPids: [string, number | undefined][] = [];
    for (let i = 0; i < API_PROCS; i++) {
      const ceilingPort = await freePort();
      const ceiling = startProcess(
        `ceiling-${i}`,
        process.execPath,
        ['--import', 'tsx', import.meta.filename, '--ceiling'],
        {
          logFile: join(work, `ceiling-${i}.log`),
          cwd: ROOT,
          env: { ...process.env, PORT: String(ceilingPort) },
        },
      );
      procs.push({ name: `ceiling-${i}`, managed: ceiling });
      await waitForPort(ceilingPort, 60_000);
      ceilingUrls.push(`http://127.0.0.1:${ceilingPort}`);
      ceilingPids.push([`ceiling-${i}`, ceiling.child.pid]);
    }
    const smallRuns: { kind: 'ours' | 'ceiling'; run: LoadRun }[] = [];
    // redis-server's own account of its time per command over the city's shape (the ceiling sends none)
    const statsRedis = new Redis(infra.redis.url);
    await statsRedis.config('RESETSTAT');
    for (const kind of ['ours', 'ceiling', 'ceiling', 'ours'] as const) {
      log(
        `city shape → ${kind}: ${SMALL_VIEWERS} viewers, 1–2 events per POST, ${SMALL_IN_FLIGHT} in flight, ` +
          `${SMALL_WARMUP_SECONDS} + ${SMALL_SECONDS} s…`,
      );
      const run = await runLoad(
        {
          shape: 'small',
          urls: kind === 'ours' ? urls : ceilingUrls,
          runId: randomBytes(3).toString('hex'),
          lessonIds,
          warmupMs: SMALL_WARMUP_SECONDS * 1000,
          measureMs: SMALL_SECONDS * 1000,
          connections: SMALL_IN_FLIGHT,
          batch: 1,
          sessions: SMALL_VIEWERS,
          secret,
        },
        kind === 'ours' ? pids : ceilingPids,
      );
      smallRuns.push({ kind, run });
      log(
        `  ${Math.round(run.report.measuredRequests / SMALL_SECONDS)} requests/s, p99 ${run.report.p99_ms} ms, ` +
          `${run.report.throttled} × 429`,
      );
    }
    const smallPhase = ({ kind, run }: { kind: 'ours' | 'ceiling'; run: LoadRun }) => {
      const requests = Math.max(1, run.report.measuredRequests);
      return {
        kind,
        requests_per_s: Math.round(requests / (run.report.measuredMs / 1000)),
        events_per_s: Math.round(run.report.measuredAccepted / (run.report.measuredMs / 1000)),
        events_per_request: round(run.report.measuredAccepted / requests, 2),
        request_p50_ms: run.report.p50_ms,
        request_p99_ms: run.report.p99_ms,
        throttled_429: run.report.throttled,
        unavailable_503: run.report.unavailable,
        cpu_us_per_request: Object.fromEntries(
          run.cpu.map((c) => [c.name, round(((c.to - c.from) / requests) * 1e6, 1)]),
        ) as Record<string, number>,
        cpu_percent: Object.fromEntries(
          run.cpu.map((c) => [c.name, round((100 * (c.to - c.from)) / run.windowS)]),
        ) as Record<string, number>,
        loadavg_1m: round(run.loadStart, 2),
      };
    };
    const phases = smallRuns.map(smallPhase);
    const meanOf = (kind: 'ours' | 'ceiling', f: (p: (typeof phases)[number]) => number) => {
      const of = phases.filter((p) => p.kind === kind).map(f);
      return of.reduce((a, b) => a + b, 0) / of.length;
    };
    /** Mean CPU µs per request of each process over the phases of one kind. */
    const meanCpu = (kind: 'ours' | 'ceiling') => {
      const of = phases.filter((p) => p.kind === kind);
      return Object.fromEntries(
        Object.keys(of[0]!.cpu_us_per_request).map((name) => [
          name,
          round(of.reduce((a, p) => a + p.cpu_us_per_request[name]!, 0) / of.length, 1),
        ]),
      ) as Record<string, number>;
    };
    // CPU µs per POST by role, summed over the processes of each (api-0, api-1 …): what one more
    // beacon costs the platform however many processes carry it; the budget is api + Redis +
    // aggregator ≤ 150 µs, Redis ≤ 30 µs.
    const oursCpu = meanCpu('ours');
    const roleSum = (re: RegExp) =>
      round(
        Object.entries(oursCpu)
          .filter(([name]) => re.test(name))
          .reduce((a, [, v]) => a + v, 0),
        1,
      );
    const perPost = {
      api: roleSum(/^api-/),
      aggregator: roleSum(/worker/),
      redis: roleSum(/^redis-server$/),
      mongod: roleSum(/^mongod$/),
    };
    const cpuPerPost = { ...perPost, platform: round(perPost.api + perPost.aggregator + perPost.redis, 1) };
    log(`city shape: cpu µs per POST by role (${API_PROCS} api process(es)): ${JSON.stringify(cpuPerPost)}`);
    const smallRps = Math.round(meanOf('ours', (p) => p.requests_per_s));
    const ceilingRps = Math.round(meanOf('ceiling', (p) => p.requests_per_s));
    const smallRatio = round(smallRps / ceilingRps, 3);
    log(
      `city shape: ours ${smallRps} requests/s, bare fastify ${ceilingRps} → small_batch_ratio ${smallRatio}; ` +
        `cpu µs per request ours ${JSON.stringify(meanCpu('ours'))}, ceiling ${JSON.stringify(meanCpu('ceiling'))}`,
    );
    // Nothing the city's shape sent is lost: the rollups come to hold it all too.
    const smallAccepted = smallRuns
      .filter((r) => r.kind === 'ours')
      .reduce((a, r) => a + r.run.report.accepted, 0);
    const smallLastAck = Math.max(
      ...smallRuns.filter((r) => r.kind === 'ours').map((r) => r.run.report.lastAckAt),
    );
    const expectedAll = expected + smallAccepted * WATCHED_SEC;
    // autocannon stops with requests in flight whose 202 it never reads: the api may hold up to that many
    // more (in flight × 2 events × the phases of ours) than the load process counted
    const unreadAtMost = SMALL_IN_FLIGHT * 2 * WATCHED_SEC * 2;
    let smallLagS = NaN;
    const smallDeadline = Date.now() + LAG_TIMEOUT_S * 1000;
    for (;;) {
      have = await rollupWatchSec(urls[0]!, analyst, day);
      if (have >= expectedAll) {
        smallLagS = round((Date.now() - smallLastAck) / 1000, 2);
        break;
      }
      if (Date.now() > smallDeadline) break;
      await sleep(100);
    }
    if (have < expectedAll || have > expectedAll + unreadAtMost) {
      log(
        `city shape: rollups hold ${have - expected} s of the ${smallAccepted * WATCHED_SEC} s acknowledged ` +
          `(+ at most ${unreadAtMost} s unread at the stop)`,
      );
      exitCode = 1;
    } else log(`city shape: the rollups hold every accepted event ${smallLagS} s after the last 202`);
    const smallRequests = smallRuns
      .filter((r) => r.kind === 'ours')
      .reduce((a, r) => a + r.run.report.requests, 0);
    const redisUsec = redisCommandUsec(await statsRedis.info('commandstats'), smallRequests);
    statsRedis.disconnect();
    log(`city shape: redis-server µs per request by command ${JSON.stringify(redisUsec)}`);

    log(`the api's Lua ingest straight over ioredis for ${YARDSTICK_SECONDS} s (after)…`);
    const luaAfter = await luaIngestRate(infra.redis.url, secret, lessonIds[0]!, YARDSTICK_SECONDS);
    const lua = {
      // The better of the two: a busy moment cannot flatter the ratio.
      events_per_s: Math.max(luaBefore.events_per_s, luaAfter.events_per_s),
      before: luaBefore,
      after: luaAfter,
    };
    log(`Lua ingest ${luaBefore.events_per_s} events/s before, ${luaAfter.events_per_s} after`);
    const ratio = round(eventsPerS / lua.events_per_s, 3);
    const result = {
      events_per_s: eventsPerS,
      lua_ingest_events_per_s: lua.events_per_s,
      ratio,
      lag_s: lagS,
      small_batch_requests_per_s: smallRps,
      small_batch_ceiling_requests_per_s: ceilingRps,
      small_batch_ratio: smallRatio,
      target: `events_per_s ≥ ${TARGET.events_per_s} and ratio ≥ ${TARGET.ratio}`,
      pass: eventsPerS >= TARGET.events_per_s && ratio >= TARGET.ratio && !Number.isNaN(lagS),
      details: {
        seconds: SECONDS,
        warmup_seconds: WARMUP_SECONDS,
        connections: CONNECTIONS,
        batch: BATCH,
        body_bytes: report.bodyBytes,
        event_bytes: sample.length,
        api_processes: API_PROCS,
        worker_processes: WORKERS.length,
        sessions: SESSIONS,
        requests: report.requests,
        accepted: report.accepted,
        duplicates: report.duplicates,
        throttled_429: report.throttled,
        unavailable_503: report.unavailable,
        request_p50_ms: report.p50_ms,
        request_p99_ms: report.p99_ms,
        cpu_percent: cpu,
        rollup_events_per_s: rollupPerS,
        cpu_percent_draining: drainCpu,
        cpu_us_per_event: cpuPerEvent,
        loadavg_1m: { start: round(loadStart, 2), end: round(loadavg()[0]!, 2) },
        flush_events: process.env['ANALYTICS_FLUSH_EVENTS'] ?? 'default',
        flush_ms: process.env['ANALYTICS_FLUSH_MS'] ?? 'default',
        lua_ingest: lua,
        small_batch: {
          viewers: SMALL_VIEWERS,
          in_flight: SMALL_IN_FLIGHT,
          seconds_per_phase: SMALL_SECONDS,
          warmup_seconds_per_phase: SMALL_WARMUP_SECONDS,
          order: phases.map((p) => p.kind),
          events_accepted: smallAccepted,
          lag_s: smallLagS,
          /** Watch time the rollups hold beyond what the load process read 202s for (unread at its stop). */
          unread_watch_sec: have - expectedAll,
          cpu_us_per_request: { ours: oursCpu, ceiling: meanCpu('ceiling') },
          /** CPU µs per POST of ours summed by role over its processes; platform = api + aggregator + redis. */
          cpu_us_per_request_by_role: cpuPerPost,
          api_processes: API_PROCS,
          /** redis-server's INFO commandstats over the phases (and drain) of ours, µs per request of ours. */
          redis_usec_per_request: redisUsec,
          /** The load process (single-threaded autocannon) above 90 % of a core in a ceiling phase: it set
           * that pace, so the true ceiling is higher and small_batch_ratio an upper bound. */
          ceiling_load_bound: phases.some((p) => p.kind === 'ceiling' && (p.cpu_percent['load'] ?? 0) > 90),
          phases,
        },
        cpus: availableParallelism(),
        node: process.version,
      },
      note:
        'events_per_s: heartbeats the api answered 202 for, per second, over the measured window after a ' +
        'warm-up (one load process, keep-alive fetch, batches as the beacon client sends them). lag_s: from ' +
        'the last 202 until the dashboard summary’s watch time equals everything accepted × 30 s; ' +
        'rollup_events_per_s: accepted / (first send → rollups complete). ' +
        'lua_ingest_events_per_s (the yardstick): the api’s own ingest script (createAnalyticsRedis: dedupe ' +
        'of every event id + one XADD of the batch as received), called over ioredis with the same batches ' +
        'of heartbeats at the same concurrency, on the same redis-server, the better of a run just before ' +
        'the HTTP load and one after the drain: ratio = what HTTP, validation and auth leave of it (bulk: ' +
        '200 events per POST). small_batch_*: the city’s shape, 1–2 heartbeats per POST (1.3 on average) ' +
        'as text/plain from small_batch.viewers viewers, each with its own student token (verified), ' +
        'X-Forwarded-For address, signed viewer id and session, rate limiter on (per user), small_batch.in_flight ' +
        'requests in flight, 202s per second over each phase’s window; the ceiling is bare fastify ' +
        'processes (as many as api processes) parsing the same bodies and answering 202 (no token, limiter, validation or Redis); ' +
        'phases alternate ours, ceiling, ceiling, ours; small_batch_ratio = mean ours ÷ mean ceiling; ' +
        'cpu_us_per_request per process (the load process included: if it nears 100 % of a core, it bounds ' +
        'the ceiling: small_batch.ceiling_load_bound, and then small_batch_ratio is an upper bound and the CPU ' +
        'µs per request the figure that compares). small_batch.lag_s: until the rollups hold those events too. cpu_percent: user+system CPU of each process over the measured window (100 = ' +
        'one core); cpu_us_per_event: CPU time of each process from the first send until the rollups were ' +
        'complete, per accepted event (independent of other load on the machine). Everything shares the same ' +
        '2 CPUs, with whatever else runs on the machine (loadavg_1m).',
    };
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(
      join(import.meta.dirname, 'results', 'ingest.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    console.log(JSON.stringify(result, null, 2));
    if (!result.pass) exitCode = 1;
  } catch (err) {
    console.error(err);
    exitCode = 1;
  } finally {
    for (const p of procs.reverse()) await p.managed.stop(15_000);
    await infra?.close().catch((err: unknown) => console.error(`[bench] stopping infra: ${String(err)}`));
    if (exitCode === 0) rmSync(work, { recursive: true, force: true });
    else log(`logs kept in ${work}`);
  }
  process.exit(exitCode);
}

if (process.argv.includes('--load')) {
  process.once('message', (job: LoadJob) => {
    void loadProcess(job, () => process.send!('ready')).then((r) => {
      process.send!(r);
    });
  });
} else if (process.argv.includes('--ceiling')) {
  await ceilingProcess(Number(process.env['PORT']));
} else await bench();
