import {
  QA_LIMITS,
  QA_REQUESTS,
  type AccessClaims,
  type QaClientEvents,
  type QaEventName,
  type QaReplies,
  type QaRequest,
  type QaServerEvents,
} from '@sky/contracts';
import { socketEdge } from '@sky/contracts/socket';
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

/**
 * The /qa edge (socketEdge): `socket.use(guard(log))` on each connection refuses floods, unknown events,
 * events without an ack and payloads over 4 KB; `bind(ctx, event, handler, log)` serves one event.
 */
export const { guard, bind } = socketEdge<typeof QA_REQUESTS, QaReplies, QaContext>({
  requests: QA_REQUESTS,
  limits: QA_LIMITS,
  label: 'qa',
});
