// start:cluster keeps Redis's data (persist) across runs. After a failover the promoted replica holds the
// newest writes: the next start must make it the master again (as the sentinels last named it), not the
// former master, whose older append-only file would otherwise be synced over the newer one.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { redisTarget } from '@sky/contracts';
import { connectRedis } from '@sky/contracts/redis';
import { freePort } from '@sky/devkit';
import { Redis } from 'ioredis';
import { clusterDir, startSentinelRedis, until, type SentinelRedis } from './cluster-stack.js';

const dir = clusterDir();
let cluster: SentinelRedis | undefined;
let ok = false;
after(async () => {
  await cluster?.close();
  if (ok) dir.remove();
  else console.log(`[cluster-redis-restart] logs kept in ${dir.dir}`);
});

const direct = async (port: number, f: (c: Redis) => Promise<unknown>) => {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    return await f(c);
  } finally {
    c.disconnect();
  }
};

test('a restart on kept data after a failover starts the promoted node as master, and keeps its writes', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort());
  cluster = await startSentinelRedis(dir.dir, { ports, persist: true });
  const [first, second] = [cluster.master.port, cluster.replica.port];
  await direct(first, (c) => c.set('before', '1'));
  await cluster.master.stop(0);
  await until(
    'the sentinels promote the replica',
    async () => ((await cluster!.masterPort()) === second ? true : undefined),
    30_000,
    200,
  );
  const client = connectRedis(redisTarget(cluster.env), { maxRetriesPerRequest: 5 });
  client.on('error', () => {});
  await until(
    'a write after the failover',
    async () => ((await client.set('after', '2')) === 'OK' ? true : undefined),
    15_000,
    200,
  );
  client.disconnect();
  await cluster.close();

  cluster = await startSentinelRedis(dir.dir, { ports, persist: true });
  assert.equal(cluster.master.port, second, 'the node the sentinels promoted is the master again');
  assert.equal(cluster.replica.port, first, 'the former master is its replica');
  assert.equal(await cluster.masterPort(), second);
  for (const port of [second, first])
    assert.deepEqual(await direct(port, (c) => c.mget('before', 'after')), ['1', '2'], `node :${port}`);
  ok = true;
});
