// The services' logger (logOptions) keeps credentials out of the logs: tokens in query strings, the
// Authorization header, password and token fields.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { logOptions } from '@sky/contracts/http';
import Fastify from 'fastify';
import { pino } from 'pino';

test('request logs and hand-written log lines carry no token, password or Authorization', async () => {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const app = Fastify({ loggerInstance: pino(logOptions('api', 'info'), sink) });
  app.get('/media/x', async (req) => {
    req.log.info({ url: req.url, body: { password: 'hunter2-secret' } }, 'proxied');
    req.log.warn({ accessToken: 'eyJ.secret-access', refreshToken: 'r.secret-refresh' }, 'tokens');
    return 'ok';
  });
  const res = await app.inject({
    url: '/media/x?token=stb_secret-device&access_token=eyJ.secret-query&device_code=dc-secret&lang=zh',
    headers: { authorization: 'Bearer eyJ.secret-header', cookie: 'sid=secret-cookie' },
  });
  assert.equal(res.statusCode, 200);
  await app.close();
  assert.match(
    out,
    /"url":"\/media\/x\?token=\[redacted\]&access_token=\[redacted\]&device_code=\[redacted\]&lang=zh"/,
  );
  for (const secret of [
    'stb_secret',
    'secret-query',
    'dc-secret',
    'secret-header',
    'secret-cookie',
    'hunter2',
    'secret-access',
    'secret-refresh',
  ]) {
    assert.ok(!out.includes(secret), `${secret} in the logs:\n${out}`);
  }
});

test('a mistyped URL carrying a token is logged without it ("Route … not found")', async () => {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const app = Fastify({ loggerInstance: pino(logOptions('tv-gateway', 'info'), sink) });
  const res = await app.inject({
    url: '/channel.m3u?token=stb_secret-device&ticket=tk_secret-ticket&lang=zh',
  });
  assert.equal(res.statusCode, 404);
  await app.close();
  assert.match(out, /Route GET:\/channel\.m3u\?token=\[redacted\]&ticket=\[redacted\]&lang=zh not found/);
  assert.ok(!out.includes('stb_secret') && !out.includes('tk_secret'), out);
});
