import type { GuideProgramme, TvChannel } from '@sky/contracts';
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import {
  DeviceContext,
  KeysContext,
  LineupContext,
  NavContext,
  type KeyHandler,
  type Lineup,
  type Nav,
  type Screen,
} from './context';
import { focusedKey, keepFocus, moveFocus, type FocusKeeper } from './focus';
import {
  fetchChannels,
  fetchGuide,
  fetchMe,
  GatewayError,
  loadDevice,
  pairingSkipped,
  saveDevice,
  type PairedDevice,
} from './gateway';
import { isDirection, keyOf } from './keys';
import { GuideScreen } from './screens/Guide';
import { HomeScreen } from './screens/Home';
import { OnDemandScreen } from './screens/OnDemand';
import { PairingScreen } from './screens/Pairing';
import { SettingsScreen } from './screens/Settings';

// The player brings hls.js (half the bundle): Home shows without waiting for it, and it is fetched
// right after, before the viewer picks a channel.
const loadPlayer = () => import('./screens/Player');
const PlayerScreen = lazy(() => loadPlayer().then((m) => ({ default: m.PlayerScreen })));

interface Entry {
  id: number;
  screen: Screen;
  /** The element focused when the viewer left this screen. */
  focusKey?: string;
}

/** Live flags and catch-up links move with the clock: the guide is read again every minute. */
const REFRESH_MS = 60_000;

function useLineupLoader(): Lineup {
  const [channels, setChannels] = useState<TvChannel[] | null>(null);
  const [programmes, setProgrammes] = useState<GuideProgramme[]>([]);
  const [error, setError] = useState<GatewayError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = () =>
      Promise.all([fetchChannels(), fetchGuide()])
        .then(([c, g]) => {
          if (!alive) return;
          setChannels(c);
          setProgrammes(g);
          setError(null);
        })
        .catch((err: unknown) => {
          if (alive) setError(err instanceof GatewayError ? err : new GatewayError(0, String(err)));
        });
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => {
      alive = false;
      window.clearInterval(timer);
    };
  }, [attempt]);
  return useMemo(
    () => ({ channels, programmes, error, reload: () => setAttempt((a) => a + 1) }),
    [channels, programmes, error],
  );
}

function render(screen: Screen) {
  switch (screen.name) {
    case 'pairing':
      return <PairingScreen />;
    case 'home':
      return <HomeScreen />;
    case 'guide':
      return <GuideScreen channelId={screen.channelId} />;
    case 'ondemand':
      return <OnDemandScreen grade={screen.grade} subject={screen.subject} />;
    case 'settings':
      return <SettingsScreen />;
    case 'player':
      return (
        <Suspense fallback={<div className="tv-player" />}>
          <PlayerScreen playback={screen.playback} />
        </Suspense>
      );
  }
}

/**
 * The 10-foot UI: a stack of screens driven by the remote. Pairing comes first until the box is paired
 * or the viewer skips it (the lineup is public by default).
 */
export function TvApp() {
  const [paired, setPaired] = useState<PairedDevice | null>(loadDevice);
  const nextId = useRef(1);
  const [stack, setStack] = useState<Entry[]>(() => [
    { id: 0, screen: paired || pairingSkipped() ? { name: 'home' } : { name: 'pairing' } },
  ]);
  const lineup = useLineupLoader();
  const keys = useRef<KeyHandler | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const keeper = useRef<FocusKeeper | null>(null);
  const top = stack[stack.length - 1]!;

  const nav = useMemo<Nav>(() => {
    const entry = (screen: Screen): Entry => ({ id: nextId.current++, screen });
    return {
      push: (screen) => {
        const key = focusedKey();
        const next = entry(screen);
        setStack((s) => {
          const [below, current] = [s.slice(0, -1), s[s.length - 1]!];
          return [...below, key === undefined ? current : { ...current, focusKey: key }, next];
        });
      },
      back: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
      update: (screen) => setStack((s) => [...s.slice(0, -1), { ...s[s.length - 1]!, screen }]),
      reset: (screen) => setStack([entry(screen)]),
      returnFocus: (key) =>
        setStack((s) =>
          s.length < 2 ? s : [...s.slice(0, -2), { ...s[s.length - 2]!, focusKey: key }, s[s.length - 1]!],
        ),
    };
  }, []);

  useEffect(() => {
    const timer = window.setTimeout(() => void loadPlayer(), 1000);
    return () => window.clearTimeout(timer);
  }, []);

  // A box whose token the family has since removed is no longer paired (it still plays the lineup).
  useEffect(() => {
    const saved = loadDevice();
    if (!saved) return;
    fetchMe(saved.token)
      .then((device) => {
        const next = device ? { token: saved.token, device } : null;
        saveDevice(next);
        setPaired(next);
      })
      .catch(() => undefined);
  }, []);

  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      const key = keyOf(e);
      if (!key) return;
      e.preventDefault();
      keeper.current?.viewerMoved();
      if (keys.current?.(key)) return;
      const el = root.current;
      if (!el) return;
      if (isDirection(key)) {
        moveFocus(el, key);
      } else if (key === 'ok') {
        const active = document.activeElement;
        if (active instanceof HTMLElement && el.contains(active)) active.click();
      } else if (key === 'back') {
        nav.back();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [nav]);

  // Each screen keeps one element focused, starting where the viewer was when they left it.
  useEffect(() => {
    if (!root.current) return;
    const k = keepFocus(root.current, top.focusKey);
    keeper.current = k;
    return () => {
      k.dispose();
      if (keeper.current === k) keeper.current = null;
    };
  }, [top.id, top.focusKey]);

  const device = useMemo(() => ({ paired, setPaired }), [paired]);
  return (
    <NavContext.Provider value={nav}>
      <KeysContext.Provider value={keys}>
        <DeviceContext.Provider value={device}>
          <LineupContext.Provider value={lineup}>
            <div ref={root} key={top.id} className="tv-root" data-screen={top.screen.name}>
              {render(top.screen)}
            </div>
          </LineupContext.Provider>
        </DeviceContext.Provider>
      </KeysContext.Provider>
    </NavContext.Provider>
  );
}
