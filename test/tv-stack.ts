// The TV stack for integration tests: a real api holding one 30 s lesson transcoded by the real pipeline,
// a curriculum service scheduling the caller's plan, and the gateway on a clock the test can shift.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRADE_NAMES, type DeviceCodeResponse, type DeviceTokenResponse, type Plan } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { freePort, testLogger, useInfra } from '@sky/devkit';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { startTestApi, type TestApi } from '../api/test/helpers.js';
import { createApp as createCurriculum } from '../curriculum/src/app.js';
import { createApp as createGateway } from '../tv-gateway/src/app.js';
import { loadConfig } from '../tv-gateway/src/config.js';
import { addPlayableLesson, testTerm } from './fixtures.js';

/** The api test helper's secret: its users' tokens approve devices on the gateway. */
export const SECRET = 'test-secret-that-is-at-least-32-characters';
export const tokens = createTokenIssuer(SECRET, 600);

/**
 * One channel (tv-p1) in the week of 2026-11-23: grade 1 maths at 08:00 and 09:00 each school day, 20
 * minutes, every lesson airing the api lesson `vodLessonId`.
 */
export function p1MathPlan(vodLessonId: string, titles: string[]): Plan {
  return {
    term: testTerm({ slots: ['08:00', '09:00'], maxDaily: 2, lessonMinutes: 20 }),
    subjects: [{ code: 'math', zh: '数学', en: 'Maths', stages: ['primary'], weeklyQuota: 5, core: true }],
    teachers: [{ id: 't-p1', name: '王老师', subjects: ['math'], grades: ['p1'], unavailable: [] }],
    channels: [
      {
        id: 'tv-p1',
        kind: 'tv',
        number: 1,
        zh: `空中课堂 ${GRADE_NAMES.p1.zh}`,
        en: 'Sky Classroom P1',
        grades: ['p1'],
      },
    ],
    lessons: titles.map((title, i) => ({
      id: `p1-math-${i + 1}`,
      title,
      grade: 'p1' as const,
      subject: 'math',
      unit: '第一单元',
      order: i + 1,
      durationMin: 20,
      teacherId: 't-p1',
      recording: 'ready' as const,
      vodLessonId,
    })),
  };
}

export interface TvStack {
  api: TestApi;
  /** The api's origin (web client, /media). */
  web: string;
  /** The gateway's origin. */
  base: string;
  /** The api lesson every plan lesson points at. */
  lessonId: string;
  curriculum: Awaited<ReturnType<typeof createCurriculum>>;
  gateway: Awaited<ReturnType<typeof createGateway>>;
  /** The curriculum's database. */
  curriculumDb: mongoose.Connection;
  /** The Redis both use, and the client name of the gateway's subscriber connection there. */
  redisUrl: string;
  subscriberName: string;
  /** The gateway's clock runs in real time plus this many seconds. */
  shift: number;
  /** A second gateway process's worth (its own caches, same config and public URL): its origin. */
  startReplica(): Promise<string>;
  close(): Promise<void>;
}

const origin = (app: { http: { server: { address(): unknown } } }) =>
  `http://127.0.0.1:${(app.http.server.address() as { port: number }).port}`;

