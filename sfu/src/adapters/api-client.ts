// The sfu asks the api, with the user's own access token, whether a lesson is live, who teaches it and
// what the user is called. The only place the sfu talks HTTP to the api.
import { AppError, LiveInfo, PublicUser } from '@sky/contracts';

export interface ApiClient {
  /** GET /api/lessons/:id/live. NOT_FOUND, FORBIDDEN, UNAUTHENTICATED as the api says; DEPENDENCY_DOWN otherwise. */
  liveInfo(lessonId: string, token: string): Promise<LiveInfo>;
  /** GET /api/me: the user's display name for the stage queue. */
  me(token: string): Promise<PublicUser>;
}

const PASSED_ON = new Set(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED', 'TOKEN_EXPIRED']);

export function createApiClient(baseUrl: string, timeoutMs = 5000): ApiClient {
  const get = async (path: string, token: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AppError('DEPENDENCY_DOWN', `the api cannot be reached: ${(err as Error).message}`);
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (res.ok) return body;
    const code = (body as { code?: unknown } | undefined)?.code;
    const detail = (body as { detail?: unknown } | undefined)?.detail;
    if (typeof code === 'string' && PASSED_ON.has(code)) {
      throw new AppError(code as 'NOT_FOUND', typeof detail === 'string' ? detail : code);
    }
    throw new AppError('DEPENDENCY_DOWN', `the api answered ${res.status} to ${path}`);
  };
  const parse = <T>(
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
    v: unknown,
    what: string,
  ): T => {
    const r = schema.safeParse(v);
    if (!r.success) throw new AppError('DEPENDENCY_DOWN', `the api sent an unexpected ${what}`);
    return r.data;
  };
  return {
    async liveInfo(lessonId, token) {
      return parse(
        LiveInfo,
        await get(`/api/lessons/${encodeURIComponent(lessonId)}/live`, token),
        'LiveInfo',
      );
    },
    async me(token) {
      return parse(PublicUser, await get('/api/me', token), 'user');
    },
  };
}
