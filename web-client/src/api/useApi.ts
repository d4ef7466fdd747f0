import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Schema } from './client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** When the data shown arrived (ms since the epoch). */
  receivedAt: number | undefined;
  reload: () => void;
}

interface State<T> {
  /** The request this answer belongs to: `<reload count>:<path>`. */
  key: string | null;
  path: string | null;
  data?: T;
  receivedAt?: number;
  error?: ApiError;
}

/**
 * GETs `path` (null: nothing to load) and keeps the answer; `reload()` fetches it again.
 * A failed reload keeps the last good data beside the error (a status page stays readable while
 * the api restarts); a new path starts empty, so one grade's lessons never show under another.
 * Loading is derived (the answer in hand is not the one asked for), not set by the effect.
 */
export function useApi<T>(
  path: string | null,
  schema: Schema<T>,
  /** `behindApi`: a service behind the api answers (see `api()`). */
  { behindApi = false }: { behindApi?: boolean } = {},
): Loaded<T> {
  const [state, setState] = useState<State<T>>({ key: null, path: null });
  const [tick, setTick] = useState(0);
  const key = path === null ? null : `${tick}:${path}`;
  useEffect(() => {
    if (path === null) return;
    let live = true;
    api(path, schema, { behindApi })
      .then((data) => {
        if (live) setState({ key, path, data, receivedAt: Date.now() });
      })
      .catch((err: unknown) => {
        const error = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
        if (live)
          setState((s) => ({
            key,
            path,
            ...(s.path === path && s.data ? { data: s.data } : {}),
            ...(s.path === path && s.receivedAt !== undefined ? { receivedAt: s.receivedAt } : {}),
            error,
          }));
      });
    return () => {
      live = false;
    };
    // `schema` is a module-level contract constant at every call site: it never restarts the request
  }, [key, path, schema, behindApi]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: path !== null && state.key !== key,
    receivedAt: current ? state.receivedAt : undefined,
    reload,
  };
}
