// Cascading one lesson across sfu nodes with mediasoup PipeTransports. The origin (the node holding the
// lesson's lease, where the teacher publishes) keeps one link per edge node: a PipeTransport with a pipe
// consumer per producer, shared by all that node's viewers. The edge node has the mirror image: one
// PipeTransport whose pipe producers (same ids, kinds, parameters, paused state) its room shows as a
// remote peer's. The origin pushes new, closed and paused producers and the lesson's end to the edge.
// An origin that dies pushes nothing more: every edge reads the lesson's lease each beat, and when another
// node holds it (the teacher published again there) the edge drops the dead origin's producers and pipes
// the new origin's, its viewers staying where they are. When no node has taken the lease for a while (the
// teacher has not come back), or the teacher comes back to the edge itself, the edge takes the lease: its
// room becomes the lesson's origin, which ends the lesson after the teacher's grace like any other.
import { AppError, SFU_DIRECTORY, type RoomEnded, type SfuNodeRecord } from '@sky/contracts';
import type { CascadePost } from '../adapters/cascade-client.js';
import type { PipeConsumer, PipeMediaTransport, RoomMedia } from '../adapters/room-media.js';
import { LinkReply, type CascadeEvent, type LinkRequest, type PipedProducer } from './cascade-wire.js';
import type { Peer, PeerProducer } from './peer.js';
import type { Room, RoomLogger } from './room.js';
import { producerInfo } from './room-peers.js';

export interface CascadeDeps {
  media: Pick<
    RoomMedia,
    'createPipeTransport' | 'connectPipe' | 'pipeConsume' | 'pipeProduce' | 'closeTransport'
  >;
  post: CascadePost;
  log: RoomLogger;
  /** This node, as other nodes reach it. */
  self(): { nodeId: string; internalUrl: string };
  /** Whether a node still beats in the directory. */
  alive(nodeId: string): Promise<boolean>;
  /** The live node holding a lesson's lease when it is another node (the lesson's origin), else undefined. */
  origin(lessonId: string): Promise<SfuNodeRecord | undefined>;
  /** Takes the lesson's lease unless a live node holds it: 'mine', or the holder's record. */
  claim(lessonId: string): Promise<'mine' | SfuNodeRecord>;
  /** An edge room became the lesson's origin here (its dead origin's producers gone). */
  promoted(room: Room): void;
}

/** The origin's end of one link to an edge node. */
interface OriginLink {
  nodeId: string;
  internalUrl: string;
  transport: PipeMediaTransport;
  consumers: Map<string, PipeConsumer>;
  closed: boolean;
  /** Events to the edge go one after another, in order. */
  sending: Promise<void>;
}

/** The edge's end of a lesson's link: events are applied in order, after the link is up. */
interface EdgeLink {
  room: Room;
  /** The origin the link goes to (or went to, while a new one is being set up). */
  originId: string;
  transport?: PipeMediaTransport;
  applying: Promise<void>;
  /** A move to a new origin is under way (edge.applying holds it). */
  moving: boolean;
  /** Since when no live node has held the lesson's lease (ms since epoch): the origin died. */
  orphanedAt?: number;
}

/**
 * How long an edge whose origin died waits for another node to take the lesson before it takes it
 * itself. A teacher's client is back within seconds (it asks the api at once and is sent to the least
 * loaded node): their node, not the viewers', should become the origin. The viewers keep the edge.
 */
export const ORPHAN_WAIT_MS = 10_000;

const path = (lessonId: string, what: 'links' | 'events') =>
  `/internal/cascade/lessons/${encodeURIComponent(lessonId)}/${what}`;

export class Cascade {
  /** Origin side: lesson → edge node → link. */
  private readonly links = new Map<string, Map<string, OriginLink>>();
  /** Edge side: lesson → link to its origin. */
  private readonly edges = new Map<string, EdgeLink>();
  /** While this node has edges: the beat that looks for a new origin of each edge's lesson. */
  private watching: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(private readonly deps: CascadeDeps) {}

  // Origin side

