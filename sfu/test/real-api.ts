// The real api (real mongod, redis-server) for the sfu's integration tests, listening on a real port so
// the sfu's ApiClient reaches it over HTTP exactly as in production. Loaded at run time from the api's
// own test helper: the sfu package does not compile against the api's sources.
import type { AddressInfo } from 'node:net';
import type { Lesson, Role } from '@sky/contracts';

interface Inject {
  (opts: { method?: string; url: string; headers?: Record<string, string>; payload?: unknown }): Promise<{
    statusCode: number;
    body: string;
    json<T>(): T;
  }>;
}
interface TestApiLike {
  app: {
    http: {
      inject: Inject;
      listen(o: { host: string; port: number }): Promise<string>;
      server: { address(): unknown };
    };
  };
  tokens: Record<Role, string>;
  redisUrl: string;
  prefix: string;
  mediaDir: string;
  close(): Promise<void>;
}

export interface RealApi {
  url: string;
  tokens: Record<Role, string>;
  redisUrl: string;
  prefix: string;
  mediaDir: string;
  /** A lesson by the test teacher (status draft). */
  lesson(title?: string): Promise<Lesson>;
  /** POST /api/lessons/:id/live as `role`. */
  goLive(id: string, role?: Role): Promise<number>;
  get<T>(url: string, role: Role): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startRealApi(extraEnv: Record<string, string> = {}): Promise<RealApi> {
  const helpers = new URL('../../api/test/helpers.ts', import.meta.url).href;
  const mod = (await import(helpers)) as { startTestApi(env?: Record<string, string>): Promise<TestApiLike> };
  const api = await mod.startTestApi(extraEnv);
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(api.app.http.server.address() as AddressInfo).port}`;
  const as = (role: Role) => ({ authorization: `Bearer ${api.tokens[role]}` });
  return {
    url,
    tokens: api.tokens,
    redisUrl: api.redisUrl,
    prefix: api.prefix,
    mediaDir: api.mediaDir,
    async lesson(title = '直播：认识分数') {
      const res = await api.app.http.inject({
        method: 'POST',
        url: '/api/lessons',
        headers: as('teacher'),
        payload: { title, grade: 'p3', subject: '数学' },
      });
      if (res.statusCode !== 201) throw new Error(`lesson: ${res.statusCode} ${res.body}`);
      return res.json<Lesson>();
    },
    async goLive(id, role = 'teacher') {
      return (
        await api.app.http.inject({ method: 'POST', url: `/api/lessons/${id}/live`, headers: as(role) })
      ).statusCode;
    },
    async get<T>(u: string, role: Role) {
      const res = await api.app.http.inject({ url: u, headers: as(role) });
      return { status: res.statusCode, body: res.json<T>() };
    },
    close: () => api.close(),
  };
}
