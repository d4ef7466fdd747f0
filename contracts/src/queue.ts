// Typed BullMQ glue over the job map. A separate entry (@sky/contracts/queue) so browsers never load it.
import { JOB_QUEUE, isJobName, parseJob, type JobName, type JobPayloads } from './jobs.js';
import { Queue, QueueEvents, UnrecoverableError, Worker, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis, type RedisTarget } from './redis.js';

export interface ConsumeOptions {
  concurrency?: number;
  /** How long a worker holds a job without renewing its lock; a crashed worker's job is retried after it. */
  lockDurationMs?: number;
  /** How often stalled jobs (their worker died) are looked for and put back. */
  stalledIntervalMs?: number;
  /**
   * This worker's name on Redis (its blocking connection's CLIENT SETNAME, BullMQ's `name`): `workers()`
   * lists it, and each job it runs records it. No spaces.
   */
  workerName?: string;
}

/** What a handler may tell the queue while it works. */
export interface JobContext {
  /** Progress visible to anyone watching the queue (throttle it: each call is a Redis write). */
  progress(data: Record<string, unknown>): Promise<void>;
}

export type JobHandler<K extends JobName> = (payload: JobPayloads[K], ctx: JobContext) => Promise<void>;

export interface JobQueues {
  enqueue<K extends JobName>(name: K, payload: JobPayloads[K], opts?: JobsOptions): Promise<string>;
  /** Runs a worker over the queue that carries `handlers`' jobs; every job name there must have a handler. */
  consume<K extends JobName>(handlers: { [N in K]: JobHandler<N> }, opts?: ConsumeOptions): Worker;
  /** Calls `listener` with the progress every job of `queue` reports, from any worker process. */
  onProgress(queue: string, listener: (data: unknown) => void): void;
  /** The BullMQ queue behind a name (for the queue UI). */
  queue(name: string): Queue;
  /**
   * The names of the workers connected to a queue now (from Redis's client list, as BullMQ reads it), one
   * per worker process; `unnamed` for a worker started without `workerName`.
   */
  workers(queue: string): Promise<string[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * `redis`: a URL or a target (Sentinel) from `redisTarget(config, 'queue')`. `prefix` may be hash-tagged
 * (`{sky}`) so a Redis Cluster keeps all of BullMQ's keys in one slot.
 */
export function createJobQueues(redis: RedisTarget | string, prefix: string): JobQueues {
  // BullMQ workers block on Redis: they need maxRetriesPerRequest null; producers share it.
  const connection = connectRedis(typeof redis === 'string' ? { url: redis } : redis, {
    maxRetriesPerRequest: null,
    lazyConnect: false,
  });
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  const extra: Redis[] = [];
  const listeners: QueueEvents[] = [];
  // BullMQ never closes a connection it was handed: we keep each one to close it ourselves.
  // They reconnect by themselves (through a failover too); ping() shows one that cannot in /healthz.
  connection.on('error', () => {});
  const own = () => {
    const c = connection.duplicate();
    c.on('error', () => {});
    extra.push(c);
    return c;
  };
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      queues.set(name, q);
    }
    return q;
  };
  return {
    async enqueue(name, payload, opts) {
      const job = await queue(JOB_QUEUE[name]).add(name, parseJob(name, payload), {
        attempts: 3,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
        ...opts,
      });
      return job.id ?? '';
    },
    consume(handlers, opts = {}) {
      const names = Object.keys(handlers) as JobName[];
      const queueNames = new Set(names.map((n) => JOB_QUEUE[n]));
      if (queueNames.size !== 1)
        throw new Error(`handlers span several queues: ${[...queueNames].join(', ')}`);
      const queueName = [...queueNames][0]!;
      const carried = (Object.keys(JOB_QUEUE) as JobName[]).filter((n) => JOB_QUEUE[n] === queueName);
      const missing = carried.filter((n) => !names.includes(n));
      if (missing.length)
        throw new Error(`queue ${queueName} has jobs without a handler: ${missing.join(', ')}`);
      const table = handlers as unknown as Record<string, (p: unknown, ctx: JobContext) => Promise<void>>;
      const worker = new Worker(
        queueName,
        async (job) => {
          if (!isJobName(job.name) || !table[job.name])
            throw new UnrecoverableError(`unknown job ${job.name}`);
          let payload: unknown;
          try {
            payload = parseJob(job.name, job.data);
          } catch (err) {
            throw new UnrecoverableError(`malformed ${job.name} payload: ${(err as Error).message}`);
          }
          await table[job.name]!(payload, { progress: (data) => job.updateProgress(data) });
        },
        {
          connection: own(),
          prefix,
          concurrency: opts.concurrency ?? 1,
          ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
          ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
          ...(opts.workerName ? { name: opts.workerName } : {}),
        },
      );
      workers.push(worker);
      return worker;
    },
    queue,
    async workers(name) {
      // BullMQ names a worker's connection `<prefix>:<queue in base64>`, then `:w:<name>` when it has one
      const named = `${prefix}:${Buffer.from(name).toString('base64')}:w:`;
      const clients = (await queue(name).getWorkers()) as { rawname?: string }[];
      const names = clients.map((c) =>
        c.rawname?.startsWith(named) ? c.rawname.slice(named.length) : 'unnamed',
      );
      return [...new Set(names)].sort();
    },
    onProgress(queueName, listener) {
      const events = new QueueEvents(queueName, { connection: own(), prefix });
      events.on('progress', ({ data }) => listener(data));
      listeners.push(events);
    },
    async ping() {
      try {
        return (await connection.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([...workers.map((w) => w.close()), ...listeners.map((l) => l.close())]);
      await Promise.all([...queues.values()].map((q) => q.close()));
      for (const c of extra) c.disconnect();
      connection.disconnect();
    },
  };
}