export async function startTvStack(opts: {
  /** The plan to schedule, given the api lesson id its lessons should air (and the api, to add more). */
  plan: (vodLessonId: string, api: TestApi) => Plan | Promise<Plan>;
  /** Extra api config (e.g. WEB_DIST_DIR). */
  apiEnv?: Record<string, string>;
  /** Extra gateway config (e.g. TV_UI_DIR). */
  gatewayEnv?: Record<string, string>;
}): Promise<TvStack> {
  // What has started so far, stopped in reverse when a later step fails: a half-built stack must not
  // keep the test file's process alive (its runner would wait for it forever).
  const undo: (() => unknown)[] = [];
  try {
    // The gateway's port comes first: the api proxies /api/tv to it (the web's /pair page).
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // and the curriculum's: the api proxies /api/curriculum to it (the plan and timetable pages)
    const curriculumPort = await freePort();
    const api = await startTestApi({
      TV_GATEWAY_URL: base,
      CURRICULUM_URL: `http://127.0.0.1:${curriculumPort}`,
      ...opts.apiEnv,
    });
    undo.push(() => api.close());
    await api.app.http.listen({ host: '127.0.0.1', port: 0 });
    const web = origin(api.app);

    const lesson = await addPlayableLesson(api, { title: '认识钟表', grade: 'p1', subject: '数学' });

    const infra = await useInfra();
    undo.push(() => infra.close());
    const mongo = await mongoose.createConnection(infra.mongoUri).asPromise();
    undo.push(() => mongo.close());
    const conns: Redis[] = [];
    undo.push(() => conns.forEach((c) => c.disconnect()));
    const redis = (connectionName?: string) => {
      const c = new Redis(infra.redisUrl, connectionName ? { connectionName } : {});
      conns.push(c);
      return c;
    };
    const curriculum = await createCurriculum({
      logger: testLogger('curriculum', logOptions('curriculum', 'info')),
      mongo,
      redis: redis(),
      redisPrefix: infra.prefix,
      verify: (t) => tokens.verify(t),
      version: 'test',
    });
    undo.push(() => curriculum.close());
    await curriculum.http.listen({ host: '127.0.0.1', port: curriculumPort });
    await curriculum.schedule.replacePlan(await opts.plan(lesson.id, api), 'test');
    await curriculum.schedule.build('test');

    const cacheDir = mkdtempSync(join(tmpdir(), 'sky-tv-cache-'));
    undo.push(() => rmSync(cacheDir, { recursive: true, force: true }));
    const stack = { shift: 0 } as TvStack;
    const subscriberName = `tv-gateway-sub-${infra.prefix}`;
    const startGateway = () =>
      createGateway({
        config: loadConfig({
          CURRICULUM_URL: origin(curriculum),
          API_URL: web,
          WEB_URL: web,
          REDIS_URL: infra.redisUrl,
          REDIS_PREFIX: infra.prefix,
          JWT_SECRET: SECRET,
          CACHE_DIR: cacheDir,
          LOG_LEVEL: 'silent',
          PUBLIC_URL: base,
          ...opts.gatewayEnv,
        }),
        logger: testLogger('tv-gateway', logOptions('tv-gateway', 'info')),
        version: 'test',
        redis: redis(),
        subscriber: redis(subscriberName),
        verifyUser: (t) => tokens.verify(t),
        now: () => Date.now() / 1000 + stack.shift,
      });
    const gateway = await startGateway();
    const replicas: (typeof gateway)[] = [];
    undo.push(() => gateway.close());
    await gateway.http.listen({ host: '127.0.0.1', port });
    await Promise.all([gateway.artwork.slateDir('720p'), gateway.artwork.slateDir('360p')]);

    return Object.assign(stack, {
      api,
      web,
      base,
      lessonId: lesson.id,
      curriculum,
      gateway,
      curriculumDb: mongo,
      redisUrl: infra.redisUrl,
      subscriberName,
      async startReplica() {
        const replica = await startGateway();
        replicas.push(replica);
        await replica.http.listen({ host: '127.0.0.1', port: 0 });
        return origin(replica);
      },
      async close() {
        for (const r of replicas) await r.close();
        await gateway.close();
        await curriculum.close();
        for (const c of conns) c.disconnect();
        await mongo.close();
        await infra.close();
        await api.close();
        rmSync(cacheDir, { recursive: true, force: true });
      },
    });
  } catch (err) {
    for (const step of undo.reverse()) await Promise.resolve(step()).catch(() => undefined);
    throw err;
  }
}

/** What a box on first start does: ask the gateway (at `base`) for a code to show. */
export async function boxAsksForCode(base: string): Promise<DeviceCodeResponse> {
  const res = await fetch(`${base}/device/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.status !== 200) throw new Error(`device code: ${res.status} ${await res.text()}`);
  return (await res.json()) as DeviceCodeResponse;
}

/** The box's poll once the family confirmed: its token and what it is paired as. */
export async function boxPicksUpToken(base: string, code: DeviceCodeResponse): Promise<DeviceTokenResponse> {
  const res = await fetch(`${base}/device/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: code.device_code,
    }),
  });
  if (res.status !== 200) throw new Error(`device token: ${res.status} ${await res.text()}`);
  return (await res.json()) as DeviceTokenResponse;
}
