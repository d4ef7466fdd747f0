// The worker side of viewer-farm.ts: the plain-RTP viewers' UDP sockets and their packet counts, on a
// thread of their own. Counts and times are written into the shared memory the farm reads; measurement
// windows (sequence numbers per SSRC) are kept here and their sums sent back when a window closes.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { RtpWindow, teacherRtp } from './cascade-nodes.js';
import { FARM_SLOTS, type FarmData, type FarmReply, type FarmRequest } from './viewer-farm.js';

const { counts, times, fromPorts } = workerData as FarmData;
const count = new Int32Array(counts);
const time = new Float64Array(times);
const sockets: UdpSocket[] = [];
/** While a window is open: per viewer, its streams' sequence numbers. */
let windows: RtpWindow[] | undefined;

function receive(i: number, msg: Buffer, fromPort: number): void {
  const rtp = teacherRtp(msg);
  if (!rtp) return;
  const base = i * FARM_SLOTS;
  count[base] = count[base]! + 1;
  count[base + 1 + rtp.payloadType] = count[base + 1 + rtp.payloadType]! + 1;
  windows?.[i]?.add(rtp.ssrc, rtp.seq);
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
      windows = sockets.map(() => new RtpWindow());
      reply({ type: 'window-opened' });
      return;
    case 'close-window': {
      const sums = (windows ?? []).map((w) => w.sums());
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
