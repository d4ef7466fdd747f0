import {
  Problem,
  TokenPair,
  type ErrorCode,
  type FieldError,
  type RowError,
  type Violation,
} from '@sky/contracts';

const STORAGE_KEY = 'sky.session';

/** What a response body must parse as; every contract zod schema is one. */
export interface Schema<T> {
  parse(data: unknown): T;
}

/** Contract codes, plus the two the browser itself can meet: no answer at all, or one that is not problem+json. */
export type ApiErrorCode = ErrorCode | 'NETWORK' | 'UNKNOWN';

/** A refused (or unanswered) request, with what the server said in its problem+json. */
export class ApiError extends Error {
  readonly fields: readonly FieldError[];
  /** PLAN_INVALID: every unusable row of an imported plan. */
  readonly rows: readonly RowError[];
  /** SCHEDULE_INFEASIBLE: every hard constraint that cannot be met. */
  readonly diagnosis: readonly Violation[];

  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    readonly detail: string,
    problem?: Pick<Problem, 'errors' | 'rows' | 'diagnosis'>,
  ) {
    super(detail);
    this.name = 'ApiError';
    this.fields = problem?.errors ?? [];
    this.rows = problem?.rows ?? [];
    this.diagnosis = problem?.diagnosis ?? [];
  }
}

export function loadSession(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    // A session saved by an older build (or edited by hand) is dropped, not trusted.
    const parsed = TokenPair.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function saveSession(session: TokenPair | null): void {
  if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else localStorage.removeItem(STORAGE_KEY);
}

type SessionListener = (session: TokenPair | null) => void;
const listeners = new Set<SessionListener>();

export function onSessionChange(fn: SessionListener): () => void {
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}

function setSession(session: TokenPair | null): void {
  saveSession(session);
  for (const fn of listeners) fn(session);
}

async function toError(res: Response): Promise<ApiError> {
  // No problem+json: a proxy or gateway answered because the api itself could not (502/503/504).
  const unreachable = res.status === 502 || res.status === 503 || res.status === 504;
  const fallback = new ApiError(res.status, unreachable ? 'NETWORK' : 'UNKNOWN', res.statusText);
  try {
    const parsed = Problem.safeParse(await res.json());
    if (!parsed.success) return fallback;
    const p = parsed.data;
    return new ApiError(res.status, p.code, p.detail, p);
  } catch {
    return fallback;
  }
}

/** A request body as sent: its text and content type. */
interface Payload {
  content: string;
  type: string;
}

function jsonPayload(body: unknown): Payload | undefined {
  return body === undefined ? undefined : { content: JSON.stringify(body), type: 'application/json' };
}

async function send(
  path: string,
  method: string,
  payload: Payload | undefined,
  token: string | undefined,
): Promise<Response> {
  try {
    return await fetch(path, {
      method,
      headers: {
        accept: 'application/json, application/problem+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(payload ? { 'content-type': payload.type } : {}),
      },
      ...(payload ? { body: payload.content } : {}),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
  }
}

let refreshing: Promise<TokenPair | null> | null = null;

/** Trades the refresh token for a new pair; concurrent callers that met an expired token share one trade. */
function refresh(): Promise<TokenPair | null> {
  const session = loadSession();
  if (!session) return Promise.resolve(null);
  refreshing ??= send(
    '/api/auth/refresh',
    'POST',
    jsonPayload({ refreshToken: session.refreshToken }),
    undefined,
  )
    .then(async (res) => (res.ok ? TokenPair.parse(await res.json()) : null))
    .catch(() => null)
    .then((next) => {
      setSession(next);
      return next;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/**
 * An access token good for at least another minute, refreshed first when it is about to expire: for
 * requests made outside `api()` (tus upload chunks, socket.io handshakes) on long-lived pages.
 */
export async function freshAccessToken(): Promise<string | undefined> {
  const session = loadSession();
  if (!session) return undefined;
  const payload = session.accessToken.split('.')[1] ?? '';
  let exp = 0;
  try {
    exp = Number(
      (JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number }).exp ?? 0,
    );
  } catch {
    // not a JWT we can read: let the server decide
  }
  if (exp * 1000 - Date.now() > 60_000) return session.accessToken;
  return (await refresh())?.accessToken;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, instead of `body`: a file's own text (a CSV or JSON plan) with its content type. */
  text?: Payload;
}

/**
 * A JSON request with the session's token, its answer checked against `schema`.
 * An expired access token is refreshed and the request retried once; a refused refresh ends the session.
 */
export async function api<T>(path: string, schema: Schema<T>, init?: RequestOptions): Promise<T>;
export async function api(path: string, schema: null, init?: RequestOptions): Promise<void>;
export async function api<T>(
  path: string,
  schema: Schema<T> | null,
  init: RequestOptions = {},
): Promise<T | void> {
  const method = init.method ?? 'GET';
  const payload = init.text ?? jsonPayload(init.body);
  let res = await send(path, method, payload, loadSession()?.accessToken);
  if (res.status === 401 && !path.startsWith('/api/auth/')) {
    const err = await toError(res.clone());
    if (err.code !== 'TOKEN_EXPIRED') {
      setSession(null);
      throw err;
    }
    const next = await refresh();
    if (!next) throw err;
    res = await send(path, method, payload, next.accessToken);
    if (res.status === 401) setSession(null);
  }
  if (!res.ok) throw await toError(res);
  if (schema === null || res.status === 204) return;
  try {
    return schema.parse(await res.json());
  } catch (err) {
    // The server answered something this build does not understand: say so rather than render garbage.
    throw new ApiError(res.status, 'UNKNOWN', err instanceof Error ? err.message : String(err));
  }
}

export async function login(username: string, password: string): Promise<TokenPair> {
  const pair = await api('/api/auth/login', TokenPair, { method: 'POST', body: { username, password } });
  setSession(pair);
  return pair;
}

export async function logout(): Promise<void> {
  const session = loadSession();
  setSession(null);
  if (!session) return;
  // The local session is gone either way; a failed revoke only leaves a token to expire on its own.
  await api('/api/auth/logout', null, { method: 'POST', body: { refreshToken: session.refreshToken } }).catch(
    () => undefined,
  );
}

/** Keeps the stored user in step with the server (a renamed user, a changed grade). */
export function updateSessionUser(user: TokenPair['user']): void {
  const session = loadSession();
  if (session && session.user.id === user.id) setSession({ ...session, user });
}

/** `/api/lessons?grade=p3&limit=1`, leaving out the parameters that are not set. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
