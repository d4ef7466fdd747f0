// The real curriculum service behind the real api (mongod, redis-server, the built web client), both on
// port 0, for browser tests of the pages that read the timetable.
import { join } from 'node:path';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { testLogger, useInfra } from '@sky/devkit';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { createApp as createCurriculum } from '../curriculum/src/app.js';

// The secret startTestApi gives the api: the curriculum service checks the api's tokens with it.
const SECRET = 'test-secret-that-is-at-least-32-characters';

export interface CurriculumStack {
  curriculum: Awaited<ReturnType<typeof createCurriculum>>;
  api: TestApi;
  /** The api's origin, serving the web client. */
  base: string;
  close(): Promise<void>;
}

export async function startCurriculumStack(): Promise<CurriculumStack> {
  const infra = await useInfra();
  const mongo = await mongoose.createConnection(infra.mongoUri).asPromise();
  const redis = new Redis(infra.redisUrl);
  const tokens = createTokenIssuer(SECRET, 600);
  const curriculum = await createCurriculum({
    logger: testLogger('curriculum', logOptions('curriculum', 'info')),
    mongo,
    redis,
    redisPrefix: infra.prefix,
    verify: (t) => tokens.verify(t),
    version: 'test',
  });
  const curriculumUrl = await curriculum.http.listen({ host: '127.0.0.1', port: 0 });
  const api = await startTestApi({
    WEB_DIST_DIR: join(import.meta.dirname, '..', 'web-client', 'dist'),
    CURRICULUM_URL: curriculumUrl,
  });
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.http.server.address();
  return {
    curriculum,
    api,
    base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    async close() {
      await api.close();
      await curriculum.close();
      redis.disconnect();
      await mongo.dropDatabase();
      await mongo.close();
      await infra.close();
    },
  };
}
