// The edge of every socket.io namespace (an event guard, handler binding, error acks), for the servers
// only: @sky/contracts/socket. Typed by structure, so contracts needs no socket.io.
import type { z } from 'zod';
import type { Ack, ErrorCode } from './errors.js';
import { AppError, fieldErrorsFromIssues } from './problem.js';

/** A namespace's client events: event name → the zod schema of its payload (QA_REQUESTS, LIVE_REQUESTS). */
export type SocketRequests = Record<string, z.ZodType>;

/** QA_LIMITS / LIVE_LIMITS: the flood limit per connection and the largest payload, in bytes of JSON. */
export interface SocketLimits {
  eventsPerSecond: number;
  eventBytes: number;
}

/** The logger calls used here (pino and fastify's logger have them). */
export interface SocketLog {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The member of a socket.io Socket used here (typed loosely: a typed Socket takes only its own event names). */
export interface SocketLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** What the edge needs of a connection's context: who is asking, and the socket to listen on. */
export interface SocketContext {
  actor: { sub: string };
  socket: SocketLike;
}

/** One client event: gets a validated payload, answers the ack's data or throws an AppError. */
export type SocketHandler<C, Req, Reply> = (ctx: C, req: Req) => Promise<Reply>;

/** A socket.use middleware: `packet` is [event, ...args]. */
export type SocketMiddleware = (packet: unknown[], next: (err?: Error) => void) => void;

/** A namespace as the edge sees it. */
export interface SocketNamespace<R extends SocketRequests> {
  requests: R;
  limits: SocketLimits;
  /** Names the namespace in log lines ('qa', 'live'). */
  label: string;
}

/** The edge of one namespace, generic over its requests table, its replies and its handlers' context. */
export interface SocketEdge<R extends SocketRequests, P extends { [K in keyof R]: unknown }, C> {
  /** The socket.use middleware of one connection (its own flood limit): `socket.use(guard(log))`. */
  guard: (log: SocketLog) => SocketMiddleware;
  /** Binds one event's handler on `ctx.socket`. */
  bind: <K extends keyof R & string>(
    ctx: C,
    event: K,
    handler: SocketHandler<C, z.output<R[K]>, P[K]>,
    log: SocketLog,
  ) => void;
}

/** The guard and handler binding of a namespace: `export const { guard, bind } = socketEdge<…>({ … })`. */
export function socketEdge<
  R extends SocketRequests,
  P extends { [K in keyof R]: unknown },
  C extends SocketContext,
>(ns: SocketNamespace<R>): SocketEdge<R, P, C> {
  return {
    guard: (log) => guardEvents(ns, log),
    bind: (ctx, event, handler, log) => bindEvent(ns, ctx, event, handler, log),
  };
}

type AckFn = (res: Ack<unknown>) => void;
type Listener = (...args: unknown[]) => void;

const refuse = (ack: AckFn, code: ErrorCode, message: string) => ack({ ok: false, error: { code, message } });

/**
 * Every incoming event passes here first (socket.use, which unlike onAny can stop an event): a flood
 * limit per connection, unknown event names, the ack callback every event needs, and the payload size
 * limit (socket.io's maxHttpBufferSize is one figure for the whole server). Refused events get an error
 * ack when they brought an ack callback and are dropped otherwise. One guard per connection.
 */
function guardEvents<R extends SocketRequests>(ns: SocketNamespace<R>, log: SocketLog): SocketMiddleware {
  const { requests, limits, label } = ns;
  const rate = limits.eventsPerSecond;
  let tokens: number = rate;
  let refilled = Date.now();
  return (packet, next) => {
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
    if (typeof event !== 'string' || !Object.hasOwn(requests, event)) {
      if (ack)
        refuse(ack, 'VALIDATION_FAILED', `unknown event ${JSON.stringify(String(event)).slice(0, 80)}`);
      return;
    }
    if (!ack) {
      log.debug({ event }, `${label} event without an ack dropped`);
      return;
    }
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(args.slice(0, -1)));
    } catch {
      bytes = Infinity;
    }
    if (bytes > limits.eventBytes) {
      refuse(ack, 'PAYLOAD_TOO_LARGE', `events carry at most ${limits.eventBytes} bytes of JSON`);
      return;
    }
    next();
  };
}

/**
 * Binds one handler on `ctx.socket`: validates the payload with the contract schema (the ack names the
 * field), runs it, and answers `{ ok: true, data }` or the AppError; anything else is logged and answered
 * INTERNAL. Nothing a client sends can throw out of here. Expects the guard in front (every event has
 * an ack).
 */
function bindEvent<R extends SocketRequests, C extends SocketContext, K extends keyof R & string>(
  ns: SocketNamespace<R>,
  ctx: C,
  event: K,
  handler: SocketHandler<C, z.output<R[K]>, unknown>,
  log: SocketLog,
): void {
  const { requests, label } = ns;
  const schema = requests[event] as R[K];
  const listener: Listener = (...args) => {
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
      handler(ctx, parsed.data).then(
        (data) => ack({ ok: true, data }),
        (err: unknown) => answerError(ack, err, event, ctx.actor.sub, label, log),
      );
    } catch (err) {
      answerError(ack, err, event, ctx.actor.sub, label, log);
    }
  };
  ctx.socket.on(event, listener);
}

/** An AppError becomes its error ack; anything else is logged and answered INTERNAL. */
function answerError(
  ack: AckFn,
  err: unknown,
  event: string,
  user: string,
  label: string,
  log: SocketLog,
): void {
  try {
    if (err instanceof AppError) {
      log.debug({ event, code: err.code, user }, err.message);
      refuse(ack, err.code, err.message);
    } else {
      log.error({ err, event, user }, `${label} event failed`);
      refuse(ack, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
    }
  } catch (e) {
    log.error({ err: e, event }, `${label} ack failed`);
  }
}