  /** An edge node asks for the lesson's producers: a pipe both ways, a pipe consumer per producer. */
  async openLink(room: Room, req: LinkRequest): Promise<LinkReply> {
    let byNode = this.links.get(room.lessonId);
    if (!byNode) {
      byNode = new Map();
      this.links.set(room.lessonId, byNode);
      const nodes = byNode;
      room.producedTaps.add((peer, pp) => {
        for (const link of nodes.values()) this.pipeNew(link, peer, pp);
      });
    }
    // the edge's room was opened again (its process restarted): the old link is dead
    const old = byNode.get(req.nodeId);
    if (old) this.closeLink(room.lessonId, old);
    const transport = await this.deps.media.createPipeTransport(room.originRouter);
    const link: OriginLink = {
      nodeId: req.nodeId,
      internalUrl: req.internalUrl,
      transport,
      consumers: new Map(),
      closed: false,
      sending: Promise.resolve(),
    };
    byNode.set(req.nodeId, link);
    try {
      await this.deps.media.connectPipe(transport, req.pipe);
      const producers: PipedProducer[] = [];
      for (const { peer, pp } of room.ownProducers()) producers.push(await this.consume(link, peer, pp));
      this.deps.log.info(
        { lessonId: room.lessonId, edge: req.nodeId, producers: producers.length },
        'cascade link opened',
      );
      return { pipe: transport.address, producers };
    } catch (err) {
      this.closeLink(room.lessonId, link);
      throw err;
    }
  }

  private async consume(link: OriginLink, peer: Peer, pp: PeerProducer): Promise<PipedProducer> {
    const producerId = pp.producer.id;
    const consumer = await this.deps.media.pipeConsume(link.transport, producerId, {
      paused: (paused) => this.send(link, { type: 'producer.state', producerId, paused }),
      closed: () => {
        link.consumers.delete(producerId);
        this.send(link, { type: 'producer.closed', producerId });
      },
    });
    link.consumers.set(producerId, consumer);
    return {
      info: { ...producerInfo(peer, pp), paused: consumer.producerPaused },
      rtpParameters: consumer.rtpParameters,
    };
  }

  private pipeNew(link: OriginLink, peer: Peer, pp: PeerProducer): void {
    if (link.closed) return;
    this.consume(link, peer, pp).then(
      (producer) => this.send(link, { type: 'producer.new', producer }),
      (err: unknown) =>
        this.deps.log.warn({ edge: link.nodeId, err: (err as Error).message }, 'cascade pipe failed'),
    );
  }

  private send(link: OriginLink, event: CascadeEvent): void {
    if (link.closed) return;
    const lessonId = [...this.links].find(([, m]) => m.get(link.nodeId) === link)?.[0];
    if (!lessonId) return;
    link.sending = link.sending.then(async () => {
      if (link.closed && event.type !== 'room.ended') return;
      try {
        await this.deps.post(link.internalUrl, path(lessonId, 'events'), event);
      } catch (err) {
        // the edge node is gone (or cannot be reached): its viewers re-join elsewhere through the directory
        this.deps.log.warn(
          { lessonId, edge: link.nodeId, err: (err as Error).message },
          'cascade edge unreachable: link closed',
        );
        this.closeLink(lessonId, link);
      }
    });
  }

  private closeLink(lessonId: string, link: OriginLink): void {
    if (link.closed) return;
    link.closed = true;
    this.deps.media.closeTransport(link.transport);
    const byNode = this.links.get(lessonId);
    if (byNode?.get(link.nodeId) === link) byNode.delete(link.nodeId);
  }

  /**
   * Links to edge nodes that stopped beating (killed: nothing told us) close, and stop sending media into
   * the void; the edge's viewers come back through the directory.
   */
  async prune(): Promise<void> {
    for (const [lessonId, byNode] of this.links)
      for (const link of [...byNode.values()])
        if (!(await this.deps.alive(link.nodeId).catch(() => true))) {
          this.deps.log.warn({ lessonId, edge: link.nodeId }, 'cascade edge stopped beating: link closed');
          this.closeLink(lessonId, link);
        }
  }

