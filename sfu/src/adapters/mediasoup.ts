import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { FastifyBaseLogger } from 'fastify';

export type Worker = mediasoup.types.Worker;
export type Router = mediasoup.types.Router;

export interface WorkerState {
  index: number;
  pid: number;
  alive: boolean;
  restarts: number;
  /** Producers + consumers + routers it carries now. */
  load: number;
}

export interface PickedWorker {
  index: number;
  worker: Worker;
}

export interface WorkerPool {
  states(): WorkerState[];
  /**
   * The least-loaded live worker, preferring those not in `avoid`; waits (up to `timeoutMs`) for a
   * replacement when none is alive.
   */
  pick(avoid?: ReadonlySet<number>, timeoutMs?: number): Promise<PickedWorker>;
  /** How many workers the pool runs (live or being replaced). */
  readonly size: number;
  /** Called with every replacement worker once it is up. */
  onReplaced(listener: (picked: PickedWorker) => void): void;
  close(): void;
}

/** The codecs every live room offers: Opus, VP8 (simulcast-friendly, what browsers send first) and H264. */
export const MEDIA_CODECS: mediasoup.types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

/** Counts what a worker carries through mediasoup's observer events (no bookkeeping in the rooms). */
function trackLoad(worker: Worker, counter: { load: number }) {
  const add = (n: number) => (counter.load += n);
  worker.observer.on('newrouter', (router) => {
    add(1);
    router.observer.once('close', () => add(-1));
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newproducer', (p) => {
        add(1);
        p.observer.once('close', () => add(-1));
      });
      transport.observer.on('newconsumer', (c) => {
        add(1);
        c.observer.once('close', () => add(-1));
      });
    });
  });
}

/**
 * One mediasoup worker per core, each with its own slice of the RTC port range. A worker that dies is
 * logged and replaced; rooms hear of the death from their routers ('workerclose') and move themselves.
 */
export async function createWorkerPool(
  opts: { count: number; rtcMinPort: number; rtcMaxPort: number; logLevel?: mediasoup.types.WorkerLogLevel },
  log: FastifyBaseLogger,
): Promise<WorkerPool> {
  const span = Math.floor((opts.rtcMaxPort - opts.rtcMinPort + 1) / opts.count);
  const slots: { worker: Worker; restarts: number; counter: { load: number } }[] = [];
  const events = new EventEmitter<{ replaced: [PickedWorker] }>();
  let closing = false;

  const alive = (w: Worker) => !w.died && !w.closed;

  const spawn = async (index: number): Promise<{ worker: Worker; counter: { load: number } }> => {
    const rtcMinPort = opts.rtcMinPort + index * span;
    const worker = await mediasoup.createWorker({
      logLevel: opts.logLevel ?? 'warn',
      rtcMinPort,
      rtcMaxPort: rtcMinPort + span - 1,
      appData: { index },
    });
    const counter = { load: 0 };
    trackLoad(worker, counter);
    worker.on('died', (err) => {
      if (closing) return;
      log.error({ index, pid: worker.pid, err: err.message }, 'mediasoup worker died; replacing it');
      const slot = slots[index]!;
      slot.restarts += 1;
      const replace = (attempt: number) => {
        if (closing) return;
        spawn(index)
          .then(({ worker: w, counter: c }) => {
            if (closing) return void w.close();
            slot.worker = w;
            slot.counter = c;
            log.info({ index, pid: w.pid }, 'mediasoup worker replaced');
            events.emit('replaced', { index, worker: w });
          })
          .catch((e: unknown) => {
            log.fatal({ err: e, attempt }, 'cannot replace the mediasoup worker');
            if (attempt < 5) setTimeout(() => replace(attempt + 1), 1000 * attempt);
          });
      };
      setTimeout(() => replace(1), 200);
    });
    return { worker, counter };
  };

  for (let i = 0; i < opts.count; i++) slots.push({ ...(await spawn(i)), restarts: 0 });
  log.info({ pids: slots.map((s) => s.worker.pid) }, 'mediasoup workers up');

  const best = (avoid: ReadonlySet<number>): PickedWorker | undefined => {
    let found: { index: number; load: number; avoided: boolean } | undefined;
    slots.forEach((s, index) => {
      if (!alive(s.worker)) return;
      const cand = { index, load: s.counter.load, avoided: avoid.has(index) };
      if (
        !found ||
        (found.avoided && !cand.avoided) ||
        (found.avoided === cand.avoided && cand.load < found.load)
      )
        found = cand;
    });
    return found ? { index: found.index, worker: slots[found.index]!.worker } : undefined;
  };

  return {
    size: opts.count,
    states: () =>
      slots.map((s, index) => ({
        index,
        pid: s.worker.pid,
        alive: alive(s.worker),
        restarts: s.restarts,
        load: s.counter.load,
      })),
    async pick(avoid = new Set(), timeoutMs = 10_000) {
      const now = best(avoid);
      if (now) return now;
      if (closing) throw new Error('the worker pool is closed');
      return new Promise<PickedWorker>((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('replaced', onUp);
          reject(new Error('no mediasoup worker came back in time'));
        }, timeoutMs);
        const onUp = () => {
          const w = best(avoid);
          if (!w) return;
          clearTimeout(timer);
          events.off('replaced', onUp);
          resolve(w);
        };
        events.on('replaced', onUp);
      });
    },
    onReplaced(listener) {
      events.on('replaced', listener);
    },
    close() {
      closing = true;
      for (const s of slots) s.worker.close();
    },
  };
}
