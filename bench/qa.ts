// One question broadcast to a crowded Q&A room: N socket.io clients (websocket only) in child processes
// join one lesson's room on real api processes (`node api/src/main.ts`, real mongod and redis-server);
// a different STUDENT asks each round (the real path: the room's mute check and the per-student ask
// interval), and VOTERS_PER_PROC clients of each client process upvote each question as it arrives, so votes and their updates
// load the room while it broadcasts; every client notes when `question:new` arrives. Latency is measured
// from just before the ask leaves the student's socket to each client's handler (one monotonic clock for
// every process on this machine), so it includes the api's write, Redis, and the client process's own
// queueing.
// Runs: 1k, 5k, 10k clients on one api process, and 10k split across two through the Redis adapter.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ack, QaClientEvents, QaServerEvents, Question } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import {
  freePort,
  startLocalInfra,
  startProcess,
  waitForPort,
  type LocalInfra,
  type Managed,
} from '@sky/devkit';
import { io, type Socket } from 'socket.io-client';

const ROOT = join(import.meta.dirname, '..');
const SECRET = 'bench-secret-that-is-at-least-32-characters';
const LOST_AFTER_MS = 5000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** Client processes per run (each gets an equal share of the clients). */
const CLIENT_PROCS = Number(process.env['BENCH_CLIENT_PROCS'] ?? 4);
/** Handshakes each client process keeps in flight. */
const BATCH = Number(process.env['BENCH_BATCH'] ?? 200);
const RUNS = (process.env['BENCH_RUNS'] ?? '1000x1,5000x1,10000x1,10000x2').split(',').map((r) => {
  const [clients, processes] = r.split('x').map(Number);
  return { clients: clients!, processes: processes ?? 1 };
});
const TARGET = { clients: 10_000, p99_ms: 250, lost: 0 };
/**
 * Clients of each client process that upvote every question they receive (as a few students do while
 * the class asks). Each vote is broadcast to the whole room: 1 voter in 20 (250 votes a question at 5k
 * clients) timed the next ask out, so the room's vote fan-out is a known limit, measured at this rate.
 */
const VOTERS_PER_PROC = Number(process.env['BENCH_VOTERS_PER_PROC'] ?? 5);

