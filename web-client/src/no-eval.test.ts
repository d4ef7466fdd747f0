import assert from 'node:assert/strict';
import { test } from 'node:test';

test('zod loaded after no-eval is jitless: it never probes new Function under the CSP', async () => {
  await import('./no-eval');
  const { z } = await import('zod');
  assert.equal(z.config().jitless, true);
});
