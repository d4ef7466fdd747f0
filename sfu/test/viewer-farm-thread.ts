// The worker side of viewer-farm.ts: the plain-RTP viewers' UDP sockets and their packet counts, on a
// thread of their own. Counts and times are written into the shared memory the farm reads; measurement
// windows (sequence numbers per SSRC) are kept here and their sums sent back when a window closes.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import {
  FARM_SLOTS,
  type FarmData,
  type FarmReply,
  type FarmRequest,
  type WindowSum,
} from './viewer-farm.js';

const { counts, times, fromPorts } = workerData as FarmData;
const count = new Int32Array(counts);
const time = new Float64Array(times);
const sockets: UdpSocket[] = [];
/** While a window is open: per viewer, per SSRC the first and last extended sequence number and those seen. */
let windows: Map<number, { first: number; last: number; seen: Set<number> }>[] | undefined;

function receive(i: number, msg: Buffer, fromPort: number): void {
  // RTP media only (RTCP, payload types 200–206, shares the port: rtcp-mux)
  if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80 || (msg[1]! >= 200 && msg[1]! <= 206)) return;
  // mediasoup's bandwidth probation packets (SSRC 1234) are not the teacher's
  const ssrc = msg.readUInt32BE(8);
  if (ssrc === 1234) return;
  const base = i * FARM_SLOTS;
  count[base] = count[base]! + 1;
  const pt = msg[1]! & 0x7f;
  count[base + 1 + pt] = count[base + 1 + pt]! + 1;
  const w = windows?.[i];
  if (w) {
    const seq = msg.readUInt16BE(2);
    const s = w.get(ssrc);
    if (!s) w.set(ssrc, { first: seq, last: seq, seen: new Set([seq]) });
    else {
      // the extended sequence number nearest the last one (wraps at 65536; reordering allowed)
      let ext = (s.last & ~0xffff) | seq;
      if (ext < s.last - 0x8000) ext += 0x10000;
      else if (ext > s.last + 0x8000) ext -= 0x10000;
      s.last = Math.max(s.last, ext);
      s.first = Math.min(s.first, ext);
      // a packet twice (a retransmission that crossed its late original) counts once
      s.seen.add(ext);
    }
  }
  // the first packet from the node given in `fromPorts` (by its RTC ports) at or after the viewer's `since`
  const fromNode = fromPort >= fromPorts[0] && fromPort <= fromPorts[1];
  if (fromNode && time[i * 2 + 1] === 0 && Date.now() >= time[i * 2]!) time[i * 2 + 1] = Date.now();
}

async function bind(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = sockets.length;
    const udp = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    udp.on('message', (msg, from) => receive(i, msg, from.port));
    sockets.push(udp);
    ports.push(udp.address().port);
  }
  return ports;
}

parentPort!.on('message', (req: FarmRequest) => {
  const reply = (r: FarmReply) => parentPort!.postMessage(r);
  switch (req.type) {
    case 'bind':
      void bind(req.n).then((ports) => reply({ type: 'bound', ports }));
      return;
    case 'open-window':
      windows = sockets.map(() => new Map());
      reply({ type: 'window-opened' });
      return;
    case 'close-window': {
      const sums: WindowSum[][] = (windows ?? []).map((w) =>
        [...w.values()].map((s) => ({ expected: s.last - s.first + 1, seen: s.seen.size })),
      );
      windows = undefined;
      reply({ type: 'window-closed', sums });
      return;
    }
    case 'close':
      for (const s of sockets) s.close();
      reply({ type: 'closed' });
      return;
  }
});
