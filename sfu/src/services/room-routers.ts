// A room's router topology: an origin router carrying every producer, plus edge routers on other workers
// fed by pipeToRouter once the origin carries the consumer threshold. A router whose worker dies is
// rebuilt (the room decides what its peers lose), and every operation waits for that.
import type { MediaKind } from '@sky/contracts';
import type { MediaRouter, MediaWorker, RoomMedia, SpeakerObserver } from '../adapters/room-media.js';
import type { RoomLogger } from './room-peers.js';
import { freeRouter, whenFull } from './router-placement.js';

export interface RouterSlot {
  router: MediaRouter;
  workerIndex: number;
  /** Consumers on this router (counted by the room, for the pipeToRouter threshold). */
  consumers: number;
  /** Producers piped into this (edge) router. */
  piped: Set<string>;
}

/** What the topology asks of the media server. */
export type TopologyMedia = Pick<
  RoomMedia,
  'pickWorker' | 'createRouter' | 'onWorkerDeath' | 'closeRouter' | 'pipe' | 'observeSpeakers' | 'addSpeaker'
>;

export interface RoomRoutersDeps {
  lessonId: string;
  media: TopologyMedia;
  log: RoomLogger;
  consumerThreshold: number;
  /** The room has ended: a worker death needs no recovery then. */
  closed(): boolean;
  /** Every producer of the room, read as the new edge router is fed (producers born meanwhile included). */
  producerIds(): Iterable<string>;
  onDominantSpeaker(producerId: string): void;
  /** Moves the room off a dead worker (the origin's, or an edge's); retried while it fails. */
  onWorkerDeath(slot: RouterSlot, origin: boolean): Promise<void>;
}

const RECOVERY_ATTEMPTS = 5;

export class RoomRouters {
  private originSlot!: RouterSlot;
  private edges: RouterSlot[] = [];
  private speaker: SpeakerObserver | undefined;
  private placing: Promise<unknown> = Promise.resolve();
  private recovered: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RoomRoutersDeps) {}

  get origin(): RouterSlot {
    return this.originSlot;
  }

  /** Resolves when no recovery from a worker death is in progress. */
  get ready(): Promise<void> {
    return this.recovered;
  }

  list(): RouterSlot[] {
    return [this.originSlot, ...this.edges];
  }

  /** Opens the origin, with the active speaker observer on it. */
  async open(): Promise<void> {
    const slot = await this.openSlot(await this.deps.media.pickWorker());
    this.speaker = await this.deps.media.observeSpeakers(slot.router, (id) =>
      this.deps.onDominantSpeaker(id),
    );
    this.originSlot = slot;
  }

  /**
   * Where a new viewer's receive transport goes: the first router under the consumer threshold; when all
   * are full, a new router on the least-loaded other worker, fed with every producer by pipeToRouter.
   */
  placeViewer(): Promise<RouterSlot> {
    const run = this.placing.then(async () => {
      const slots = this.list();
      const free = freeRouter(slots, this.deps.consumerThreshold);
      if (free) return free;
      const picked = await this.deps.media.pickWorker(new Set(slots.map((s) => s.workerIndex)));
      const placed = whenFull(slots, picked.index);
      if (placed !== 'grow') return placed;
      const slot = await this.openSlot(picked);
      for (const id of this.deps.producerIds()) await this.pipe(id, slot);
      this.edges.push(slot);
      this.deps.log.info(
        { lessonId: this.deps.lessonId, worker: picked.index, routers: this.edges.length + 1 },
        'room grew onto another worker (pipeToRouter)',
      );
      return slot;
    });
    this.placing = run.catch(() => undefined);
    return run;
  }

  /** Makes a producer consumable on `slot` (a no-op on the origin, or when already piped). */
  async pipe(producerId: string, slot: RouterSlot): Promise<void> {
    if (slot === this.originSlot || slot.piped.has(producerId)) return;
    slot.piped.add(producerId);
    try {
      await this.deps.media.pipe(this.originSlot.router, producerId, slot.router);
    } catch (err) {
      slot.piped.delete(producerId);
      throw err;
    }
  }

  /** A new producer: the speaker observer hears it (audio), and edge routers get it before anyone is told. */
  async wire(producerId: string, kind: MediaKind): Promise<void> {
    try {
      if (kind === 'audio' && this.speaker && !this.speaker.closed)
        await this.deps.media.addSpeaker(this.speaker, producerId);
      for (const edge of this.edges) await this.pipe(producerId, edge);
    } catch (err) {
      this.deps.log.warn(
        { lessonId: this.deps.lessonId, err: (err as Error).message },
        'producer wiring failed',
      );
    }
  }

  /** The origin died: its edges go too, and a new origin opens on a live worker. */
  async replaceOrigin(): Promise<void> {
    for (const e of this.edges) this.deps.media.closeRouter(e.router);
    this.edges = [];
    await this.open();
  }

  /** An edge died: new viewers go elsewhere. */
  dropEdge(slot: RouterSlot): void {
    this.edges = this.edges.filter((s) => s !== slot);
  }

  close(): void {
    for (const s of this.list()) this.deps.media.closeRouter(s.router);
  }

  private async openSlot(worker: MediaWorker): Promise<RouterSlot> {
    const router = await this.deps.media.createRouter(worker);
    const slot: RouterSlot = { router, workerIndex: worker.index, consumers: 0, piped: new Set() };
    this.deps.media.onWorkerDeath(router, () => this.recover(slot));
    return slot;
  }

  private recover(slot: RouterSlot): void {
    const { lessonId, log } = this.deps;
    if (this.deps.closed()) return;
    const origin = slot === this.originSlot;
    log.error({ lessonId, worker: slot.workerIndex, origin }, 'a worker of this room died; moving the room');
    // No live worker for a while (all dead, replacements failing): keep trying, clients wait.
    const attempts = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.deps.onWorkerDeath(slot, origin);
        } catch (err) {
          if (attempt >= RECOVERY_ATTEMPTS || this.deps.closed()) throw err;
          log.warn({ lessonId, attempt, err: (err as Error).message }, 'room recovery retry');
          await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
      }
    };
    this.recovered = this.recovered.then(attempts).catch((err: unknown) => {
      log.error({ lessonId, err: (err as Error).message }, 'room recovery failed');
    });
  }
}
