import type { Problem, TokenPair } from '@sky/contracts';

const STORAGE_KEY = 'sky.session';

/** A refused request, with what the server said (problem+json). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly fields: { path: string; message: string }[] = [],
  ) {
    super(detail);
  }
}

export function loadSession(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as TokenPair) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: TokenPair | null): void {
  if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else localStorage.removeItem(STORAGE_KEY);
}

let refreshing: Promise<TokenPair | null> | null = null;
const listeners = new Set<(s: TokenPair | null) => void>();
export const onSessionChange = (fn: (s: TokenPair | null) => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};
function setSession(s: TokenPair | null) {
  saveSession(s);
  for (const fn of listeners) fn(s);
}

async function toError(res: Response): Promise<ApiError> {
  try {
    const p = (await res.json()) as Partial<Problem>;
    return new ApiError(res.status, p.code ?? 'INTERNAL', p.detail ?? res.statusText, p.errors ?? []);
  } catch {
    return new ApiError(res.status, res.status >= 500 ? 'INTERNAL' : 'UNKNOWN', res.statusText);
  }
}

async function refresh(): Promise<TokenPair | null> {
  const session = loadSession();
  if (!session) return null;
  // Concurrent requests that all see an expired token share one refresh.
  refreshing ??= fetch('/api/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: session.refreshToken }),
  })
    .then(async (res) => (res.ok ? ((await res.json()) as TokenPair) : null))
    .catch(() => null)
    .finally(() => {
      refreshing = null;
    });
  const next = await refreshing;
  setSession(next);
  return next;
}

/** JSON request with the session's token; refreshes once on an expired token. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const send = (token: string | undefined) =>
    fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  let res = await send(loadSession()?.accessToken);
  if (res.status === 401) {
    const err = await toError(res.clone());
    if (err.code === 'TOKEN_EXPIRED') {
      const next = await refresh();
      if (next) res = await send(next.accessToken);
    }
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && !path.startsWith('/api/auth/')) setSession(null);
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function login(username: string, password: string): Promise<TokenPair> {
  const pair = await api<TokenPair>('/api/auth/login', { method: 'POST', body: { username, password } });
  setSession(pair);
  return pair;
}

export async function logout(): Promise<void> {
  const session = loadSession();
  setSession(null);
  if (session)
    await api('/api/auth/logout', { method: 'POST', body: { refreshToken: session.refreshToken } }).catch(
      () => undefined,
    );
}