  /** The lesson ended at its origin: every edge is told (its viewers get room.ended), links close. */
  async originEnded(lessonId: string, ended: RoomEnded): Promise<void> {
    const byNode = this.links.get(lessonId);
    this.links.delete(lessonId);
    if (!byNode) return;
    await Promise.all(
      [...byNode.values()].map(async (link) => {
        link.closed = true;
        await link.sending;
        await this.deps
          .post(link.internalUrl, path(lessonId, 'events'), { type: 'room.ended', ended })
          .catch(() => undefined);
        this.deps.media.closeTransport(link.transport);
      }),
    );
  }

  // Edge side

  /** This node's room of a lesson whose origin is another node: one link, the producers piped in. */
  async attachEdge(room: Room, origin: SfuNodeRecord): Promise<void> {
    const edge: EdgeLink = { room, originId: origin.nodeId, applying: Promise.resolve(), moving: false };
    this.edges.set(room.lessonId, edge);
    const up = this.link(edge, origin);
    edge.applying = up.catch(() => undefined);
    try {
      await up;
    } catch (err) {
      this.dropEdge(room.lessonId);
      throw err instanceof AppError
        ? err
        : new AppError('DEPENDENCY_DOWN', `the lesson's origin node: ${(err as Error).message}`);
    }
    this.watch();
    this.deps.log.info(
      { lessonId: room.lessonId, origin: origin.nodeId, producers: room.producerInfos().length },
      'cascade edge attached',
    );
  }

  /** A pipe to `origin`, its producers adopted into the edge's room. */
  private async link(edge: EdgeLink, origin: SfuNodeRecord): Promise<void> {
    const transport = await this.deps.media.createPipeTransport(edge.room.originRouter);
    edge.transport = transport;
    const self = this.deps.self();
    const req: LinkRequest = { nodeId: self.nodeId, internalUrl: self.internalUrl, pipe: transport.address };
    const reply = LinkReply.parse(
      await this.deps.post(origin.internalUrl, path(edge.room.lessonId, 'links'), req),
    );
    await this.deps.media.connectPipe(transport, reply.pipe);
    for (const p of reply.producers) await this.adopt(edge, p);
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = setInterval(() => {
      if (this.checking) return;
      this.checking = true;
      void this.checkOrigins().finally(() => (this.checking = false));
    }, SFU_DIRECTORY.beatMs);
    this.watching.unref();
  }

  /**
   * Each edge's lesson as the directory has it now: another node holding the lease than the one the edge
   * pipes from is the lesson's new origin (the old one died, the teacher published there).
   */
  async checkOrigins(): Promise<void> {
    if (this.edges.size === 0) {
      clearInterval(this.watching);
      this.watching = undefined;
      return;
    }
    for (const [lessonId, edge] of this.edges) {
      if (edge.moving) continue;
      // the directory unreachable (null): nothing is known, nothing changes
      const origin = await this.deps.origin(lessonId).catch(() => null);
      if (origin === null || this.edges.get(lessonId) !== edge) continue;
      if (origin) {
        delete edge.orphanedAt;
        if (origin.nodeId !== edge.originId) this.move(edge, origin);
        continue;
      }
      edge.orphanedAt ??= Date.now();
      if (Date.now() - edge.orphanedAt >= ORPHAN_WAIT_MS) await this.takeOver(edge);
    }
  }

  /**
   * The teacher joined this node's edge room: its origin died (the api sends a teacher to a live origin).
   * The room becomes the origin if the lease is free; else it stays an edge of the origin that has it.
   */
  async teacherJoined(room: Room): Promise<void> {
    const edge = this.edges.get(room.lessonId);
    if (edge?.room === room) await this.takeOver(edge);
  }

