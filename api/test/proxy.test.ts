// The services the api fronts (curriculum, TV gateway): a service that does not answer is a 503 problem.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Problem } from '@sky/contracts';
import { freePort } from '@sky/devkit';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
before(async () => {
  const closed = await freePort(); // nothing listens there
  api = await startTestApi({
    CURRICULUM_URL: `http://127.0.0.1:${closed}`,
    TV_GATEWAY_URL: `http://127.0.0.1:${closed}`,
  });
});
after(() => api.close());

test('a proxied service that is down answers 503 DEPENDENCY_DOWN, not an internal error', async () => {
  for (const url of ['/api/curriculum/schedule?grade=p1', '/api/tv/api/channels']) {
    const res = await api.app.http.inject({ url });
    assert.equal(res.statusCode, 503, url);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.equal(res.json<Problem>().code, 'DEPENDENCY_DOWN');
  }
});
