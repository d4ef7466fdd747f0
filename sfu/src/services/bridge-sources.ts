import type { LiveSource } from '@sky/contracts';

interface Publisher<P> {
  producers: ReadonlyMap<string, { source: LiveSource; producer: P }>;
}

/**
 * What the HLS stage carries of the teacher: the screen share while there is one, else the camera, and
 * the mic. With several teacher connections the first that has the source wins.
 */
export function bridgeSources<P>(teachers: Iterable<Publisher<P>>): {
  video?: P | undefined;
  audio?: P | undefined;
} {
  const list = [...teachers];
  const pick = (source: LiveSource) => {
    for (const t of list) for (const pp of t.producers.values()) if (pp.source === source) return pp.producer;
    return undefined;
  };
  return { video: pick('screen') ?? pick('camera'), audio: pick('mic') };
}
