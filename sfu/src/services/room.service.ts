// The live rooms of this sfu process: who may join which lesson (asked of the api), with which role,
// room creation on the least-loaded worker, the audience cap, and the end of a lesson (the bridge's
// recording → the durable `live.ended` job).
import {
  AppError,
  ownsLesson,
  type AccessClaims,
  type LiveEndedJob,
  type LiveInfo,
  type LiveJoinReply,
  type RoomEnded,
} from '@sky/contracts';
import type { ApiClient } from '../adapters/api-client.js';
import type { RoomDirectory } from '../adapters/room-directory.js';
import type { Cascade } from './cascade.js';
import { Peer, Room, type Notify, type RoomDeps } from './room.js';

export interface RoomServiceDeps extends RoomDeps {
  api: ApiClient;
  /** Students over WebRTC per room; past it joins are refused with ROOM_FULL (clients play HLS). */
  audienceCap: number;
  /** Enqueues the durable `live.ended` job (the api turns the recording into the replay). */
  liveEnded(job: LiveEndedJob): Promise<void>;
  /**
   * How long a room waits for its teacher to come back (a crashed browser, a lost line) before the
   * lesson is ended for them, so it never stays "live" with nobody teaching; 0 never ends it.
   */
  teacherGraceMs: number;
  /**
   * Several sfu nodes (cascading): the directory says which node runs a lesson's origin room; a room
   * opened elsewhere is an edge fed from it. Left out, this node runs every room it is asked for.
   */
  cluster?: { directory: RoomDirectory; cascade: Cascade } | undefined;
}

/** Lessons ended here are refused at once, even before the api has processed `live.ended`. */
const ENDED_KEPT = 1000;
/** How long the api's answer about a lesson serves the joins that follow it (liveInfo). */
const LIVE_INFO_SHARED_MS = 1000;
/**
 * A student's name is asked this long after their join: a dead node's hundreds of viewers rejoin here at
 * once, and their joins must not queue behind as many questions to the api.
 */
const NAME_AFTER_MS = 5000;
/** Students' names asked of the api at once (nameOf). */
const NAMES_AT_ONCE = 8;

export class RoomService {
  private readonly rooms = new Map<string, Room>();
  private readonly opening = new Map<string, Promise<Room>>();
  private readonly ended = new Map<string, string>();
  /** The api's answer about a lesson being asked now, shared by the joins that arrive meanwhile. */
  private readonly asking = new Map<string, Promise<LiveInfo>>();
  /** Rooms whose teacher has left, by lesson: the timer that ends them unless the teacher returns. */
  private readonly abandoned = new Map<string, NodeJS.Timeout>();
  /** Students' name lookups waiting (nameOf), and how many run now. */
  private readonly unnamed: (() => Promise<void>)[] = [];
  private naming = 0;

  constructor(private readonly deps: RoomServiceDeps) {}

  room(lessonId: string): Room | undefined {
    return this.rooms.get(lessonId);
  }

  list(): Room[] {
    return [...this.rooms.values()];
  }

  /**
   * Admits the token's user to a live lesson's room. Role: teacher iff the api names them the lesson's
   * live teacher (or they are an admin); nothing in the request can change it.
   */
  async join(
    actor: AccessClaims,
    token: string,
    lessonId: string,
    notify: Notify,
  ): Promise<{ room: Room; peer: Peer }> {
    if (this.ended.has(lessonId)) throw new AppError('NOT_LIVE', 'this live lesson has ended');
    // a student's name shows only once they raise a hand or go on stage: it is asked after the join (below)
    const named =
      actor.role === 'student'
        ? undefined
        : this.deps.api.me(token).then(
            (me) => me.displayName,
            () => undefined,
          );
    const info = await this.liveInfo(lessonId, token);
    if (info.state !== 'live')
      throw new AppError('NOT_LIVE', info.state === 'ended' ? 'this live lesson has ended' : 'not live yet');
    // the one owner rule: the lesson's teacher (or an admin) teaches; everyone else joins as a student
    const role = ownsLesson(actor, info) ? 'teacher' : 'student';
    const room = await this.openRoom(lessonId, info.teacherId, info.startedAt ?? new Date().toISOString());
    await room.settled();
    // One seat per account: joining again (a reload, a second tab) replaces the earlier seat.
    const earlier = room.peers.ofUser(actor.sub);
    if (
      role === 'student' &&
      earlier.length === 0 &&
      !room.stage.isOnStage(actor.sub) &&
      room.students() >= this.deps.audienceCap
    ) {
      throw new AppError('ROOM_FULL', 'the interactive class is full; watch the live stream');
    }
    for (const p of earlier) this.leave(room, p);
    const peer = new Peer(actor.sub, (await named) ?? actor.sub, role, notify);
    room.addPeer(peer);
    if (!named) {
      peer.lookUpName = () => this.nameOf(room, peer, token);
      // asked a moment after the join (while the token is fresh), or at once if the name is needed first
      setTimeout(() => void peer.named(), NAME_AFTER_MS).unref();
    }
    if (role === 'teacher') {
      this.teacherBack(room.lessonId);
      // back on an edge node of the lesson (its origin died): this node becomes the origin if it can
      await this.deps.cluster?.cascade.teacherJoined(room);
    }
    return { room, peer };
  }

