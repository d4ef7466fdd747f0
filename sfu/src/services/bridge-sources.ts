import type { LiveSource } from '@sky/contracts';

interface Publisher<P> {
  producers: ReadonlyMap<string, { source: LiveSource; producer: P; pausedBy?: string | undefined }>;
}

/**
 * What the HLS stage carries of the teacher: the screen share while there is one, else the camera, and
 * the mic. With several teacher connections the first that has the source wins. A paused video sends
 * nothing: the stage skips it (a paused camera leaves black, and the voice, rather than a frozen stream
 * with no sound at all); a paused mic stays, the bridge fills its silence.
 */
export function bridgeSources<P>(teachers: Iterable<Publisher<P>>): {
  video?: P | undefined;
  audio?: P | undefined;
} {
  const list = [...teachers];
  const pick = (source: LiveSource) => {
    for (const t of list)
      for (const pp of t.producers.values())
        if (pp.source === source && (source === 'mic' || !pp.pausedBy)) return pp.producer;
    return undefined;
  };
  return { video: pick('screen') ?? pick('camera'), audio: pick('mic') };
}
