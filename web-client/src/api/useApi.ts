import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Schema } from './client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

interface State<T> {
  path: string | null;
  data?: T;
  error?: ApiError;
  loading: boolean;
}

/**
 * GETs `path` (null: nothing to load) and keeps the answer; `reload()` fetches it again.
 * A failed reload keeps the last good data beside the error (a status page stays readable while
 * the api restarts); a new path starts empty, so one grade's lessons never show under another.
 */
export function useApi<T>(path: string | null, schema: Schema<T>): Loaded<T> {
  const [state, setState] = useState<State<T>>({ path, loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => (s.path === path ? { ...s, loading: true } : { path, loading: true }));
    api(path, schema)
      .then((data) => {
        if (live) setState({ path, data, loading: false });
      })
      .catch((err: unknown) => {
        const error = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
        if (live)
          setState((s) => ({
            path,
            ...(s.path === path && s.data ? { data: s.data } : {}),
            error,
            loading: false,
          }));
      });
    return () => {
      live = false;
    };
    // `schema` is left out on purpose: it is a module-level contract constant at every call site.
  }, [path, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: current ? state.loading : path !== null,
    reload,
  };
}
