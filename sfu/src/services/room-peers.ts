import type { LiveServerEvents, ProducerInfo } from '@sky/contracts';
import type { Peer, PeerProducer } from './peer.js';

export interface RoomLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The peers of one room by id, and what the room asks of them all: fan-out and finding producers. */
export class RoomPeers extends Map<string, Peer> {
  constructor(private readonly log: RoomLogger) {
    super();
  }

  broadcast<E extends keyof LiveServerEvents>(
    event: E,
    payload: Parameters<LiveServerEvents[E]>[0],
    except?: Peer,
  ): void {
    for (const p of this.values()) {
      if (p === except) continue;
      try {
        (p.notify as (e: E, x: typeof payload) => void)(event, payload);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, event }, 'notify failed');
      }
    }
  }

  ofUser(userId: string): Peer[] {
    return [...this.values()].filter((p) => p.userId === userId && !p.remote);
  }

  teachers(): Peer[] {
    return [...this.values()].filter((p) => p.role === 'teacher');
  }

  students(): number {
    let n = 0;
    for (const p of this.values()) if (p.role === 'student' && !p.remote) n += 1;
    return n;
  }

  *producers(): Generator<PeerProducer> {
    for (const peer of this.values()) yield* peer.producers.values();
  }

  findProducer(producerId: string): { peer: Peer; pp: PeerProducer } | undefined {
    for (const peer of this.values()) {
      const pp = peer.producers.get(producerId);
      if (pp) return { peer, pp };
    }
    return undefined;
  }

  producerInfos(except?: Peer): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const peer of this.values()) {
      if (peer === except) continue;
      for (const pp of peer.producers.values()) out.push(producerInfo(peer, pp));
    }
    return out;
  }
}

export function producerInfo(peer: Peer, pp: PeerProducer): ProducerInfo {
  return {
    producerId: pp.producer.id,
    peerId: peer.id,
    userId: peer.userId,
    name: peer.name,
    role: peer.role,
    kind: pp.producer.kind,
    source: pp.source,
    paused: pp.producer.paused,
  };
}
