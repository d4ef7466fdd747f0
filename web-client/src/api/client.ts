import type { AccessGrant, ErrorCode, FieldError, Problem, RowError, Violation } from '@sky/contracts';

/**
 * Where the session lives: the refresh token only in the api's httpOnly `sky_refresh` cookie (no script
 * can read it), the access token only in this module's memory. A reload asks the api for a new access
 * token with the cookie. Older builds kept both tokens in localStorage under this key: drop them.
 */
const LEGACY_STORAGE_KEY = 'sky.session';
try {
  localStorage.removeItem(LEGACY_STORAGE_KEY);
} catch {
  // storage disabled: nothing was kept there either
}
let current: AccessGrant | null = null;
/** Set when the api refused this page's sign-in (ended elsewhere), until the login page has said so. */
let endedByServer = false;

/** What a response body must parse as; every contract zod schema is one, and so is `typed<T>()`. */
export interface Schema<T> {
  parse(data: unknown): T;
}

const asSent: Schema<unknown> = { parse: (data) => data };

/**
 * An answer taken as the contract type `T` without checking it in the browser: the api builds it from the
 * same contract, and validates every request itself (a refused field comes back named in problem+json).
 * The first chunk (sign-in, the session) and the lesson page before its first frame use it, which would
 * otherwise wait for zod (about 18 kB compressed); pages that load zod anyway pass the contract schema.
 */
export function typed<T>(): Schema<T> {
  return asSent as Schema<T>;
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
    this.fields = Array.isArray(problem?.errors) ? problem.errors : [];
    this.rows = Array.isArray(problem?.rows) ? problem.rows : [];
    this.diagnosis = Array.isArray(problem?.diagnosis) ? problem.diagnosis : [];
  }
}

/** The signed-in session of this page, if any (in memory only). */
export function loadSession(): AccessGrant | null {
  return current;
}

type SessionListener = (session: AccessGrant | null) => void;
const listeners = new Set<SessionListener>();

export function onSessionChange(fn: SessionListener): () => void {
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}

function setSession(session: AccessGrant | null): void {
  current = session;
  for (const fn of listeners) fn(session);
}

/**
 * The api's problem+json (RFC 9457, contracts' Problem), told apart from any other body — a proxy's page,
 * a gateway's JSON — by its `code` and `detail`, without zod in the first chunk.
 */
function problemOf(body: unknown): Problem | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const p = body as Record<string, unknown>;
  return typeof p['code'] === 'string' && typeof p['detail'] === 'string' ? (body as Problem) : undefined;
}

async function toError(res: Response): Promise<ApiError> {
  // No problem+json: a proxy or gateway answered because the api itself could not (502/503/504).
  const unreachable = res.status === 502 || res.status === 503 || res.status === 504;
  const fallback = new ApiError(res.status, unreachable ? 'NETWORK' : 'UNKNOWN', res.statusText);
  try {
    const p = problemOf(await res.json());
    return p ? new ApiError(res.status, p.code, p.detail, p) : fallback;
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

let refreshing: Promise<AccessGrant | null> | null = null;

/**
 * One refresh at a time across every tab of this origin: they share the cookie, and two tabs presenting
 * the same refresh token at once would look like a stolen token being reused (ending the sign-in).
 */
function oneTabAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  return locks ? locks.request('sky.refresh', fn) : fn();
}

/** Trades the refresh cookie for a new access token; concurrent callers share one trade. */
function refresh(): Promise<AccessGrant | null> {
  refreshing ??= oneTabAtATime(() => send('/api/auth/refresh', 'POST', jsonPayload({}), undefined))
    .then(async (res) => (res.ok ? ((await res.json()) as AccessGrant) : null))
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

/** On page load: the session the refresh cookie still holds, if any. */
export function restoreSession(): Promise<AccessGrant | null> {
  return current ? Promise.resolve(current) : refresh();
}

/** A new access token now: after the account changed (a family's grade), so its claims say so too. */
export function renewSession(): Promise<AccessGrant | null> {
  return refresh();
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
  /**
   * The answer comes from a service behind the api (the TV gateway) that checks tokens by signature only:
   * its 401 says nothing about the api sign-in, which it does not end (an expired token is still renewed).
   */
  behindApi?: boolean;
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
    const signedIn = current !== null;
    if (err.code !== 'TOKEN_EXPIRED' && init.behindApi) throw err;
    if (err.code !== 'TOKEN_EXPIRED') {
      endedByServer ||= signedIn;
      setSession(null);
      throw err;
    }
    const next = await refresh();
    if (!next) {
      endedByServer ||= signedIn;
      throw err;
    }
    res = await send(path, method, payload, next.accessToken);
    if (res.status === 401 && !init.behindApi) {
      endedByServer = true;
      setSession(null);
    }
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

export async function login(username: string, password: string): Promise<AccessGrant> {
  const grant = await api('/api/auth/login', typed<AccessGrant>(), {
    method: 'POST',
    body: { username, password, refreshTokenIn: 'cookie' },
  });
  endedByServer = false;
  setSession(grant);
  return grant;
}

/**
 * Signs in with a temporary password (the login was refused with PASSWORD_CHANGE_REQUIRED) and sets the
 * new password in the same step.
 */
export async function loginWithNewPassword(
  username: string,
  password: string,
  newPassword: string,
): Promise<AccessGrant> {
  const grant = await api('/api/auth/login/new-password', typed<AccessGrant>(), {
    method: 'POST',
    body: { username, password, newPassword, refreshTokenIn: 'cookie' },
  });
  endedByServer = false;
  setSession(grant);
  return grant;
}

/** Whether the api ended this page's sign-in since the last ask (the login page says why, once). */
export function takeSessionEnded(): boolean {
  const ended = endedByServer;
  endedByServer = false;
  return ended;
}

export async function logout(): Promise<void> {
  // The api ends the sign-in and clears the cookie; the page's session is gone either way.
  await api('/api/auth/logout', null, { method: 'POST', body: {} }).catch(() => undefined);
  setSession(null);
}

/** Ends every sign-in of this user, on every device, this one included. */
export async function logoutEverywhere(): Promise<void> {
  await freshAccessToken();
  await api('/api/auth/logout-all', null, { method: 'POST' });
  setSession(null);
}

/** Keeps the session's user in step with the server (a renamed user, a changed grade). */
export function updateSessionUser(user: AccessGrant['user']): void {
  if (current && current.user.id === user.id) setSession({ ...current, user });
}

/** `/api/lessons?grade=p3&limit=1`, leaving out the parameters that are not set. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
