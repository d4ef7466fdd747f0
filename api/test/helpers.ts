import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisTarget, type Role, type TokenPair } from '@sky/contracts';
import type { Connection } from 'mongoose';
import { createJobQueues } from '@sky/contracts/queue';
import { logOptions } from '@sky/contracts/http';
import { TEST_PASSWORD, testLogger, useInfra } from '@sky/devkit';
import { connectMongo } from '@sky/contracts/mongo';
import { createMediaProbe } from '../src/adapters/media-probe.js';
import { passwords } from '../src/adapters/password.js';
import { createApp, type ApiApp, type ApiDeps } from '../src/app.js';
import { loadConfig } from '../src/config.js';

/** Where a service no test started would be: connections are refused. */
const NO_SERVICE = 'http://127.0.0.1:9';

export const PASSWORD = TEST_PASSWORD;

export interface TestApi {
  app: ApiApp;
  prefix: string;
  redisUrl: string;
  mediaDir: string;
  /** The api's own database, for tests that look under it (query plans, data written before an upgrade). */
  mongo: Connection;
  /** An access token for a user of each role, created for this test file. */
  tokens: Record<Role, string>;
  login(username: string, password?: string): Promise<TokenPair>;
  /**
   * A second api process as another machine runs it: the same database, Redis and prefix, its own media
   * folder; listening on a free port. Closed by its own close() (before this api's).
   */
  replica(
    deps?: Pick<ApiDeps, 'lessonStore' | 'uploadBucket'>,
  ): Promise<{ app: ApiApp; url: string; mediaDir: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** A real api (real mongod, redis-server, argon2) with one user per role. */
export async function startTestApi(
  extraEnv: Record<string, string> = {},
  deps: Pick<ApiDeps, 'planLessons' | 'planLinks' | 'lessonStore' | 'uploadBucket'> = {},
): Promise<TestApi> {
  const infra = await useInfra();
  const mediaDir = mkdtempSync(join(tmpdir(), 'sky-media-'));
  const configFor = (media: string) =>
    loadConfig({
      MONGODB_URI: infra.mongoUri,
      REDIS_URL: infra.redisUrl,
      QUEUE_PREFIX: infra.prefix,
      JWT_SECRET: 'test-secret-that-is-at-least-32-characters',
      LOG_LEVEL: 'silent',
      // The other services only where a test runs them: never the default ports, where `npm start` on this
      // machine may be listening (port 9, discard, is closed here)
      SFU_URL: NO_SERVICE,
      CURRICULUM_URL: NO_SERVICE,
      TRANSCODER_URL: NO_SERVICE,
      TV_GATEWAY_URL: NO_SERVICE,
      ...extraEnv,
      MEDIA_DIR: media,
    });
  const config = configFor(mediaDir);
  const mongo = await connectMongo(config.MONGODB_URI);
  const queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
  const logger = testLogger('api', logOptions('api', 'info'));
  const app = await createApp({
    config,
    logger,
    mongo,
    queues,
    passwords,
    probe: createMediaProbe({ ffprobe: 'ffprobe', ffmpeg: 'ffmpeg' }),
    version: 'test',
    // No curriculum service in most api tests: an empty plan, unless the test runs one.
    ...(extraEnv['CURRICULUM_URL']
      ? deps
      : { planLessons: async () => new Set<string>(), planLinks: async () => [], ...deps }),
  });
  await app.http.ready();

  const login = async (username: string, password = PASSWORD): Promise<TokenPair> => {
    const res = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
    });
    if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
    return res.json<TokenPair>();
  };
  const roles: Role[] = ['student', 'family', 'teacher', 'analyst', 'admin'];
  const tokens = {} as Record<Role, string>;
  for (const role of roles) {
    await app.services.users.create({
      username: `${role}.${infra.prefix}`,
      password: PASSWORD,
      displayName: role,
      role,
      ...(role === 'student' ? { grade: 'p3' as const } : {}),
    });
    tokens[role] = (await login(`${role}.${infra.prefix}`)).accessToken;
  }
  return {
    app,
    prefix: infra.prefix,
    redisUrl: infra.redisUrl,
    mediaDir,
    mongo,
    tokens,
    login,
    async replica(replicaDeps = {}) {
      const own = mkdtempSync(join(tmpdir(), 'sky-media-'));
      const rConfig = configFor(own);
      const rMongo = await connectMongo(rConfig.MONGODB_URI);
      const rQueues = createJobQueues(redisTarget(rConfig, 'queue'), rConfig.QUEUE_PREFIX);
      const rApp = await createApp({
        config: rConfig,
        logger: testLogger('api-replica', logOptions('api', 'info')),
        mongo: rMongo,
        queues: rQueues,
        passwords,
        probe: createMediaProbe({ ffprobe: 'ffprobe', ffmpeg: 'ffmpeg' }),
        version: 'test',
        planLessons: async () => new Set<string>(),
        planLinks: async () => [],
        ...replicaDeps,
      });
      await rApp.http.listen({ host: '127.0.0.1', port: 0 });
      return {
        app: rApp,
        url: `http://127.0.0.1:${(rApp.http.server.address() as { port: number }).port}`,
        mediaDir: own,
        async close() {
          await rApp.close();
          await rQueues.close();
          await rMongo.close();
          rmSync(own, { recursive: true, force: true });
        },
      };
    },
    async close() {
      await app.close();
      await queues.close();
      await mongo.dropDatabase();
      await mongo.close();
      await infra.close();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}
