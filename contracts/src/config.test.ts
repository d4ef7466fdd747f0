import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mongoDefaults, redisTarget } from './config.js';

test('Redis: a URL, or Sentinel (host:port list + master name, passwords passed on)', () => {
  assert.deepEqual(redisTarget({ REDIS_URL: 'redis://r:6379' }), { url: 'redis://r:6379' });
  assert.deepEqual(
    redisTarget({
      REDIS_SENTINELS: 's1:26379, s2:26380,[::1]:26381',
      REDIS_SENTINEL_MASTER: 'sky',
      REDIS_SENTINEL_PASSWORD: 'sp',
      REDIS_PASSWORD: 'mp',
    }),
    {
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      master: 'sky',
      sentinelPassword: 'sp',
      password: 'mp',
    },
  );
});

test('Redis roles: the queue and the analytics ingest take their own URL, else the main one', () => {
  const env = { REDIS_URL: 'redis://main', REDIS_QUEUE_URL: 'redis://queue' };
  assert.deepEqual(redisTarget(env, 'queue'), { url: 'redis://queue' });
  assert.deepEqual(redisTarget(env, 'analytics'), { url: 'redis://main' });
  assert.deepEqual(redisTarget(env), { url: 'redis://main' });
});

test('Redis: a missing, doubled or malformed setting is refused with what to set', () => {
  assert.throws(() => redisTarget({}), /set REDIS_URL or REDIS_SENTINELS/);
  assert.throws(
    () => redisTarget({ REDIS_URL: 'redis://a', REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm' }),
    /not both/,
  );
  assert.throws(() => redisTarget({ REDIS_SENTINELS: 's:1' }), /REDIS_SENTINEL_MASTER/);
  assert.throws(
    () => redisTarget({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'm' }),
    /"s1" is not host:port/,
  );
});

test('Mongo: majority and retryable writes, members asked every 2 s, unless the URI sets them', () => {
  assert.deepEqual(mongoDefaults('mongodb://a,b,c/sky?replicaSet=rs0'), {
    writeConcern: { w: 'majority' },
    retryWrites: true,
    heartbeatFrequencyMS: 2000,
  });
  assert.deepEqual(mongoDefaults('mongodb://a/sky?w=1&retryWrites=false&heartbeatFrequencyMS=10000'), {});
  assert.deepEqual(mongoDefaults('mongodb://a/sky?W=2'), { retryWrites: true, heartbeatFrequencyMS: 2000 });
});
