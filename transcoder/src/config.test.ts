import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from './config.js';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'config-test-secret-at-least-32-characters',
};

test('a transcoder needs a store: a media folder or a bucket, and says so', () => {
  assert.throws(() => loadConfig(base), /MEDIA_DIR: set MEDIA_DIR \(a local media folder\) or S3_BUCKET/);
  assert.equal(loadConfig({ ...base, MEDIA_DIR: '/media' }).S3_BUCKET, undefined);
  const s3 = loadConfig({
    ...base,
    S3_BUCKET: 'lessons',
    S3_ENDPOINT: 'http://127.0.0.1:9000',
    S3_FORCE_PATH_STYLE: 'true',
  });
  assert.equal(s3.MEDIA_DIR, undefined);
  assert.equal(s3.S3_FORCE_PATH_STYLE, true);
  assert.equal(s3.S3_REGION, 'us-east-1');
});

test('S3 settings are checked before the first job: a bad endpoint, half a key pair', () => {
  assert.throws(() => loadConfig({ ...base, S3_BUCKET: 'lessons', S3_ENDPOINT: 'not a url' }), /S3_ENDPOINT/);
  assert.throws(
    () => loadConfig({ ...base, S3_BUCKET: 'lessons', S3_ACCESS_KEY_ID: 'AKIA' }),
    /both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither/,
  );
  assert.throws(
    () => loadConfig({ ...base, S3_BUCKET: 'lessons', S3_FORCE_PATH_STYLE: 'yes' }),
    /S3_FORCE_PATH_STYLE/,
  );
});