  /** Takes the lesson's lease for an edge whose origin died: its room becomes the origin here. */
  private takeOver(edge: EdgeLink): Promise<void> {
    const { lessonId } = edge.room;
    edge.moving = true;
    const done = edge.applying
      .then(async () => {
        if (this.edges.get(lessonId) !== edge || edge.room.closed) return;
        const holder = await this.deps.claim(lessonId);
        // another node holds it after all: the next beat moves the edge there
        if (holder !== 'mine') return;
        this.edges.delete(lessonId);
        this.unpipe(edge);
        this.deps.log.warn(
          { lessonId, from: edge.originId, orphanedMs: edge.orphanedAt && Date.now() - edge.orphanedAt },
          'cascade edge took over as the origin',
        );
        this.deps.promoted(edge.room);
      })
      .catch((err: unknown) =>
        this.deps.log.warn({ lessonId, err: (err as Error).message }, 'cascade take-over failed'),
      )
      .finally(() => {
        edge.moving = false;
      });
    edge.applying = done;
    return done;
  }

  /** The edge's link to its origin goes, and with it the origin's producers (their consumers with them). */
  private unpipe(edge: EdgeLink): void {
    if (edge.transport) this.deps.media.closeTransport(edge.transport);
    delete edge.transport;
    for (const peer of [...edge.room.peers.values()])
      if (peer.remote) for (const id of [...peer.producers.keys()]) edge.room.dropRemote(id);
  }

  /** The edge pipes from a new origin: the old one's producers go (their consumers with them), the new ones come. */
  private move(edge: EdgeLink, origin: SfuNodeRecord): void {
    const { lessonId } = edge.room;
    const from = edge.originId;
    edge.moving = true;
    edge.applying = edge.applying
      .then(async () => {
        this.unpipe(edge);
        await this.link(edge, origin);
        edge.originId = origin.nodeId;
        this.deps.log.warn(
          { lessonId, from, to: origin.nodeId, producers: edge.room.producerInfos().length },
          'cascade edge moved to the new origin',
        );
      })
      .catch((err: unknown) => {
        // tried again on the next beat (the origin is still the lease holder's, not this link's)
        if (edge.transport) this.deps.media.closeTransport(edge.transport);
        delete edge.transport;
        this.deps.log.warn(
          { lessonId, to: origin.nodeId, err: (err as Error).message },
          'cascade move failed',
        );
      })
      .finally(() => {
        edge.moving = false;
      });
  }

  private async adopt(edge: EdgeLink, p: PipedProducer): Promise<void> {
    if (!edge.transport || edge.room.closed) return;
    const producer = await this.deps.media.pipeProduce(edge.transport, {
      id: p.info.producerId,
      kind: p.info.kind,
      rtpParameters: p.rtpParameters,
      paused: p.info.paused,
      appData: { source: p.info.source, peerId: p.info.peerId, piped: true },
    });
    await edge.room.adoptRemote(p.info, producer);
  }

  isEdge(lessonId: string): boolean {
    return this.edges.has(lessonId);
  }

  /** An event from the lesson's origin; false when this node has no such edge room (any more). */
  edgeEvent(lessonId: string, event: CascadeEvent, ended: (room: Room, ended: RoomEnded) => void): boolean {
    const edge = this.edges.get(lessonId);
    if (!edge) return false;
    edge.applying = edge.applying
      .then(async () => {
        switch (event.type) {
          case 'producer.new':
            return this.adopt(edge, event.producer);
          case 'producer.closed':
            return edge.room.dropRemote(event.producerId);
          case 'producer.state':
            return edge.room.remotePaused(event.producerId, event.paused);
          case 'room.ended':
            this.dropEdge(lessonId);
            return ended(edge.room, event.ended);
        }
      })
      .catch((err: unknown) =>
        this.deps.log.warn({ lessonId, err: (err as Error).message }, 'cascade event failed'),
      );
    return true;
  }

  /** The edge room closed here: its link goes (the origin closes its end when an event fails). */
  dropEdge(lessonId: string): void {
    const edge = this.edges.get(lessonId);
    if (!edge) return;
    this.edges.delete(lessonId);
    if (edge.transport) this.deps.media.closeTransport(edge.transport);
  }

  close(): void {
    clearInterval(this.watching);
    this.watching = undefined;
    for (const [lessonId, byNode] of this.links)
      for (const link of [...byNode.values()]) this.closeLink(lessonId, link);
    this.links.clear();
    for (const lessonId of [...this.edges.keys()]) this.dropEdge(lessonId);
  }
}
