import type { Direction } from './focus';

/** What a remote control can say to the 10-foot UI. */
export type TvKey = Direction | 'ok' | 'back' | 'channelUp' | 'channelDown';

const BY_KEY = new Map<string, TvKey>([
  ['ArrowUp', 'up'],
  ['ArrowDown', 'down'],
  ['ArrowLeft', 'left'],
  ['ArrowRight', 'right'],
  ['Up', 'up'],
  ['Down', 'down'],
  ['Left', 'left'],
  ['Right', 'right'],
  ['Enter', 'ok'],
  ['Escape', 'back'],
  ['Esc', 'back'],
  ['Backspace', 'back'],
  ['GoBack', 'back'],
  ['BrowserBack', 'back'],
  ['ChannelUp', 'channelUp'],
  ['ChannelDown', 'channelDown'],
  ['PageUp', 'channelUp'],
  ['PageDown', 'channelDown'],
]);

// Remote controls of some boxes send only a key code: 461 is Back on webOS, 10009 on Tizen, 427/428 the
// channel rocker.
const BY_CODE = new Map<number, TvKey>([
  [37, 'left'],
  [38, 'up'],
  [39, 'right'],
  [40, 'down'],
  [13, 'ok'],
  [27, 'back'],
  [8, 'back'],
  [461, 'back'],
  [10009, 'back'],
  [33, 'channelUp'],
  [34, 'channelDown'],
  [427, 'channelUp'],
  [428, 'channelDown'],
]);

export function keyOf(e: Pick<KeyboardEvent, 'key' | 'keyCode'>): TvKey | undefined {
  return BY_KEY.get(e.key) ?? BY_CODE.get(e.keyCode);
}

export function isDirection(key: TvKey): key is Direction {
  return key === 'up' || key === 'down' || key === 'left' || key === 'right';
}
