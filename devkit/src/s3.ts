// A real S3 server: OpenStack Swift (Debian's swift-* packages) as a one-node "SAIO", with the s3api
// middleware in front of tempauth. One replica, one device in a plain directory (mount_check off), rings
// built on the spot with swift-ring-builder. Tests run it on free ports in a temp folder; `npm run
// start:cluster` on fixed ports in .data/cluster/swift, kept across restarts.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import type { S3Settings } from '@sky/contracts/storage';
import { createS3Storage, type S3Storage } from '@sky/contracts/storage-s3';
import { freePort, waitForPort } from './ports.js';
import { startProcess, type Managed } from './process.js';

const run = promisify(execFile);
const tail = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
};

export interface S3Stack {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Makes a bucket (a Swift container), or finds it made already, and answers its name. */
  createBucket(name: string): Promise<string>;
  /** The env a service needs to use `bucket` (its zod config reads these). */
  env(bucket: string): Record<string, string>;
  /** The settings a service reads from `env(bucket)`. */
  settings(bucket: string): S3Settings;
  /** The project's storage port on `bucket`, as a service given `env(bucket)` builds it. */
  store(bucket: string): S3Storage;
  /** Seconds from the first ring build to a proxy that answers. */
  startSec: number;
  dir: string;
  /** The proxy, account, container and object servers. */
  processes: Managed[];
  /** Stops the servers; a temp folder of its own (no `dir` given) is removed too. */
  close(): Promise<void>;
}

export interface S3Options {
  /** Data, rings and logs here, kept by close() (default: a temp folder, removed by close()). */
  dir?: string;
  /** The proxy's, account's, container's and object server's ports (free ones when absent). */
  ports?: [number, number, number, number];
}

// tempauth's user `test:tester` with key `testing`; s3api takes `account:user` as the access key id
const USER = 'test:tester';
const KEY = 'testing';

export async function startS3(opts: S3Options = {}): Promise<S3Stack> {
  const t0 = performance.now();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sky-swift-'));
  mkdirSync(dir, { recursive: true });
  const procs: Managed[] = [];
  const close = async () => {
    await Promise.all(procs.map((p) => p.stop(3000)));
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const devices = join(dir, 'srv');
    mkdirSync(join(devices, 'd1'), { recursive: true });
    const [proxy, account, container, object] = opts.ports ?? [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    writeFileSync(
      join(dir, 'swift.conf'),
      '[swift-hash]\nswift_hash_path_suffix = sky-test\nswift_hash_path_prefix = sky-test\n\n' +
        '[storage-policy:0]\nname = Policy-0\ndefault = yes\n',
    );
    // part power 6 (64 partitions), one replica, min_part_hours 1: all that one device needs
    await Promise.all(
      (
        [
          ['account', account],
          ['container', container],
          ['object', object],
        ] as const
      ).map(async ([ring, port]) => {
        const builder = join(dir, `${ring}.builder`);
        // a kept folder keeps its rings (they name the ports, which stay the same there)
        if (existsSync(join(dir, `${ring}.ring.gz`))) return;
        rmSync(builder, { force: true });
        await run('swift-ring-builder', [builder, 'create', '6', '1', '1']);
        await run('swift-ring-builder', [builder, 'add', `r1z1-127.0.0.1:${port}/d1`, '1']);
        // exit code 1 = "warning" (one device cannot be balanced across zones): the ring is written anyway
        await run('swift-ring-builder', [builder, 'rebalance']).catch((err: { code?: number }) => {
          if (err.code !== 1) throw err;
        });
      }),
    );
    const common = (port: number) =>
      `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${port}\nworkers = 0\nswift_dir = ${dir}\n` +
      `devices = ${devices}\nmount_check = false\nlog_level = WARNING\n`;
    for (const [name, port] of [
      ['account', account],
      ['container', container],
      ['object', object],
    ] as const) {
      writeFileSync(
        join(dir, `${name}-server.conf`),
        `${common(port)}\n[pipeline:main]\npipeline = ${name}-server\n\n` +
          `[app:${name}-server]\nuse = egg:swift#${name}\n\n` +
          `[${name}-replicator]\n[${name}-auditor]\n` +
          (name === 'account' ? '[account-reaper]\n' : `[${name}-updater]\n`),
      );
    }
    const endpoint = `http://127.0.0.1:${proxy}`;
    writeFileSync(
      join(dir, 'proxy-server.conf'),
      `${common(proxy)}\n[pipeline:main]\n` +
        'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server\n\n' +
        '[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\nallow_account_management = true\n\n' +
        `[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = ${KEY} .admin ${endpoint}/v1/AUTH_test\n\n` +
        // s3api: one region, no S3 ACL emulation (tempauth's .admin owns the account)
        '[filter:s3api]\nuse = egg:swift#s3api\nlocation = us-east-1\n\n' +
        // no memcached here: the cache filter answers misses and the proxy works without it
        `[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:${await freePort()}\n\n` +
        [
          'catch_errors',
          'gatekeeper',
          'healthcheck',
          'proxy-logging',
          'listing_formats',
          'bulk',
          'copy',
          'slo',
          'dlo',
        ]
          .map((f) => `[filter:${f}]\nuse = egg:swift#${f.replace('-', '_')}\n`)
          .join('\n'),
    );
    for (const name of ['account', 'container', 'object', 'proxy']) {
      procs.push(
        startProcess(
          `swift-${name}`,
          `swift-${name}-server`,
          [join(dir, `${name}-server.conf`), '--verbose'],
          {
            logFile: join(dir, `${name}.log`),
          },
        ),
      );
    }
    // python + eventlet start slowly on a loaded machine (6–24 s seen on two busy cores)
    await Promise.all([proxy, account, container, object].map((p) => waitForPort(p, 90_000)));
    const settings = {
      endpoint,
      region: 'us-east-1',
      accessKeyId: USER,
      secretAccessKey: KEY,
      forcePathStyle: true,
    };
    // the proxy answers once its rings are loaded: a first listing proves s3api and tempauth agree
    const probe = createS3Storage({ ...settings, bucket: 'probe' });
    for (let i = 0; ; i++) {
      try {
        await probe.client.send(new ListBucketsCommand({}));
        break;
      } catch (err) {
        if (i >= 50) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    probe.client.destroy();
    const startSec = (performance.now() - t0) / 1000;
    return {
      endpoint,
      region: 'us-east-1',
      accessKeyId: USER,
      secretAccessKey: KEY,
      startSec,
      dir,
      processes: procs,
      async createBucket(name) {
        const s3 = createS3Storage({ ...settings, bucket: name });
        try {
          await s3.client.send(new CreateBucketCommand({ Bucket: name }));
        } catch (err) {
          // a kept store made it on an earlier start
          const name = (err as { name?: string }).name;
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
        } finally {
          s3.client.destroy();
        }
        return name;
      },
      env: (bucket) => ({
        S3_ENDPOINT: endpoint,
        S3_BUCKET: bucket,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: USER,
        S3_SECRET_ACCESS_KEY: KEY,
        S3_FORCE_PATH_STYLE: 'true',
      }),
      settings: (bucket) => ({ ...settings, bucket }),
      store: (bucket) => createS3Storage({ ...settings, bucket }),
      close,
    };
  } catch (err) {
    // the servers' own words say why (a ring, a port, a missing package): keep them in the failure
    const logs = ['proxy', 'account', 'container', 'object']
      .map((n) => `--- ${n}\n${tail(join(dir, `${n}.log`))}`)
      .join('\n');
    await close();
    throw new Error(`swift did not start: ${(err as Error).message}\n${logs}`, { cause: err });
  }
}
