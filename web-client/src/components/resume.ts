import type { PlaybackPosition } from '@sky/contracts';
import { api, loadSession, typed } from '../api/client';

/** Where the viewer stopped in a lesson: read once when the player knows the duration, written as it plays. */
export interface PositionStore {
  load(): Promise<number>;
  /** `leaving`: the page is going away; the write must outlive it. */
  save(positionSec: number, leaving?: boolean): void;
}

/** A signed-in viewer's position is theirs on the server, so any browser of theirs resumes there. */
export function serverPositions(lessonId: string): PositionStore {
  const path = `/api/me/positions/${lessonId}`;
  return {
    load: () =>
      api(path, typed<PlaybackPosition>()).then(
        (p) => p.positionSec,
        () => 0,
      ),
    save(positionSec, leaving = false) {
      const body = { positionSec: Math.max(0, Math.floor(positionSec)) };
      if (!leaving) {
        void api(path, typed<PlaybackPosition>(), { method: 'PUT', body }).catch(() => undefined);
        return;
      }
      // api() may wait for a token refresh the closing page will not see: one keepalive request instead
      const token = loadSession()?.accessToken;
      void fetch(path, {
        method: 'PUT',
        keepalive: true,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      }).catch(() => undefined);
    },
  };
}

/** An anonymous viewer's position stays in this browser. */
export function browserPositions(lessonId: string): PositionStore {
  const key = `sky.pos.${lessonId}`;
  return {
    load: () => Promise.resolve(Number(localStorage.getItem(key) ?? 0) || 0),
    save(positionSec) {
      if (positionSec > 0) localStorage.setItem(key, String(Math.floor(positionSec)));
      else localStorage.removeItem(key);
    },
  };
}
