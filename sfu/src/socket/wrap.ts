import {
  AppError,
  LIVE_LIMITS,
  LIVE_REQUESTS,
  fieldErrorsFromIssues,
  type AccessClaims,
  type Ack,
  type ErrorCode,
  type LiveClientEvents,
  type LiveEventName,
  type LiveReplies,
  type LiveRequest,
  type LiveServerEvents,
} from '@sky/contracts';
import type { FastifyBaseLogger } from 'fastify';
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
  return j;
}

type AckFn = (res: Ack<unknown>) => void;

const refuse = (ack: AckFn, code: ErrorCode, message: string) => ack({ ok: false, error: { code, message } });

const isEventName = (name: unknown): name is LiveEventName =>
  typeof name === 'string' && Object.hasOwn(LIVE_REQUESTS, name);

/**
 * Every incoming event passes here first (socket.use can stop an event): a flood limit per connection,
 * unknown event names, the ack callback every event needs, and the payload size limit. Refused events
 * get an error ack when they brought an ack callback and are dropped otherwise.
 */
export function guard(log: FastifyBaseLogger) {
  const rate = LIVE_LIMITS.eventsPerSecond;
  let tokens: number = rate;
  let refilled = Date.now();
  return (packet: unknown[], next: (err?: Error) => void) => {
    const [event, ...args] = packet;
    const last = args.at(-1);
    const ack = typeof last === 'function' ? (last as AckFn) : undefined;
    const now = Date.now();
    tokens = Math.min(rate, tokens + ((now - refilled) / 1000) * rate);
    refilled = now;
    if (tokens < 1) {
      if (ack) refuse(ack, 'RATE_LIMITED', `at most ${rate} events a second`);
      return;
    }
    tokens -= 1;
    if (!isEventName(event)) {
      if (ack)
        refuse(ack, 'VALIDATION_FAILED', `unknown event ${JSON.stringify(String(event)).slice(0, 80)}`);
      return;
    }
    if (!ack) {
      log.debug({ event }, 'live event without an ack dropped');
      return;
    }
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(args.slice(0, -1)));
    } catch {
      bytes = Infinity;
    }
    if (bytes > LIVE_LIMITS.eventBytes) {
      refuse(ack, 'PAYLOAD_TOO_LARGE', `events carry at most ${LIVE_LIMITS.eventBytes} bytes of JSON`);
      return;
    }
    next();
  };
}

/**
 * Binds one handler: validates the payload with the contract schema (the ack names the field), runs
 * it, and answers `{ ok: true, data }` or the AppError; anything else is logged and answered INTERNAL.
 * Nothing a client sends can throw out of here.
 */
export function bind<K extends LiveEventName>(
  ctx: LiveContext,
  event: K,
  handler: LiveHandler<K>,
  log: FastifyBaseLogger,
) {
  const schema = LIVE_REQUESTS[event];
  const listener = (...args: unknown[]) => {
    const ack = args.at(-1) as AckFn; // the guard let only events with an ack through
    try {
      if (args.length !== 2) {
        refuse(ack, 'VALIDATION_FAILED', 'payload: send one payload object and an ack callback');
        return;
      }
      const parsed = schema.safeParse(args[0]);
      if (!parsed.success) {
        const fields = fieldErrorsFromIssues(parsed.error.issues, '');
        refuse(
          ack,
          'VALIDATION_FAILED',
          fields.map((f) => `${f.path || 'payload'}: ${f.message}`).join('; ') || 'payload: invalid',
        );
        return;
      }
      handler(ctx, parsed.data as LiveRequest<K>).then(
        (data) => ack({ ok: true, data }),
        (err: unknown) => answerError(ack, err, event, ctx, log),
      );
    } catch (err) {
      answerError(ack, err, event, ctx, log);
    }
  };
  (ctx.socket as unknown as { on(ev: string, fn: (...args: unknown[]) => void): void }).on(event, listener);
}

function answerError(ack: AckFn, err: unknown, event: string, ctx: LiveContext, log: FastifyBaseLogger) {
  try {
    if (err instanceof AppError) {
      log.debug({ event, code: err.code, user: ctx.actor.sub }, err.message);
      refuse(ack, err.code, err.message);
    } else {
      log.error({ err, event, user: ctx.actor.sub }, 'live event failed');
      refuse(ack, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
    }
  } catch (e) {
    log.error({ err: e, event }, 'live ack failed');
  }
}
