import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import mongoose from 'mongoose';
import { isDatabaseUnavailable } from './http.js';

// The driver's own classes (the one mongoose loads), as a request meets them while a replica set elects
// a primary. A cleared pool's errors are not exported from the driver's index: they are what a request
// sees when another request's failure cleared the pool.
const { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } = mongoose.mongo;
const driver = createRequire(createRequire(import.meta.url).resolve('mongoose'));
const { PoolClearedError, PoolClearedOnNetworkError } = driver('mongodb/lib/cmap/errors.js') as {
  PoolClearedError: new (pool: { address: string }) => Error;
  PoolClearedOnNetworkError: new (pool: { address: string }) => Error;
};

test('every "no primary now" error from the driver is a 503, whatever subclass it comes as', () => {
  const pool = { address: '127.0.0.1:27017' };
  const unavailable: Error[] = [
    new MongoNetworkError('connection closed'),
    new MongoServerSelectionError('Server selection timed out after 5000 ms', {} as never),
    new PoolClearedError(pool),
    new PoolClearedOnNetworkError(pool),
    new mongoose.Error.MongooseServerSelectionError('no primary'),
    new MongoServerError({ errmsg: 'not master', code: 10107 }),
    new MongoServerError({ errmsg: 'InterruptedDueToReplStateChange', code: 11602 }),
    new MongoServerError({ errmsg: 'The server is in quiesce mode', code: 91 }),
  ];
  for (const err of unavailable) assert.ok(isDatabaseUnavailable(err), `${err.name}: ${err.message}`);
});

test('other errors stay what they are: a duplicate key, a plain error, a code on a non-Mongo error', () => {
  const other: unknown[] = [
    new MongoServerError({ errmsg: 'E11000 duplicate key', code: 11000 }),
    new MongoError('some other driver error'),
    Object.assign(new Error('looks like one'), { code: 10107 }),
    new Error('ECONNREFUSED'),
    'a string',
    null,
  ];
  for (const err of other) assert.ok(!isDatabaseUnavailable(err), String(err));
});
