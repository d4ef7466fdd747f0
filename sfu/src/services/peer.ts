import { randomUUID } from 'node:crypto';
import type { LiveRole, LiveServerEvents, LiveSource, TransportDirection } from '@sky/contracts';
import type { MediaConsumer, MediaProducer, MediaTransport } from '../adapters/room-media.js';
import type { RouterSlot } from './room-routers.js';

/** Sends one server → client event to one peer (socket.emit, or a no-op for in-process peers). */
export type Notify = <E extends keyof LiveServerEvents>(
  event: E,
  ...args: Parameters<LiveServerEvents[E]>
) => void;

export interface PeerTransport {
  transport: MediaTransport;
  webrtc: boolean;
  direction: TransportDirection;
  slot: RouterSlot;
}
export interface PeerProducer {
  producer: MediaProducer;
  source: LiveSource;
  pausedBy?: 'owner' | 'teacher';
}
export interface PeerConsumer {
  consumer: MediaConsumer;
  source: LiveSource;
}

/** One connection in a room, with its media. */
export class Peer {
  readonly id: string;
  readonly transports = new Map<string, PeerTransport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, PeerConsumer>();
  /** WebRTC transports being created for this peer right now (bounded by LIVE_LIMITS.transportsPerPeer). */
  creatingTransports = 0;
  /** Asks the api for the name (RoomService sets it for a student, who joins without one). */
  lookUpName: (() => Promise<void>) | undefined;
  private naming: Promise<void> | undefined;
  constructor(
    readonly userId: string,
    /** The user's display name; a student's arrives after the join (`named`). */
    public name: string,
    readonly role: LiveRole,
    readonly notify: Notify,
    /**
     * `remote`: a peer of another sfu node whose producers are piped into this room (cascading); it has
     * no connection here, and keeps its id from there.
     */
    readonly remote?: { id: string },
  ) {
    this.id = remote?.id ?? randomUUID();
  }

  /** Settles once `name` is the api's: a student's is asked a moment after the join, or when first shown. */
  named(): Promise<void> {
    return (this.naming ??= this.lookUpName?.() ?? Promise.resolve());
  }
}
