// The stage of one room as its peers live it: raised hands, invitations, removal and the teacher's mute,
// who may publish what, and the stage broadcast on every change. (stage.ts keeps the queue itself.)
import { AppError, type LiveSource, type ProducerClosedEvent, type StageState } from '@sky/contracts';
import type { Peer } from './peer.js';
import type { PeerMedia } from './peer-media.js';
import type { RoomPeers } from './room-peers.js';
import { Stage } from './stage.js';

export function mustTeach(peer: Peer): void {
  if (peer.role !== 'teacher') throw new AppError('FORBIDDEN', "only the lesson's teacher may do this");
}

export class RoomStage {
  readonly stage: Stage;

  constructor(
    private readonly lessonId: string,
    private readonly peers: RoomPeers,
    private readonly media: PeerMedia,
  ) {
    this.stage = new Stage(lessonId);
  }

  /** The teacher publishes anything; a student only once invited, and mic and camera only. */
  mayPublish(peer: Peer, source: LiveSource): void {
    if (peer.role === 'teacher') return;
    if (!this.stage.isOnStage(peer.userId))
      throw new AppError('FORBIDDEN', 'only the teacher and students invited to the stage may publish');
    if (source === 'screen') throw new AppError('FORBIDDEN', 'students on stage share mic and camera only');
  }

  raiseHand(peer: Peer): StageState {
    if (peer.role !== 'student') throw new AppError('FORBIDDEN', 'only students raise hands');
    this.stage.raise(peer.userId, peer.name);
    return this.broadcast();
  }

  lowerHand(peer: Peer): StageState {
    if (peer.role !== 'student') throw new AppError('FORBIDDEN', 'only students raise hands');
    if (this.stage.lower(peer.userId) === 'stage') this.closeUserProducers(peer.userId, 'closed');
    return this.broadcast();
  }

  invite(actor: Peer, userId: string): StageState {
    mustTeach(actor);
    this.stage.invite(userId);
    for (const p of this.peers.ofUser(userId)) p.notify('stage.invited', { lessonId: this.lessonId });
    return this.broadcast();
  }

  remove(actor: Peer, userId: string): StageState {
    mustTeach(actor);
    this.stage.remove(userId);
    this.closeUserProducers(userId, 'removed');
    for (const p of this.peers.ofUser(userId)) p.notify('stage.removed', { lessonId: this.lessonId });
    return this.broadcast();
  }

  async mute(actor: Peer, userId: string, source?: 'mic' | 'camera'): Promise<StageState> {
    mustTeach(actor);
    if (!this.stage.isOnStage(userId)) throw new AppError('NOT_FOUND', 'that user is not on stage');
    const sources = new Set<LiveSource>();
    for (const p of this.peers.ofUser(userId)) {
      for (const pp of p.producers.values()) {
        if (source && pp.source !== source) continue;
        if (!pp.producer.paused) await this.media.pauseProducer(p, pp, true, 'teacher');
        else pp.pausedBy = 'teacher';
        sources.add(pp.source);
      }
    }
    this.stage.setMuted(userId, true);
    for (const p of this.peers.ofUser(userId))
      p.notify('stage.muted', { lessonId: this.lessonId, sources: [...sources] });
    return this.broadcast();
  }

  /** A student on stage resumed a producer: unmuted once the teacher holds none of theirs paused. */
  resumed(peer: Peer): void {
    if (peer.role !== 'student' || !this.stage.isOnStage(peer.userId)) return;
    const stillMuted = this.peers
      .ofUser(peer.userId)
      .some((p) => [...p.producers.values()].some((x) => x.pausedBy === 'teacher'));
    if (stillMuted) return;
    this.stage.setMuted(peer.userId, false);
    this.broadcast();
  }

  /** A peer left: its user's raised hand goes with its last connection (a place on stage is kept). */
  left(peer: Peer): void {
    const stillHere = this.peers.ofUser(peer.userId).length > 0;
    if (!stillHere && !this.stage.isOnStage(peer.userId) && this.stage.lower(peer.userId)) this.broadcast();
  }

  private closeUserProducers(userId: string, reason: ProducerClosedEvent['reason']) {
    for (const p of this.peers.ofUser(userId)) this.media.closeProducersOf(p, () => true, reason);
  }

  private broadcast(): StageState {
    const state = this.stage.state();
    this.peers.broadcast('stage.updated', state);
    return state;
  }
}
