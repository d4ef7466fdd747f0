// The sfu's calls to another sfu node's internal routes (cascading), with the shared secret.
import { AppError } from '@sky/contracts';
import { CASCADE_SECRET_HEADER } from '../services/cascade-wire.js';

export type CascadePost = (baseUrl: string, path: string, body: unknown) => Promise<unknown>;

export function createCascadeClient(secret: string, timeoutMs = 3000): CascadePost {
  return async (baseUrl, path, body) => {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CASCADE_SECRET_HEADER]: secret },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AppError('DEPENDENCY_DOWN', `sfu node ${baseUrl} unreachable: ${(err as Error).message}`);
    }
    const reply: unknown = await res.json().catch(() => undefined);
    if (!res.ok) throw new AppError('DEPENDENCY_DOWN', `sfu node ${baseUrl} answered ${res.status}`);
    return reply;
  };
}
