import {
  AppError,
  QA_LIMITS,
  QA_REQUESTS,
  fieldErrorsFromIssues,
  type AccessClaims,
  type Ack,
  type ErrorCode,
  type QaClientEvents,
  type QaEventName,
  type QaReplies,
  type QaRequest,
  type QaServerEvents,
} from '@sky/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { Socket } from 'socket.io';
import type { QaService } from '../../services/qa.service.js';

export type QaSocket = Socket<QaClientEvents, QaServerEvents>;

/** What a handler works with: who is asking (from the verified token only), the service, the socket. */
export interface QaContext {
  actor: AccessClaims;
  qa: QaService;
  socket: QaSocket;
}

/** One client event: gets a validated payload, answers the ack's data or throws an AppError. */
export type QaHandler<K extends QaEventName> = (ctx: QaContext, req: QaRequest<K>) => Promise<QaReplies[K]>;

type AckFn = (res: Ack<unknown>) => void;

const refuse = (ack: AckFn, code: ErrorCode, message: string) => ack({ ok: false, error: { code, message } });

const isEventName = (name: unknown): name is QaEventName =>
  typeof name === 'string' && Object.hasOwn(QA_REQUESTS, name);

/**
 * Every incoming event passes here first (socket.use, which unlike onAny can stop an event): a flood
 * limit per connection, unknown event names, the ack callback every event needs, and the 4 KB payload
 * limit (socket.io's maxHttpBufferSize is one figure for the whole server). Refused events get an error
 * ack when they brought an ack callback and are dropped otherwise.
 */
export function guard(log: FastifyBaseLogger) {
  const rate = QA_LIMITS.eventsPerSecond;
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
      log.debug({ event }, 'qa event without an ack dropped');
      return;
    }
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(args.slice(0, -1)));
    } catch {
      bytes = Infinity;
    }
    if (bytes > QA_LIMITS.eventBytes) {
      refuse(ack, 'PAYLOAD_TOO_LARGE', `events carry at most ${QA_LIMITS.eventBytes} bytes of JSON`);
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
export function bind<K extends QaEventName>(
  ctx: QaContext,
  event: K,
  handler: QaHandler<K>,
  log: FastifyBaseLogger,
) {
  const schema = QA_REQUESTS[event];
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
      handler(ctx, parsed.data as QaRequest<K>).then(
        (data) => ack({ ok: true, data }),
        (err: unknown) => answerError(ack, err, event, ctx, log),
      );
    } catch (err) {
      answerError(ack, err, event, ctx, log);
    }
  };
  (ctx.socket as unknown as { on(ev: string, fn: (...args: unknown[]) => void): void }).on(event, listener);
}

function answerError(ack: AckFn, err: unknown, event: string, ctx: QaContext, log: FastifyBaseLogger) {
  try {
    if (err instanceof AppError) {
      log.debug({ event, code: err.code, user: ctx.actor.sub }, err.message);
      refuse(ack, err.code, err.message);
    } else {
      log.error({ err, event, user: ctx.actor.sub }, 'qa event failed');
      refuse(ack, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
    }
  } catch (e) {
    log.error({ err: e, event }, 'qa ack failed');
  }
}