  /** A student's name, asked of the api a few at a time (a class raising hands at once), on kept-alive connections. */
  private nameOf(room: Room, peer: Peer, token: string): Promise<void> {
    const named = new Promise<void>((resolve) =>
      this.unnamed.push(async () => {
        try {
          if (room.peers.get(peer.id) !== peer) return; // gone meanwhile
          const me = await this.deps.api.me(token).catch(() => undefined);
          if (me) peer.name = me.displayName;
        } finally {
          resolve();
        }
      }),
    );
    this.askNames();
    return named;
  }

  private askNames(): void {
    while (this.naming < NAMES_AT_ONCE && this.unnamed.length > 0) {
      const ask = this.unnamed.shift()!;
      this.naming += 1;
      void ask().finally(() => {
        this.naming -= 1;
        this.askNames();
      });
    }
  }

  /**
   * Whether the lesson is live and who teaches it. A node's viewers come back all at once (their node
   * died): one question to the api serves every join of the lesson asked meanwhile and for
   * LIVE_INFO_SHARED_MS after its answer, as they arrive over a second or more (tokens are checked by
   * signature here; the lesson's state is the same for all). Refused, each asks with its own token.
   */
  private liveInfo(lessonId: string, token: string): Promise<LiveInfo> {
    const pending = this.asking.get(lessonId);
    if (pending) return pending.catch(() => this.deps.api.liveInfo(lessonId, token));
    const asked = this.deps.api.liveInfo(lessonId, token);
    this.asking.set(lessonId, asked);
    const forget = () => {
      if (this.asking.get(lessonId) === asked) this.asking.delete(lessonId);
    };
    // only a live lesson's answer is kept: a lesson about to start is asked again at once
    asked.then(
      (info) => (info.state === 'live' ? setTimeout(forget, LIVE_INFO_SHARED_MS).unref() : forget()),
      forget,
    );
    return asked;
  }

  snapshot(room: Room, peer: Peer): LiveJoinReply {
    return {
      lessonId: room.lessonId,
      peerId: peer.id,
      userId: peer.userId,
      role: peer.role,
      routerRtpCapabilities: room.routerRtpCapabilities,
      producers: room.producerInfos(peer),
      stage: room.stage.state(),
      viewerCount: room.peers.size,
      students: room.students(),
      epoch: room.epoch,
      startedAt: room.startedAt,
    };
  }

  private openRoom(lessonId: string, teacherId: string, startedAt: string): Promise<Room> {
    const open = this.rooms.get(lessonId);
    if (open && !open.closed) return Promise.resolve(open);
    let pending = this.opening.get(lessonId);
    if (!pending) {
      pending = this.open(lessonId, teacherId, startedAt)
        .then((room) => {
          this.rooms.set(lessonId, room);
          this.deps.log.info({ lessonId }, 'live room opened');
          return room;
        })
        .finally(() => this.opening.delete(lessonId));
      this.opening.set(lessonId, pending);
    }
    return pending;
  }

  /** The origin room when this node holds (or takes) the lesson's lease, else an edge of the origin's. */
  private async open(lessonId: string, teacherId: string, startedAt: string): Promise<Room> {
    const cluster = this.deps.cluster;
    const origin = cluster
      ? await cluster.directory.claim(lessonId).catch((err: unknown) => {
          throw new AppError('DEPENDENCY_DOWN', `the sfu directory: ${(err as Error).message}`);
        })
      : 'mine';
    const room = await Room.open(lessonId, teacherId, startedAt, this.deps);
    if (origin === 'mine' || !cluster) return room;
    try {
      await cluster.cascade.attachEdge(room, origin);
    } catch (err) {
      room.close();
      throw err;
    }
    return room;
  }

