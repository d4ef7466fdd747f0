// Plain-RTP viewers' UDP sockets on a thread of their own (viewer-farm-thread.ts), as viewers are other
// machines when deployed: 300 viewers receive ~40,000 packets a second, and counted on the test's thread
// (which also runs an sfu node, taxed by node:test's bookkeeping of every callback) they would slow that
// node's own joins and inflate what a failover measures. Counts are read from shared memory, at once.
import { Worker } from 'node:worker_threads';
import type { StreamSum } from './cascade-nodes.js';

/** Per viewer: its packet count, then one count per RTP payload type (0–127). */
export const FARM_SLOTS = 129;

export interface FarmData {
  counts: SharedArrayBuffer;
  /** Per viewer: `since` (ms since epoch), then the first packet from `fromPorts` at or after it (0: none). */
  times: SharedArrayBuffer;
  fromPorts: [number, number];
}

export type FarmRequest =
  { type: 'bind'; n: number } | { type: 'open-window' } | { type: 'close-window' } | { type: 'close' };
export type FarmReply =
  | { type: 'bound'; ports: number[] }
  | { type: 'window-opened' }
  | { type: 'window-closed'; sums: StreamSum[][] }
  | { type: 'closed' };

export interface ViewerFarm {
  /** Binds `n` more viewers' sockets; their ports, in index order after those bound before. */
  bind(n: number): Promise<number[]>;
  packets(i: number): number;
  packetsOfType(i: number, payloadType: number): number;
  /** Packets from the watched node count from `at` on (ms since epoch), while none has been timed. */
  since(i: number, at: number): void;
  /** The first packet from the watched node at or after `since` (ms since epoch), if any. */
  firstAfter(i: number): number | undefined;
  /** Starts counting sequence numbers per viewer and SSRC. */
  openWindow(): Promise<void>;
  /** Per viewer, per SSRC seen since openWindow. */
  closeWindow(): Promise<StreamSum[][]>;
  close(): Promise<void>;
}

/** `capacity` viewers at most; `fromPorts`: the RTC port range of the node whose first packets are timed. */
export function startViewerFarm(capacity: number, fromPorts: [number, number]): ViewerFarm {
  const data: FarmData = {
    counts: new SharedArrayBuffer(capacity * FARM_SLOTS * 4),
    times: new SharedArrayBuffer(capacity * 2 * 8),
    fromPorts,
  };
  const counts = new Int32Array(data.counts);
  const times = new Float64Array(data.times);
  times.fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < capacity; i++) times[i * 2 + 1] = 0;
  // the worker loads TypeScript as this thread does (tsx's loader, registered in the worker first)
  const main = new URL('./viewer-farm-thread.ts', import.meta.url).href;
  const worker = new Worker(
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(main)}); })`,
    { eval: true, workerData: data },
  );
  let failed: Error | undefined;
  worker.on('error', (err) => (failed = err));
  // one request at a time, answered in order
  let queue = Promise.resolve<unknown>(undefined);
  const ask = <T extends FarmReply['type']>(req: FarmRequest, answer: T) => {
    const p = queue.then(
      () =>
        new Promise<Extract<FarmReply, { type: T }>>((resolve, reject) => {
          if (failed) return reject(failed);
          const onMessage = (r: FarmReply) => {
            if (r.type !== answer) return;
            worker.off('message', onMessage);
            worker.off('error', reject);
            resolve(r as Extract<FarmReply, { type: T }>);
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
          worker.postMessage(req);
        }),
    );
    queue = p.catch(() => undefined);
    return p;
  };
  let bound = 0;
  return {
    async bind(n) {
      if (bound + n > capacity) throw new Error(`the farm holds ${capacity} viewers`);
      const { ports } = await ask({ type: 'bind', n }, 'bound');
      bound += n;
      return ports;
    },
    packets: (i) => counts[i * FARM_SLOTS]!,
    packetsOfType: (i, pt) => counts[i * FARM_SLOTS + 1 + pt]!,
    since(i, at) {
      times[i * 2] = at;
    },
    firstAfter(i) {
      const t = times[i * 2 + 1]!;
      return t === 0 ? undefined : t;
    },
    async openWindow() {
      await ask({ type: 'open-window' }, 'window-opened');
    },
    async closeWindow() {
      return (await ask({ type: 'close-window' }, 'window-closed')).sums;
    },
    async close() {
      await ask({ type: 'close' }, 'closed').catch(() => undefined);
      await worker.terminate();
    },
  };
}
