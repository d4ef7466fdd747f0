import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listedNodesOnly, sfuPublicOrigins } from './sfu-nodes.js';

test('the public origins are the default node and the listed ones, once each', () => {
  assert.deepEqual(sfuPublicOrigins('http://127.0.0.1:8081/'), ['http://127.0.0.1:8081']);
  assert.deepEqual(
    sfuPublicOrigins('https://sfu-1.school.example', [
      'https://sfu-1.school.example/',
      'https://sfu-2.school.example:8443/x',
    ]),
    ['https://sfu-1.school.example', 'https://sfu-2.school.example:8443'],
  );
});

test('a node the directory names is handed out only when listed; an unlisted one is warned about once', async () => {
  const warnings: string[] = [];
  const answers = ['https://sfu-2.school.example', 'https://evil.example', 'https://evil.example', undefined];
  const seen: (string | undefined)[] = [];
  const nodeFor = listedNodesOnly(
    (_id, { unreachable }) => {
      seen.push(unreachable);
      return Promise.resolve(answers.shift());
    },
    sfuPublicOrigins('https://sfu-1.school.example', ['https://sfu-2.school.example']),
    (url) => warnings.push(url),
  );
  assert.equal(
    await nodeFor('l1', { unreachable: 'https://sfu-1.school.example' }),
    'https://sfu-2.school.example',
  );
  assert.equal(await nodeFor('l1', {}), undefined);
  assert.equal(await nodeFor('l1', {}), undefined);
  assert.equal(await nodeFor('l1', {}), undefined);
  assert.deepEqual(warnings, ['https://evil.example']);
  assert.deepEqual(seen, ['https://sfu-1.school.example', undefined, undefined, undefined]);
});