type Client = Socket<QaServerEvents, QaClientEvents>;
const now = () => process.hrtime.bigint();
const log = (msg: string) => console.log(`[bench] ${msg}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Messages between the bench and its client processes. */
type ToClients =
  | { type: 'start'; url: string; lessonId: string; count: number; idBase: number }
  | { type: 'collect'; questionId: string; t0: string }
  | { type: 'stop' };
type FromClients =
  | { type: 'progress'; joined: number; failed: number }
  | { type: 'ready'; joined: number; failed: number }
  | { type: 'latencies'; questionId: string; ms: number[]; missing: number; votes: number; refused: number };

// ————————————————————————————— client process —————————————————————————————

async function clientProcess() {
  const send = (m: FromClients) => process.send!(m);
  const clients: Client[] = [];
  /** questionId → receive time (ns) per client index. */
  const received = new Map<string, Map<number, bigint>>();
  const tokens = createTokenIssuer(SECRET, 3600);
  const votes = { sent: 0, refused: 0 };

  const connectOne = (url: string, lessonId: string, index: number, userId: string) =>
    new Promise<boolean>((resolve) => {
      const s: Client = io(`${url}/qa`, {
        transports: ['websocket'],
        auth: { token: tokens.sign({ sub: userId, role: 'student' }) },
        reconnection: false,
        forceNew: true,
        timeout: 30_000,
      });
      const fail = () => {
        clearTimeout(timer);
        s.disconnect();
        resolve(false);
      };
      const timer = setTimeout(fail, 60_000);
      s.on('question:new', (e) => {
        const at = now();
        let byClient = received.get(e.question.id);
        if (!byClient) received.set(e.question.id, (byClient = new Map<number, bigint>()));
        if (!byClient.has(index)) byClient.set(index, at);
        if (index < VOTERS_PER_PROC) {
          votes.sent++;
          (s.timeout(10_000) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> })
            .emitWithAck('question:upvote', { questionId: e.question.id })
            .then((r) => {
              if (!r.ok) votes.refused++;
            })
            .catch(() => votes.refused++);
        }
      });
      s.once('connect_error', fail);
      s.once('connect', () => {
        (s.timeout(30_000) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> })
          .emitWithAck('room:join', { lessonId, limit: 1 })
          .then((r) => {
            if (!r.ok) return fail();
            clearTimeout(timer);
            clients[index] = s;
            resolve(true);
          })
          .catch(fail);
      });
    });

  process.on('message', (m: ToClients) => {
    switch (m.type) {
      case 'start':
        void (async () => {
          let joined = 0;
          let failed = 0;
          let next = 0;
          const worker = async () => {
            while (next < m.count) {
              const i = next++;
              const userId = (m.idBase + i).toString(16).padStart(24, '0');
              if (await connectOne(m.url, m.lessonId, i, userId)) joined++;
              else failed++;
            }
          };
          const progress = setInterval(() => send({ type: 'progress', joined, failed }), 2000);
          await Promise.all(Array.from({ length: Math.min(BATCH, m.count) }, worker));
          clearInterval(progress);
          send({ type: 'ready', joined, failed });
        })();
        break;
      case 'collect':
        void (async () => {
          const t0 = BigInt(m.t0);
          const deadline = t0 + BigInt(LOST_AFTER_MS) * 1_000_000n;
          const live = clients.filter(Boolean).length;
          while (now() < deadline && (received.get(m.questionId)?.size ?? 0) < live) await sleep(20);
          const got = received.get(m.questionId) ?? new Map<number, bigint>();
          const ms = [...got.values()].filter((t) => t <= deadline).map((t) => Number(t - t0) / 1e6);
          send({
            type: 'latencies',
            questionId: m.questionId,
            ms,
            missing: live - ms.length,
            votes: votes.sent,
            refused: votes.refused,
          });
        })();
        break;
      case 'stop':
        for (const s of clients) s?.disconnect();
        setTimeout(() => process.exit(0), 200);
        break;
    }
  });
}

// ————————————————————————————— the bench —————————————————————————————

interface ClientProc {
  child: ChildProcess;
  count: number;
  ready: Promise<{ joined: number; failed: number }>;
  next<T extends FromClients['type']>(type: T): Promise<Extract<FromClients, { type: T }>>;
  send(m: ToClients): void;
}

function spawnClients(count: number, url: string, lessonId: string, idBase: number): ClientProc {
  const child = fork(import.meta.filename, ['--clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<string, (m: FromClients) => void>();
  let joinedSoFar = 0;
  child.on('message', (m: FromClients) => {
    if (m.type === 'progress') joinedSoFar = m.joined;
    waiting.get(m.type)?.(m);
  });
  const next = <T extends FromClients['type']>(type: T) =>
    new Promise<Extract<FromClients, { type: T }>>((resolve, reject) => {
      const onExit = () => reject(new Error(`client process exited (${joinedSoFar} joined)`));
      child.once('exit', onExit);
      waiting.set(type, (m) => {
        waiting.delete(type);
        child.off('exit', onExit);
        resolve(m as Extract<FromClients, { type: T }>);
      });
    });
  const proc: ClientProc = {
    child,
    count,
    ready: next('ready'),
    next,
    send: (m) => child.send(m),
  };
  proc.send({ type: 'start', url, lessonId, count, idBase });
  return proc;
}

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round1 = (n: number) => Number(n.toFixed(1));

async function startApi(infra: LocalInfra, work: string, prefix: string, i: number) {
  const port = await freePort();
  const mediaDir = join(work, `media-${prefix}-${i}`);
  mkdirSync(mediaDir, { recursive: true });
  const api = startProcess(
    `api-${i}`,
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'api', 'src', 'main.ts')],
    {
      logFile: join(work, `api-${prefix}-${i}.log`),
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        MONGODB_URI: infra.mongo.uriFor('benchqa'),
        REDIS_URL: infra.redis.url,
        QUEUE_PREFIX: prefix,
        JWT_SECRET: SECRET,
        MEDIA_DIR: mediaDir,
        LOG_LEVEL: 'warn',
      },
    },
  );
  await waitForPort(port, 60_000);
  return { api, url: `http://127.0.0.1:${port}` };
}

