// The worker side of api-thread.ts: the real api, answering on a port, until the test says close.
import { parentPort } from 'node:worker_threads';
import { startRealApi } from './real-api.js';

const api = await startRealApi();
parentPort!.postMessage({
  url: api.url,
  tokens: api.tokens,
  redisUrl: api.redisUrl,
  prefix: api.prefix,
  mediaDir: api.mediaDir,
});
parentPort!.once('message', () => {
  void api.close().finally(() => parentPort!.postMessage('closed'));
});
