// The real api (real-api.ts) on a thread of its own, as it runs in a process of its own when deployed: the
// test runner's bookkeeping of every promise of the test's thread (node:test's async hook) does not tax
// it, and its requests are not queued behind the test's own work. Lessons are made through its HTTP api.
import { Worker } from 'node:worker_threads';
import type { Lesson, Role } from '@sky/contracts';
import type { RealApi } from './real-api.js';

export async function startApiThread(): Promise<RealApi> {
  // the worker loads TypeScript as this thread does (tsx's loader, registered in the worker first)
  const main = new URL('./api-thread-main.ts', import.meta.url).href;
  const worker = new Worker(
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(main)}); })`,
    { eval: true },
  );
  const info = await new Promise<Pick<RealApi, 'url' | 'tokens' | 'redisUrl' | 'prefix' | 'mediaDir'>>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  const call = async (method: string, path: string, role: Role, body?: unknown) => {
    const res = await fetch(`${info.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${info.tokens[role]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed: unknown = await res.json().catch(() => undefined);
    return { status: res.status, body: parsed };
  };
  return {
    ...info,
    async lesson(title = '直播：认识分数') {
      const res = await call('POST', '/api/lessons', 'teacher', { title, grade: 'p3', subject: '数学' });
      if (res.status !== 201) throw new Error(`lesson: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as Lesson;
    },
    async goLive(id, role = 'teacher') {
      return (await call('POST', `/api/lessons/${id}/live`, role)).status;
    },
    async get<T>(url: string, role: Role) {
      const res = await call('GET', url, role);
      return { status: res.status, body: res.body as T };
    },
    async close() {
      const closed = new Promise<void>((r) => worker.once('message', () => r()));
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
