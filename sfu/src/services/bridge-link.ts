// The room's end of the live HLS bridge (services/live-bridge.ts): started with the teacher's first
// media, told whenever the teacher's producers change or the room moves to a new router, stopped at the end.
import type {
  BridgeProducer,
  BridgeRouter,
  MediaProducer,
  MediaRouter,
  RoomMedia,
} from '../adapters/room-media.js';
import { bridgeSources } from './bridge-sources.js';
import type { Peer } from './peer.js';
import type { RoomLogger } from './room-peers.js';

/** What the room needs of the HLS bridge (services/live-bridge.ts LiveBridge fits). */
export interface RoomBridge {
  update(
    sources: { video?: BridgeProducer | undefined; audio?: BridgeProducer | undefined },
    router?: BridgeRouter,
  ): Promise<void>;
  stop(): Promise<{ recording: string | null; durationSec: number }>;
}
/** `startedAt`: the lesson's go-live (ISO), where its replay begins. */
export type BridgeFactory = (lessonId: string, router: BridgeRouter, startedAt: string) => RoomBridge;

export class BridgeLink {
  private bridge: RoomBridge | undefined;

  constructor(
    private readonly lessonId: string,
    private readonly startedAt: string,
    private readonly deps: { media: RoomMedia; log: RoomLogger; bridges?: BridgeFactory | undefined },
  ) {}

  /** The teacher's producers changed: the bridge gets what the HLS stage carries (it starts on the first). */
  follow(teachers: readonly Peer[], origin: MediaRouter): void {
    const { video, audio } = bridgeSources(teachers);
    if (!this.bridge) {
      if (!this.deps.bridges || (!video && !audio)) return;
      this.bridge = this.deps.bridges(this.lessonId, this.deps.media.bridgeRouter(origin), this.startedAt);
    }
    const native = (p: MediaProducer | undefined) => p && this.deps.media.bridgeProducer(p);
    this.bridge
      .update({ video: native(video), audio: native(audio) })
      .catch((err: unknown) => this.failed(err, 'live bridge update failed'));
  }

  /** A new origin after a worker death: the bridge moves there, black and silent until the teacher re-publishes. */
  moveTo(origin: MediaRouter): void {
    this.bridge
      ?.update({}, this.deps.media.bridgeRouter(origin))
      .catch((err: unknown) => this.failed(err, 'live bridge move failed'));
  }

  /** The lesson ends: the bridge finalises the recording (none without a bridge, or when that fails). */
  async stop(): Promise<{ recording: string | null; durationSec: number }> {
    if (this.bridge) {
      try {
        return await this.bridge.stop();
      } catch (err) {
        this.failed(err, 'live bridge stop failed');
      }
    }
    return { recording: null, durationSec: 0 };
  }

  /** Shutdown: stops the bridge's ffmpeg too (its recording stays on disk). */
  async shutdown(): Promise<void> {
    if (this.bridge) await this.bridge.stop().catch(() => undefined);
  }

  private failed(err: unknown, msg: string): void {
    this.deps.log.error({ lessonId: this.lessonId, err: (err as Error).message }, msg);
  }
}
