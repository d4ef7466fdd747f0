import * as mediasoup from 'mediasoup';
import type { FastifyBaseLogger } from 'fastify';

export interface WorkerState {
  index: number;
  pid: number;
  alive: boolean;
  restarts: number;
}

export interface WorkerPool {
  states(): WorkerState[];
  close(): void;
}

/**
 * One mediasoup worker per core, each with its own slice of the RTC port range. A worker that dies is
 * logged and replaced; rooms move with the live-lessons issue.
 */
export async function createWorkerPool(
  opts: { count: number; rtcMinPort: number; rtcMaxPort: number },
  log: FastifyBaseLogger,
): Promise<WorkerPool> {
  const span = Math.floor((opts.rtcMaxPort - opts.rtcMinPort + 1) / opts.count);
  const slots: { worker: mediasoup.types.Worker; restarts: number }[] = [];
  let closing = false;

  const spawn = async (index: number): Promise<mediasoup.types.Worker> => {
    const rtcMinPort = opts.rtcMinPort + index * span;
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort,
      rtcMaxPort: rtcMinPort + span - 1,
      appData: { index },
    });
    worker.on('died', (err) => {
      if (closing) return;
      log.error({ index, pid: worker.pid, err: err.message }, 'mediasoup worker died; replacing it');
      const slot = slots[index]!;
      slot.restarts += 1;
      setTimeout(() => {
        spawn(index)
          .then((w) => {
            slot.worker = w;
            log.info({ index, pid: w.pid }, 'mediasoup worker replaced');
          })
          .catch((e: unknown) => log.fatal({ err: e }, 'cannot replace the mediasoup worker'));
      }, 200);
    });
    return worker;
  };

  for (let i = 0; i < opts.count; i++) slots.push({ worker: await spawn(i), restarts: 0 });
  log.info({ pids: slots.map((s) => s.worker.pid) }, 'mediasoup workers up');

  return {
    states: () =>
      slots.map((s, index) => ({
        index,
        pid: s.worker.pid,
        alive: !s.worker.died && !s.worker.closed,
        restarts: s.restarts,
      })),
    close() {
      closing = true;
      for (const s of slots) s.worker.close();
    },
  };
}
