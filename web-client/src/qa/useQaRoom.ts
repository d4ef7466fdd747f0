import type {
  Ack,
  ErrorCode,
  QaClientEvents,
  QaEvent,
  QaServerEvents,
  Question,
  QuestionFilter,
} from '@sky/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { freshAccessToken } from '../api/client';

type QaSocket = Socket<QaServerEvents, QaClientEvents>;

export interface QaError {
  code: ErrorCode | 'NETWORK';
  message: string;
}

export interface QaRoom {
  questions: Question[];
  /** The viewer may answer, pin and hide here. */
  staff: boolean;
  connected: boolean;
  error: QaError | null;
  clearError: () => void;
  /** `position`: seconds into the replay; `liveOffset`: seconds after the live lesson began (one of them). */
  ask: (
    text: string,
    opts: { anonymous: boolean; position?: number | undefined; liveOffset?: number | undefined },
  ) => Promise<boolean>;
  upvote: (id: string) => Promise<void>;
  answer: (id: string, text: string) => Promise<boolean>;
  pin: (id: string, pinned: boolean) => Promise<void>;
  hide: (id: string, hidden: boolean) => Promise<void>;
  onAir: (id: string, answeredOnAir: boolean) => Promise<void>;
}

function withVote(q: Question, votedByMe: boolean | undefined): Question {
  return votedByMe === undefined ? q : { ...q, votedByMe };
}

/** Applies one sequenced event to the list: only a newer copy replaces the one held. */
function applyEvent(list: Map<string, Question>, e: QaEvent): void {
  if (e.type === 'question:deleted') {
    list.delete(e.questionId);
    return;
  }
  const held = list.get(e.question.id);
  if (held && held.seq >= e.seq) return;
  // broadcasts leave votedByMe out: keep this viewer's own vote
  list.set(e.question.id, withVote({ ...e.question, seq: e.seq }, held?.votedByMe ?? e.question.votedByMe));
}

/**
 * One lesson's Q&A room over socket.io `/qa`: the question list kept in step by `seq`, re-joined
 * with `since` after a reconnect so nothing is missed or applied twice.
 */
export function useQaRoom(lessonId: string, filter: QuestionFilter = 'top'): QaRoom {
  const [questions, setQuestions] = useState<Question[]>([]);
  const [staff, setStaff] = useState(false);
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<QaError | null>(null);
  const socketRef = useRef<QaSocket | null>(null);
  // the room's questions by id, shared by the socket's events and the acks of this viewer's requests
  const listRef = useRef(new Map<string, Question>());

  useEffect(() => {
    const list = new Map<string, Question>();
    listRef.current = list;
    let lastSeq: number | null = null;
    // events that arrive before the join ack wait here
    let pending: QaEvent[] | null = null;
    const publish = () => setQuestions([...list.values()]);
    const apply = (e: QaEvent) => {
      if (pending) {
        pending.push(e);
        return;
      }
      applyEvent(list, e);
      if (lastSeq === null || e.seq > lastSeq) lastSeq = e.seq;
      publish();
    };

    const socket: QaSocket = io('/qa', {
      auth: (cb) => void freshAccessToken().then((token) => cb({ token: token ?? '' })),
      transports: ['websocket'],
    });
    socketRef.current = socket;

    const join = () => {
      pending = [];
      const since = lastSeq;
      socket.emit('room:join', { lessonId, filter, ...(since !== null ? { since } : {}) }, (res) => {
        const buffered = pending ?? [];
        pending = null;
        if (!res.ok) {
          setError(res.error);
          return;
        }
        const r = res.data;
        setStaff(r.staff);
        if (since === null || r.reset) {
          list.clear();
          for (const q of r.questions) list.set(q.id, q);
        }
        for (const e of r.events ?? []) applyEvent(list, e);
        lastSeq = Math.max(r.seq, lastSeq ?? 0);
        for (const e of buffered) if (e.seq > r.seq) applyEvent(list, e);
        for (const e of buffered) if (e.seq > (lastSeq ?? 0)) lastSeq = e.seq;
        publish();
      });
    };

    socket.on('connect', () => {
      setConnected(true);
      join();
    });
    socket.on('disconnect', () => setConnected(false));
    socket.on('connect_error', (err) => {
      const code = (err as { data?: { code?: ErrorCode } }).data?.code;
      setError({ code: code ?? 'NETWORK', message: err.message });
    });
    socket.on('question:new', (e) => apply({ ...e, type: 'question:new' }));
    socket.on('question:updated', (e) => apply({ ...e, type: 'question:updated' }));
    socket.on('question:deleted', (e) => apply({ ...e, type: 'question:deleted' }));

    return () => {
      socketRef.current = null;
      socket.disconnect();
    };
  }, [lessonId, filter]);

  /** Sends one request; a refusal becomes `error`, a success is merged into the list by its ack. */
  const request = useCallback(
    <K extends keyof QaClientEvents>(
      event: K,
      payload: Parameters<QaClientEvents[K]>[0],
    ): Promise<Extract<Parameters<Parameters<QaClientEvents[K]>[1]>[0], { ok: true }>['data'] | null> =>
      new Promise((resolve) => {
        const socket = socketRef.current;
        if (!socket?.connected) {
          setError({ code: 'NETWORK', message: 'not connected' });
          resolve(null);
          return;
        }
        const ack = (res: Ack<unknown>) => {
          if (res.ok) {
            setError(null);
            resolve(res.data as never);
          } else {
            setError(res.error);
            resolve(null);
          }
        };
        // socket.io's typed emit cannot follow a generic event name; the payload type is checked above
        (socket.emit as (e: string, p: unknown, a: (res: Ack<unknown>) => void) => void)(event, payload, ack);
      }),
    [],
  );

  /** A question returned in an ack is as new as what the room has sent so far, or newer. */
  const merge = useCallback((q: Question | null) => {
    if (!q) return;
    const list = listRef.current;
    const held = list.get(q.id);
    if (held && held.seq > q.seq) return;
    list.set(q.id, withVote(q, q.votedByMe ?? held?.votedByMe));
    setQuestions([...list.values()]);
  }, []);

  return {
    questions,
    staff,
    connected,
    error,
    clearError: () => setError(null),
    ask: async (text, { anonymous, position, liveOffset }) => {
      const q = await request('question:ask', {
        lessonId,
        text,
        anonymous,
        ...(position !== undefined
          ? { position: Math.max(0, Math.floor(position)) }
          : liveOffset !== undefined
            ? { liveOffset: Math.max(0, Math.floor(liveOffset)) }
            : {}),
      });
      merge(q);
      return q !== null;
    },
    upvote: async (id) => {
      const r = await request('question:upvote', { questionId: id });
      const held = r && listRef.current.get(id);
      if (held) merge({ ...held, votes: r.votes, votedByMe: r.votedByMe });
    },
    answer: async (id, text) => {
      const q = await request('question:answer', { questionId: id, text });
      merge(q);
      return q !== null;
    },
    pin: async (id, pinned) => merge(await request('question:pin', { questionId: id, pinned })),
    hide: async (id, hidden) => merge(await request('question:hide', { questionId: id, hidden })),
    onAir: async (id, answeredOnAir) =>
      merge(await request('question:answeredOnAir', { questionId: id, answeredOnAir })),
  };
}
