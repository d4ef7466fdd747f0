import type { Direction } from './focus';

/** What a remote control can say to the 10-foot UI: the D-pad, OK, Back, the channel rocker and media keys. */
export type TvKey =
  | Direction
  | 'ok'
  | 'back'
  | 'channelUp'
  | 'channelDown'
  | 'playPause'
  | 'play'
  | 'pause'
  | 'fastForward'
  | 'rewind';

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
  ['MediaPlayPause', 'playPause'],
  // a keyboard in the web's TV mode: the space bar, as every video player takes it
  [' ', 'playPause'],
  ['MediaPlay', 'play'],
  ['MediaPause', 'pause'],
  ['MediaFastForward', 'fastForward'],
  ['MediaRewind', 'rewind'],
]);

// Remote controls of some boxes send only a key code: 461 is Back on webOS, 10009 on Tizen, 427/428 the
// channel rocker; the media keys are HbbTV's and webOS's VK_PLAY (415), VK_PAUSE (19), VK_FAST_FWD (417),
// VK_REWIND (412), Tizen's MediaPlayPause (10252) and the PC keyboards' (179).
const BY_CODE = new Map<number, TvKey>([
  [179, 'playPause'],
  [10252, 'playPause'],
  [415, 'play'],
  [19, 'pause'],
  [417, 'fastForward'],
  [412, 'rewind'],
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
