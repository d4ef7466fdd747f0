import {
  AppError,
  LIVE_LIMITS,
  LIVE_REQUESTS,
  type AccessClaims,
  type LiveClientEvents,
  type LiveEventName,
  type LiveReplies,
  type LiveRequest,
  type LiveServerEvents,
} from '@sky/contracts';
import { socketEdge } from '@sky/contracts/socket';
import type { Socket } from 'socket.io';
import type { Peer, Room } from '../services/room.js';
import type { RoomService } from '../services/room.service.js';

export type LiveSocket = Socket<LiveClientEvents, LiveServerEvents>;

/** One connection: who it is (from the verified token only) and the room it joined, if any. */
export interface LiveContext {
  actor: AccessClaims;
  /** The access token, passed on to the api when joining. */
  token: string;
  rooms: RoomService;
  socket: LiveSocket;
  joined?: { room: Room; peer: Peer } | undefined;
}

/** One client event: gets a validated payload, answers the ack's data or throws an AppError. */
export type LiveHandler<K extends LiveEventName> = (
  ctx: LiveContext,
  req: LiveRequest<K>,
) => Promise<LiveReplies[K]>;
export type LiveHandlers<K extends LiveEventName> = { [N in K]: LiveHandler<N> };

/** The room this connection joined, once any restart is over; NOT_JOINED before `room.join`. */
export async function joined(ctx: LiveContext): Promise<{ room: Room; peer: Peer }> {
  const j = ctx.joined;
  if (!j) throw new AppError('NOT_JOINED', 'send room.join first');
  if (j.room.closed) {
    ctx.joined = undefined;
    throw new AppError('NOT_LIVE', 'the lesson has ended');
  }
  await j.room.settled();
  if (j.room.peers.get(j.peer.id) !== j.peer) {
    // The account joined the room again from another connection (a reload, a second tab): that one has the seat.
    if (ctx.joined === j) ctx.joined = undefined;
    throw new AppError(
      'NOT_JOINED',
      'you joined this lesson from another window; send room.join to come back',
    );
  }
  return j;
}

/** The /live edge, as /qa's (socketEdge): per-connection `guard(log)` and `bind(ctx, event, handler, log)`. */
export const { guard, bind } = socketEdge<typeof LIVE_REQUESTS, LiveReplies, LiveContext>({
  requests: LIVE_REQUESTS,
  limits: LIVE_LIMITS,
  label: 'live',
});
