import type { GuideProgramme, TvChannel } from '@sky/contracts';
import { createContext, useContext, useLayoutEffect, useRef, type Context } from 'react';
import type { GatewayError, PairedDevice, TvLesson } from './gateway';
import type { TvKey } from './keys';

export type Playback =
  | { kind: 'live'; channelId: string }
  | { kind: 'catchup'; channelId: string; programme: GuideProgramme }
  | { kind: 'vod'; lesson: TvLesson };

/** The screens of the 10-foot UI; what a screen was showing lives here, so Back can return to it. */
export type Screen =
  | { name: 'pairing' }
  | { name: 'home' }
  | { name: 'guide'; channelId?: string }
  | { name: 'ondemand'; grade?: string; subject?: string }
  | { name: 'settings' }
  | { name: 'player'; playback: Playback };

export interface Nav {
  /** Opens a screen over this one; Back returns here, to the element that had focus. */
  push: (screen: Screen) => void;
  back: () => void;
  /** Changes what the current screen shows without leaving it (another channel, another step). */
  update: (screen: Screen) => void;
  /** Starts afresh from `screen` (after pairing). */
  reset: (screen: Screen) => void;
  /** Where the focus lands when Back returns to the screen below (the last channel zapped to). */
  returnFocus: (key: string) => void;
}

/** A screen's own keys: true when it used the key, else the default (arrows move focus, Back goes back). */
export type KeyHandler = (key: TvKey) => boolean;

export interface Lineup {
  channels: TvChannel[] | null;
  programmes: GuideProgramme[];
  error: GatewayError | null;
  reload: () => void;
}

export interface DeviceState {
  paired: PairedDevice | null;
  setPaired: (paired: PairedDevice | null) => void;
}

export const NavContext = createContext<Nav | null>(null);
export const KeysContext = createContext<{ current: KeyHandler | null } | null>(null);
export const LineupContext = createContext<Lineup | null>(null);
export const DeviceContext = createContext<DeviceState | null>(null);

function use<T>(ctx: Context<T | null>, name: string): T {
  const value = useContext(ctx);
  if (!value) throw new Error(`${name} outside the TV app`);
  return value;
}

export const useNav = () => use(NavContext, 'useNav');
export const useLineup = () => use(LineupContext, 'useLineup');
export const useDevice = () => use(DeviceContext, 'useDevice');

/** Gives the current screen the first look at each key. */
export function useKeys(handler: KeyHandler): void {
  // a ref the TV app owns, shared through context: the current screen's handler sits in it
  const slotRef = use(KeysContext, 'useKeys');
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useLayoutEffect(() => {
    const h: KeyHandler = (key) => latest.current(key);
    slotRef.current = h;
    return () => {
      if (slotRef.current === h) slotRef.current = null;
    };
  }, [slotRef]);
}