  /** Peers in this node's rooms (the load it reports to the directory). */
  load(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.peers.size;
    return n;
  }

  /** An edge room whose lesson ended at its origin: its viewers are told, nothing is recorded here. */
  endEdge(room: Room, ended: RoomEnded): void {
    if (this.rooms.get(room.lessonId) === room) this.rooms.delete(room.lessonId);
    this.ended.set(room.lessonId, ended.endedAt);
    room.broadcast('room.ended', ended);
    room.close();
  }

  leave(room: Room, peer: Peer): void {
    room.removePeer(peer);
    const teaching = [...room.peers.values()].some((p) => p.role === 'teacher');
    if (peer.role === 'teacher' && !teaching) this.awaitTeacher(room);
  }

  /** This node's edge room became the lesson's origin (its origin died): it waits for the teacher. */
  promoted(room: Room): void {
    if (!room.peers.teachers().some((p) => !p.remote)) this.awaitTeacher(room);
  }

  /** The room has no teacher: it ends after TEACHER_GRACE_SEC unless one comes back (at the origin only). */
  private awaitTeacher(room: Room): void {
    if (room.closed || this.deps.teacherGraceMs <= 0 || this.deps.cluster?.cascade.isEdge(room.lessonId))
      return;
    this.teacherBack(room.lessonId);
    const timer = setTimeout(() => {
      this.abandoned.delete(room.lessonId);
      if (room.closed || [...room.peers.values()].some((p) => p.role === 'teacher')) return;
      this.deps.log.warn({ lessonId: room.lessonId }, 'the teacher did not come back: ending the lesson');
      this.finish(room).catch((err: unknown) =>
        this.deps.log.error({ lessonId: room.lessonId, err }, 'ending an abandoned lesson failed'),
      );
    }, this.deps.teacherGraceMs);
    timer.unref();
    this.abandoned.set(room.lessonId, timer);
  }

  private teacherBack(lessonId: string): void {
    clearTimeout(this.abandoned.get(lessonId));
    this.abandoned.delete(lessonId);
  }

  /** The teacher ends the lesson: bridge stopped, recording finalised, `live.ended` enqueued, clients told. */
  async end(room: Room, actor: Peer) {
    room.mustTeach(actor);
    if (this.deps.cluster?.cascade.isEdge(room.lessonId))
      throw new AppError('CONFLICT', 'this lesson is taught on another sfu node; end it there');
    return this.finish(room);
  }

  private async finish(room: Room) {
    this.teacherBack(room.lessonId);
    await room.settled();
    // Two clicks (or two teacher tabs): only the first ends it.
    if (this.ended.has(room.lessonId)) throw new AppError('NOT_LIVE', 'this live lesson has ended');
    this.rooms.delete(room.lessonId);
    this.ended.set(room.lessonId, new Date().toISOString());
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
    const ended = await room.end();
    if (this.deps.cluster) {
      const { cascade, directory } = this.deps.cluster;
      await cascade.originEnded(room.lessonId, {
        lessonId: ended.lessonId,
        endedAt: ended.endedAt,
        recording: ended.recording,
      });
      await directory
        .release(room.lessonId)
        .catch((err: unknown) =>
          this.deps.log.warn({ lessonId: room.lessonId, err }, 'releasing the lesson lease failed'),
        );
    }
    const job: LiveEndedJob = {
      lessonId: room.lessonId,
      recording: ended.recording,
      startedAt: room.startedAt,
      endedAt: ended.endedAt,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.liveEnded(job);
        break;
      } catch (err) {
        this.deps.log.error(
          { lessonId: room.lessonId, attempt, err: (err as Error).message },
          'live.ended enqueue failed',
        );
        if (attempt >= 3)
          throw new AppError(
            'DEPENDENCY_DOWN',
            'the lesson ended but its replay could not be queued; tell an admin',
          );
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
    this.deps.log.info({ lessonId: room.lessonId, recording: ended.recording }, 'live room ended');
    return { lessonId: ended.lessonId, endedAt: ended.endedAt, recording: ended.recording };
  }

  async close(): Promise<void> {
    for (const timer of this.abandoned.values()) clearTimeout(timer);
    this.abandoned.clear();
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    this.deps.cluster?.cascade.close();
    await Promise.all(rooms.map((r) => r.shutdown()));
  }
}
