import type Hls from 'hls.js';
import type { Events, LevelSwitchedData } from 'hls.js';
import type { Rendition, RenditionSource } from './beacons.js';

/**
 * hls.js rendition changes for attachBeacons. The caller passes `Hls.Events.LEVEL_SWITCHED` from the
 * build it loaded (full or light), so this file imports only types and adds no bytes of hls.js.
 */
export function hlsRenditions(hls: Hls, levelSwitched: Events.LEVEL_SWITCHED): RenditionSource {
  return (emit: (r: Rendition) => void) => {
    const onSwitch = (_event: Events.LEVEL_SWITCHED, data: LevelSwitchedData) => {
      const level = hls.levels[data.level];
      if (!level) return;
      emit({
        rendition: level.height > 0 ? `${level.height}p` : `level${data.level}`,
        ...(level.bitrate > 0 ? { bitrate: level.bitrate } : {}),
      });
    };
    hls.on(levelSwitched, onSwitch);
    return () => hls.off(levelSwitched, onSwitch);
  };
}
