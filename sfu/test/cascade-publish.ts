// The teacher of the cascade tests (Node has no WebRTC): a camera (VP8) and a microphone (Opus) as plain-RTP
// producers in a room, as `Room.produce` makes a browser's, fed by ffmpeg sending a clip encoded beforehand
// as it is (-c copy), which a loaded test machine cannot starve.
import { spawn } from 'node:child_process';
import type { Peer, Room } from '../src/services/room.js';
import { clip } from './live-source.js';

export interface PlainTarget {
  kind: 'video' | 'audio';
  map: string;
  pt: number;
  ssrc: number;
  port: number;
  rtcpPort: number;
}

const STREAMS = [
  {
    kind: 'video',
    source: 'camera',
    map: '0:v',
    pt: 102,
    ssrc: 22_222_222,
    codec: { mimeType: 'video/VP8', clockRate: 90000 },
  },
  {
    kind: 'audio',
    source: 'mic',
    map: '0:a',
    pt: 101,
    ssrc: 11_111_111,
    codec: { mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  },
] as const;

/** The teacher's camera and microphone producers on their PlainTransports (comedia): where to send RTP. */
export async function plainProducers(room: Room, peer: Peer): Promise<PlainTarget[]> {
  const targets: PlainTarget[] = [];
  for (const s of STREAMS) {
    const t = await room.createPlainTransport(peer, 'send', { comedia: true, rtcpMux: false });
    await room.produce(peer, {
      transportId: t.id,
      kind: s.kind,
      source: s.source,
      rtpParameters: { codecs: [{ ...s.codec, payloadType: s.pt }], encodings: [{ ssrc: s.ssrc }] },
    });
    targets.push({
      kind: s.kind,
      map: s.map,
      pt: s.pt,
      ssrc: s.ssrc,
      port: t.tuple.localPort,
      rtcpPort: t.rtcpTuple!.localPort,
    });
  }
  return targets;
}

/** ffmpeg sending the clip in a loop, in real time, to the producers' transports. */
export async function sendClip(targets: PlainTarget[]): Promise<{ stop(): Promise<void> }> {
  const file = await clip({ size: '640x360', video: true, audio: true, sync: false });
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file];
  for (const s of targets)
    args.push(
      ...['-map', s.map, '-c', 'copy', '-f', 'rtp', '-rtpflags', 'skip_rtcp', '-ssrc', String(s.ssrc)],
      ...['-payload_type', String(s.pt)],
      `rtp://127.0.0.1:${s.port}?rtcpport=${s.rtcpPort}&pkt_size=1200`,
    );
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
  return {
    async stop() {
      if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
      await exited;
    },
  };
}