/** One run: fresh api processes (own key prefix), a fresh lesson, `clients` students, ROUNDS questions. */
async function run(infra: LocalInfra, work: string, index: number, clients: number, processes: number) {
  const prefix = `benchqa${process.pid}r${index}`;
  const apis: { api: Managed; url: string }[] = [];
  const procs: ClientProc[] = [];
  const asker: Client[] = [];
  try {
    for (let i = 0; i < processes; i++) apis.push(await startApi(infra, work, prefix, i));
    const tokens = createTokenIssuer(SECRET, 3600);
    const teacher = tokens.sign({ sub: 'feedfacefeedfacefeedface', role: 'teacher' });
    const res = await fetch(`${apis[0]!.url}/api/lessons`, {
      method: 'POST',
      headers: { authorization: `Bearer ${teacher}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: '大课堂答疑', grade: 'p5', subject: '数学' }),
    });
    if (res.status !== 201) throw new Error(`lesson: HTTP ${res.status} ${await res.text()}`);
    const lessonId = ((await res.json()) as { id: string }).id;

    const t0 = Date.now();
    const per = Math.ceil(clients / CLIENT_PROCS);
    for (let p = 0, left = clients; left > 0; p++, left -= per) {
      const count = Math.min(per, left);
      procs.push(
        spawnClients(count, apis[p % processes]!.url, lessonId, 0x100000 + index * 1_000_000 + p * per),
      );
    }
    const ready = await Promise.all(procs.map((p) => p.ready));
    const joined = ready.reduce((n, r) => n + r.joined, 0);
    const failed = ready.reduce((n, r) => n + r.failed, 0);
    const connectSec = (Date.now() - t0) / 1000;
    log(
      `${clients} clients on ${processes} api process(es): ${joined} joined, ${failed} failed in ${connectSec.toFixed(1)} s`,
    );

    // One student per question, each in the room like any other: students are muted and rate-limited,
    // the teacher is not, so a teacher's ask would skip half of the path.
    type Emitter = { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> } };
    const students: Emitter[] = [];
    for (let r = 0; r <= ROUNDS; r++) {
      const sub = (0xa5a5000000 + index * 1000 + r).toString(16).padStart(24, '0');
      const s: Client = io(`${apis[r % processes]!.url}/qa`, {
        transports: ['websocket'],
        auth: { token: tokens.sign({ sub, role: 'student' }) },
        reconnection: false,
        forceNew: true,
      });
      asker.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      const emit = s as unknown as Emitter;
      const joinAck = await emit.timeout(10_000).emitWithAck('room:join', { lessonId, limit: 1 });
      if (!joinAck.ok) throw new Error(`asker join: ${joinAck.error.message}`);
      students.push(emit);
    }

    const rounds: { p50_ms: number; p99_ms: number; max_ms: number; lost: number }[] = [];
    const pooled: number[] = [];
    let votesSent = 0;
    let votesRefused = 0;
    // The first question warms the code paths up and is not counted.
    for (let r = -1; r < ROUNDS; r++) {
      await sleep(1000);
      const start = now();
      const ask = await students[r + 1]!.timeout(10_000).emitWithAck('question:ask', {
        lessonId,
        text: `第 ${r + 2} 个问题：${'测'.repeat(40)}`,
        liveOffset: 600,
      });
      if (!ask.ok) throw new Error(`ask: ${ask.error.message}`);
      const questionId = (ask.data as Question).id;
      const answers = procs.map((p) => p.next('latencies'));
      for (const p of procs) p.send({ type: 'collect', questionId, t0: String(start) });
      const got = await Promise.all(answers);
      const ms = got.flatMap((g) => g.ms).sort((a, b) => a - b);
      const lost = clients - ms.length;
      votesSent = got.reduce((n, g) => n + g.votes, 0);
      votesRefused = got.reduce((n, g) => n + g.refused, 0);
      if (r < 0) continue;
      pooled.push(...ms);
      rounds.push({
        p50_ms: round1(pct(ms, 50)),
        p99_ms: round1(pct(ms, 99)),
        max_ms: round1(ms.at(-1) ?? NaN),
        lost,
      });
      log(
        `  round ${r + 1}: p50 ${pct(ms, 50).toFixed(1)} ms, p99 ${pct(ms, 99).toFixed(1)} ms, lost ${lost}`,
      );
    }
    pooled.sort((a, b) => a - b);
    return {
      clients,
      processes,
      p50_ms: round1(pct(pooled, 50)),
      p99_ms: round1(pct(pooled, 99)),
      lost: Math.max(...rounds.map((r) => r.lost)),
      connect_failed: failed,
      connect_s: round1(connectSec),
      client_processes: procs.length,
      asks_by: 'students',
      upvotes_sent: votesSent,
      upvotes_refused: votesRefused,
      rounds,
    };
  } finally {
    for (const s of asker) s.disconnect();
    for (const p of procs) if (p.child.connected) p.send({ type: 'stop' });
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null) return resolve();
            const kill = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
            p.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
          }),
      ),
    );
    for (const a of apis) await a.api.stop(15_000);
  }
}

async function bench() {
  let exitCode = 0;
  const work = mkdtempSync(join(tmpdir(), 'sky-bench-qa-'));
  let infra: LocalInfra | undefined;
  try {
    log('starting mongod and redis-server…');
    infra = await startLocalInfra({ cacheGb: 0.25 });
    const results = [];
    for (const [i, r] of RUNS.entries()) {
      log(`run ${i + 1}/${RUNS.length}: ${r.clients} clients, ${r.processes} api process(es)…`);
      results.push(await run(infra, work, i, r.clients, r.processes));
    }
    const result = {
      runs: results,
      rounds: ROUNDS,
      lost_after_ms: LOST_AFTER_MS,
      cpus: availableParallelism(),
      node: process.version,
      target: `${TARGET.clients} clients: p99 ≤ ${TARGET.p99_ms} ms, ${TARGET.lost} lost`,
      note:
        'asks: a different student each question, through the student path (mute check, per-student ask ' +
        `interval); meanwhile ${VOTERS_PER_PROC} clients of each client process upvote each question on ` +
        'arrival (upvotes_sent, refused ones counted; every vote is broadcast to the room, and 1 voter in 20 ' +
        'timed out the next ask at 5k clients). latency: from just before the student’s ask leaves its socket to each ' +
        'client’s handler (one monotonic clock), pooled over the rounds after a warm-up question; lost: the most clients of any round without ' +
        'the question within 5 s (clients that failed to join count as lost). Everything (api, mongod, ' +
        'redis-server, client processes) shares the same CPUs.',
    };
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'qa.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
    const big = results.filter((r) => r.clients >= TARGET.clients);
    if (big.some((r) => r.p99_ms > TARGET.p99_ms || r.lost > TARGET.lost)) exitCode = 1;
  } catch (err) {
    console.error(err);
    exitCode = 1;
  } finally {
    await infra?.close().catch((err: unknown) => console.error(`[bench] stopping infra: ${String(err)}`));
    rmSync(work, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

if (process.argv.includes('--clients')) await clientProcess();
else await bench();
