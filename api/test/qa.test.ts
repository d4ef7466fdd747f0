import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Ack,
  FaqPage,
  InboxPage,
  Lesson,
  Pairing,
  PairingClaim,
  QaAuditList,
  QaClientEvents,
  QaEventName,
  QaReplies,
  QaServerEvents,
  QaStats,
  Question,
  QuestionPage,
  Role,
} from '@sky/contracts';
import { redisTarget } from '@sky/contracts';
import { createJobQueues, type JobQueues } from '@sky/contracts/queue';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { logOptions } from '@sky/contracts/http';
import { testLogger, useInfra } from '@sky/devkit';
import type { Connection } from 'mongoose';
import { io as ioClient, type Socket } from 'socket.io-client';
import { connectMongo } from '@sky/contracts/mongo';
import { createMediaProbe } from '../src/adapters/media-probe.js';
import { passwords } from '../src/adapters/password.js';
import { createApp, type ApiApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

type Client = Socket<QaServerEvents, QaClientEvents>;
type Person = 'teacher' | 'teacher2' | 'admin' | 's1' | 's2' | 's3' | 's4' | 's5' | 'family';
const PEOPLE: Record<Person, { role: Role; name: string }> = {
  teacher: { role: 'teacher', name: '王老师' },
  teacher2: { role: 'teacher', name: '李老师' },
  admin: { role: 'admin', name: 'admin' },
  s1: { role: 'student', name: '小明' },
  s2: { role: 'student', name: '小红' },
  s3: { role: 'student', name: '小刚' },
  s4: { role: 'student', name: '小丽' },
  s5: { role: 'student', name: '小强' },
  family: { role: 'family', name: '小明家' },
};
const SECRET = 'test-secret-that-is-at-least-32-characters';

/** Two api instances (two createApp) on one database and one Redis prefix, both listening on port 0. */
interface Cluster {
  apps: ApiApp[];
  urls: string[];
  ids: Record<Person, string>;
  tokens: Record<Person, string>;
  close(): Promise<void>;
}

async function startCluster(instances: number): Promise<Cluster> {
  const infra = await useInfra();
  const mediaDir = mkdtempSync(join(tmpdir(), 'sky-media-'));
  const config = loadConfig({
    MONGODB_URI: infra.mongoUri,
    REDIS_URL: infra.redisUrl,
    QUEUE_PREFIX: infra.prefix,
    JWT_SECRET: SECRET,
    MEDIA_DIR: mediaDir,
    LOG_LEVEL: 'silent',
    QA_PAIRING_TTL_SEC: '2',
  });
  const started: { app: ApiApp; mongo: Connection; queues: JobQueues }[] = [];
  for (let i = 0; i < instances; i++) {
    const mongo = await connectMongo(config.MONGODB_URI);
    const queues = createJobQueues(redisTarget(config, 'queue'), config.QUEUE_PREFIX);
    const app = await createApp({
      config,
      logger: testLogger('api', logOptions('api', 'info')),
      mongo,
      queues,
      passwords,
      probe: createMediaProbe({ ffprobe: 'ffprobe', ffmpeg: 'ffmpeg' }),
      version: 'test',
    });
    await app.http.listen({ host: '127.0.0.1', port: 0 });
    started.push({ app, mongo, queues });
  }
  const first = started[0]!.app;
  const tokens = createTokenIssuer(SECRET, 3600);
  const ids = {} as Record<Person, string>;
  const signed = {} as Record<Person, string>;
  for (const [who, p] of Object.entries(PEOPLE) as [Person, { role: Role; name: string }][]) {
    const user = await first.services.users.create({
      username: `${who}.${infra.prefix}`,
      password: 'correct horse battery',
      displayName: p.name,
      role: p.role,
      ...(p.role === 'student' ? { grade: 'p3' as const } : {}),
    });
    ids[who] = user.id;
    signed[who] = tokens.sign({ sub: user.id, role: p.role });
  }
  return {
    apps: started.map((s) => s.app),
    urls: started.map((s) => `http://127.0.0.1:${(s.app.http.server.address() as { port: number }).port}`),
    ids,
    tokens: signed,
    async close() {
      for (const s of started) await s.app.close();
      for (const s of started) await s.queues.close();
      await started[0]!.mongo.dropDatabase();
      for (const s of started) await s.mongo.close();
      await infra.close();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

let c: Cluster;
const sockets: Client[] = [];
before(async () => {
  c = await startCluster(2);
});
after(async () => {
  for (const s of sockets) s.disconnect();
  await c.close();
});

const as = (who: Person) => ({ authorization: `Bearer ${c.tokens[who]}` });

async function newLesson(
  owner: 'teacher' | 'teacher2' = 'teacher',
  title = '分数的初步认识',
): Promise<string> {
  const res = await c.apps[0]!.http.inject({
    method: 'POST',
    url: '/api/lessons',
    headers: as(owner),
    payload: { title, grade: 'p3', subject: '数学' },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json<Lesson>().id;
  // published: a draft's room is only its teacher's and admins' (qa-drafts.test.ts)
  await c.apps[0]!.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: id,
    master: `lessons/${id}/v1/master.m3u8`,
    tvMaster: `lessons/${id}/v1/tv.m3u8`,
    durationSec: 600,
  });
  return id;
}

/** Every event a client received, in order. */
interface Conn {
  s: Client;
  got: { event: keyof QaServerEvents; payload: { seq?: number; question?: Question; questionId?: string } }[];
}

function connect(who: Person, instance = 0, auth: Record<string, unknown> = {}): Promise<Conn> {
  const s: Client = ioClient(`${c.urls[instance]}/qa`, {
    transports: ['websocket'],
    auth: { token: c.tokens[who], ...auth },
    reconnection: false,
    forceNew: true,
  });
  sockets.push(s);
  const conn: Conn = { s, got: [] };
  s.onAny((event: keyof QaServerEvents, payload: Conn['got'][number]['payload']) => {
    conn.got.push({ event, payload });
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(conn));
    s.once('connect_error', reject);
  });
}

function call<K extends QaEventName>(
  conn: Conn,
  event: K,
  payload: Parameters<QaClientEvents[K]>[0],
): Promise<Ack<QaReplies[K]>> {
  const timed = conn.s.timeout(5000) as unknown as {
    emitWithAck(e: string, p: unknown): Promise<Ack<QaReplies[K]>>;
  };
  return timed.emitWithAck(event, payload);
}

/** Emits anything at all, as a misbehaving client would. */
function raw(conn: Conn, event: string, ...args: unknown[]): Promise<Ack<unknown>> {
  return (
    conn.s.timeout(5000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<Ack<unknown>> }
  ).emitWithAck(event, ...args);
}

function ok<T>(res: Ack<T>): T {
  if (!res.ok) assert.fail(`expected ok, got ${res.error.code}: ${res.error.message}`);
  return res.data;
}

function refused<T>(res: Ack<T>, code: string, mentions?: string) {
  assert.equal(res.ok, false, `expected ${code}, got ok`);
  if (res.ok) return;
  assert.equal(res.error.code, code, res.error.message);
  if (mentions) assert.match(res.error.message, new RegExp(mentions));
}

/** Waits until the client has received an event matching `pred`. */
async function waitFor(
  conn: Conn,
  event: keyof QaServerEvents,
  pred: (p: Conn['got'][number]['payload']) => boolean = () => true,
  ms = 3000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = conn.got.find((g) => g.event === event && pred(g.payload));
    if (hit) return hit.payload;
    if (Date.now() > deadline) assert.fail(`no ${event} within ${ms} ms; got ${JSON.stringify(conn.got)}`);
    await sleep(10);
  }
}

async function joined(who: Person, lessonId: string, instance = 0) {
  const conn = await connect(who, instance);
  const reply = ok(await call(conn, 'room:join', { lessonId }));
  return { conn, reply };
}

describe('a room, live', () => {
  test('ask, upvote (toggle) and answer reach both students and the teacher, in sequence order', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const a = await joined('s1', lessonId);
    const b = await joined('s2', lessonId);
    assert.equal(t.reply.staff, true);
    assert.equal(a.reply.staff, false);

    const asked = ok(
      await call(a.conn, 'question:ask', { lessonId, text: '  为什么 1/2 比 1/3 大？ ', position: 42 }),
    );
    assert.equal(asked.text, '为什么 1/2 比 1/3 大？');
    assert.equal(asked.author, '小明');
    assert.equal(asked.position, 42);
    for (const who of [t, a, b]) {
      const e = await waitFor(who.conn, 'question:new', (p) => p.question?.id === asked.id);
      assert.equal(e.seq, asked.seq);
      assert.equal(e.question?.votedByMe, undefined, 'broadcasts carry no per-viewer votedByMe');
    }
    const peerView = (await waitFor(b.conn, 'question:new')).question!;
    assert.equal(peerView.author, '小明');
    assert.equal(peerView.authorId, undefined, 'peers never get author ids');
    assert.equal((await waitFor(t.conn, 'question:new')).question?.authorId, c.ids.s1);

    const up = ok(await call(b.conn, 'question:upvote', { questionId: asked.id }));
    assert.deepEqual(up, { questionId: asked.id, votes: 1, votedByMe: true });
    const down = ok(await call(b.conn, 'question:upvote', { questionId: asked.id }));
    assert.deepEqual(down, { questionId: asked.id, votes: 0, votedByMe: false });
    ok(await call(b.conn, 'question:upvote', { questionId: asked.id }));

    const answered = ok(
      await call(t.conn, 'question:answer', { questionId: asked.id, text: '分得的份数越少，每份越大。' }),
    );
    assert.equal(answered.answer?.by, '王老师');
    for (const who of [t, a, b]) {
      const e = await waitFor(who.conn, 'question:updated', (p) => p.question?.answer !== undefined);
      assert.equal(e.question?.answer?.text, '分得的份数越少，每份越大。');
      assert.equal(e.question?.votes, 1);
      const votes = who.conn.got
        .filter((g) => g.event === 'question:updated')
        .map((g) => g.payload.question?.votes);
      assert.deepEqual(votes, [1, 0, 1, 1], 'every change, in order');
      const seqs = who.conn.got.map((g) => g.payload.seq!);
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
      );
      assert.equal(new Set(seqs).size, seqs.length);
    }
    const page = ok(await call(b.conn, 'room:join', { lessonId }));
    assert.equal(page.questions[0]?.votedByMe, true, 'a page says what this viewer voted for');

    // Answering in place from the inbox (HTTP) reaches the room the same way.
    const res = await c.apps[0]!.http.inject({
      method: 'POST',
      url: `/api/qa/questions/${asked.id}/answer`,
      headers: as('teacher'),
      payload: { text: '画图看一看。' },
    });
    assert.equal(res.statusCode, 200, res.body);
    await waitFor(b.conn, 'question:updated', (p) => p.question?.answer?.text === '画图看一看。');
  });

  test('anonymous questions hide the author from peers, not from the teacher nor the author', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const a = await joined('s1', lessonId);
    const b = await joined('s2', lessonId);
    const asked = ok(await call(a.conn, 'question:ask', { lessonId, text: '我不太懂通分', anonymous: true }));
    assert.equal(asked.author, '小明', 'the author sees their own name');
    assert.equal(asked.authorId, c.ids.s1);
    const peer = (await waitFor(b.conn, 'question:new')).question!;
    assert.equal(peer.author, null);
    assert.equal(peer.authorId, undefined);
    assert.equal(peer.anonymous, true);
    assert.ok(!JSON.stringify(b.conn.got).includes(c.ids.s1), 'no trace of the author for peers');
    const staff = (await waitFor(t.conn, 'question:new')).question!;
    assert.equal(staff.author, '小明');
    assert.equal(staff.authorId, c.ids.s1);
    const own = (await waitFor(a.conn, 'question:new')).question!;
    assert.equal(own.author, '小明');

    // Pages and HTTP agree.
    const page = ok(await call(b.conn, 'room:join', { lessonId }));
    assert.equal(page.questions[0]?.author, null);
    const http = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/questions`,
      headers: as('s2'),
    });
    assert.equal(http.json<QuestionPage>().questions[0]?.author, null);
    const forTeacher = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/questions`,
      headers: as('teacher'),
    });
    assert.equal(forTeacher.json<QuestionPage>().questions[0]?.author, '小明');
  });

  test('an XSS payload round-trips as the same plain text; text is cleaned, not escaped', async () => {
    const lessonId = await newLesson();
    const a = await joined('s1', lessonId);
    const b = await joined('s2', lessonId);
    const xss = '<img src=x onerror=alert(1)>';
    const asked = ok(await call(a.conn, 'question:ask', { lessonId, text: xss }));
    assert.equal(asked.text, xss);
    assert.equal((await waitFor(b.conn, 'question:new')).question?.text, xss);
    const http = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/questions`,
      headers: as('s2'),
    });
    assert.match(String(http.headers['content-type']), /^application\/json/);
    assert.equal(http.json<QuestionPage>().questions[0]?.text, xss);

    // NFC, control characters and direction overrides removed, spaces collapsed.
    const s3 = await joined('s3', lessonId);
    const messy = ok(
      await call(s3.conn, 'question:ask', {
        lessonId,
        text: 'cafe\u0301\u0000  \u202Egnp.exe\u202C\r\n\r\n\r\n\tok',
      }),
    );
    assert.equal(messy.text, 'café gnp.exe\n\nok');
    const blank = await call(s3.conn, 'question:ask', { lessonId, text: ' \u200B\u0007 ' });
    refused(blank, 'VALIDATION_FAILED', 'text');
  });

  test('oversized text and payloads over 4 KB get error acks naming the field or the limit', async () => {
    const lessonId = await newLesson();
    const a = await joined('s1', lessonId);
    refused(
      await call(a.conn, 'question:ask', { lessonId, text: 'x'.repeat(501) }),
      'VALIDATION_FAILED',
      '^text:',
    );
    refused(
      await raw(a.conn, 'question:ask', { lessonId, text: 'ok', padding: 'y'.repeat(5000) }),
      'PAYLOAD_TOO_LARGE',
      '4096',
    );
    ok(await call(a.conn, 'question:ask', { lessonId, text: '字'.repeat(500) }));
    assert.ok(a.conn.s.connected);
  });

  test('unknown events and malformed payloads get error acks; the socket stays connected', async () => {
    const lessonId = await newLesson();
    const a = await joined('s1', lessonId);
    refused(await raw(a.conn, 'question:explode', { lessonId }), 'VALIDATION_FAILED', 'unknown event');
    refused(await raw(a.conn, 'question:ask', 'hello'), 'VALIDATION_FAILED', 'payload');
    refused(await raw(a.conn, 'question:ask', 42), 'VALIDATION_FAILED');
    refused(await raw(a.conn, 'question:ask', null), 'VALIDATION_FAILED');
    refused(await raw(a.conn, 'question:ask', [lessonId, 'text']), 'VALIDATION_FAILED');
    refused(
      await raw(a.conn, 'question:ask', { lessonId: 5, text: ['x'] }),
      'VALIDATION_FAILED',
      'lessonId.*text',
    );
    refused(
      await raw(a.conn, 'question:ask', { lessonId, text: 'hi', anonymous: 'yes' }),
      'VALIDATION_FAILED',
      'anonymous',
    );
    refused(
      await raw(a.conn, 'question:upvote', { questionId: { $gt: '' } }),
      'VALIDATION_FAILED',
      'questionId',
    );
    refused(await raw(a.conn, 'room:join', { lessonId, since: -1 }), 'VALIDATION_FAILED', 'since');
    refused(
      await raw(a.conn, 'room:join', { lessonId, cursor: 'not-a-cursor' }),
      'VALIDATION_FAILED',
      'cursor',
    );
    refused(await raw(a.conn, 'question:ask', { lessonId, text: 'a' }, 'extra'), 'VALIDATION_FAILED');
    refused(await raw(a.conn, 'room:join', { lessonId: 'ffffffffffffffffffffffff' }), 'NOT_FOUND');
    // No ack: dropped without a word, the connection untouched.
    (a.conn.s as unknown as { emit(e: string, p: unknown): void }).emit('question:ask', {
      lessonId,
      text: 'no ack',
    });
    (a.conn.s as unknown as { emit(e: string): void }).emit('whatever');
    await sleep(100);
    assert.ok(a.conn.s.connected);
    ok(await call(a.conn, 'question:ask', { lessonId, text: 'still here' }));
    assert.ok(a.conn.s.connected);
  });

  test('students cannot answer, hide, pin or mute, whatever role they claim; nor can another teacher', async () => {
    const lessonId = await newLesson();
    const a = await joined('s1', lessonId);
    const q = ok(await call(a.conn, 'question:ask', { lessonId, text: '老师在吗' }));
    const forged = await connect('s2', 0, { role: 'teacher' });
    const attempts = [
      ['question:answer', { questionId: q.id, text: '我来回答', role: 'teacher' }],
      ['question:hide', { questionId: q.id, hidden: true, role: 'admin' }],
      ['question:pin', { questionId: q.id, pinned: true, role: 'admin' }],
      ['question:answeredOnAir', { questionId: q.id, role: 'teacher' }],
      ['user:mute', { lessonId, userId: c.ids.s1, minutes: 10, role: 'admin', sub: c.ids.admin }],
    ] as const;
    for (const [event, payload] of attempts) {
      refused(await raw(forged, event, payload), 'FORBIDDEN');
    }
    const other = await connect('teacher2');
    refused(await call(other, 'question:answer', { questionId: q.id, text: '不是我的课' }), 'FORBIDDEN');
    const join = ok(await call(forged, 'room:join', { lessonId }));
    assert.equal(join.staff, false);
    assert.equal(join.questions[0]?.answer, undefined);
  });

  test('a bad token is refused at connect with a code', async () => {
    const s: Client = ioClient(`${c.urls[0]}/qa`, {
      transports: ['websocket'],
      auth: { token: 'nope' },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(s);
    const err = await new Promise<Error & { data?: { code?: string } }>((resolve) =>
      s.once('connect_error', resolve),
    );
    assert.equal(err.data?.code, 'UNAUTHENTICATED');
  });

  test('rate limits: one question per 10 s in a room, 30 votes a minute, 20 events a second', async () => {
    const lessonId = await newLesson();
    const d = await joined('s5', lessonId);
    const first = ok(await call(d.conn, 'question:ask', { lessonId, text: '第一个问题' }));
    refused(await call(d.conn, 'question:ask', { lessonId, text: '第二个问题' }), 'RATE_LIMITED', '10 s');
    // Another room is another slot.
    const other = await newLesson();
    ok(await call(d.conn, 'question:ask', { lessonId: other, text: '另一节课的问题' }));

    const votes: Ack<unknown>[] = [];
    for (let i = 0; i < 31; i++) {
      votes.push(await call(d.conn, 'question:upvote', { questionId: first.id }));
      if (i % 15 === 14) await sleep(1100); // stay under the per-connection flood limit
    }
    assert.equal(votes.slice(0, 30).filter((v) => v.ok).length, 30);
    refused(votes[30]!, 'RATE_LIMITED', 'votes');

    const flood = await connect('s5');
    const acks = await Promise.all(
      Array.from({ length: 60 }, () => raw(flood, 'room:join', { lessonId, limit: 1 })),
    );
    const limited = acks.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED').length;
    assert.ok(limited >= 30, `${limited} of 60 refused`);
    assert.ok(acks.filter((r) => r.ok).length >= 20);
    assert.ok(flood.s.connected);
  });

  test('authors edit and delete their own questions until answered', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const a = await joined('s1', lessonId);
    const b = await joined('s2', lessonId);
    const q = ok(await call(a.conn, 'question:ask', { lessonId, text: '错别字的问提' }));
    const edited = ok(await call(a.conn, 'question:edit', { questionId: q.id, text: '错别字的问题' }));
    assert.equal(edited.text, '错别字的问题');
    assert.ok(edited.editedAt);
    const seen = await waitFor(b.conn, 'question:updated', (p) => p.question?.text === '错别字的问题');
    assert.ok(seen.seq! > q.seq);
    refused(await call(b.conn, 'question:edit', { questionId: q.id, text: '改别人的' }), 'FORBIDDEN');
    refused(await call(b.conn, 'question:delete', { questionId: q.id }), 'FORBIDDEN');
    refused(await call(t.conn, 'question:edit', { questionId: q.id, text: '老师也不能改' }), 'FORBIDDEN');

    ok(await call(t.conn, 'question:answeredOnAir', { questionId: q.id }));
    refused(await call(a.conn, 'question:edit', { questionId: q.id, text: '答完再改' }), 'CONFLICT');
    refused(await call(a.conn, 'question:delete', { questionId: q.id }), 'CONFLICT');

    const b2 = ok(await call(b.conn, 'question:ask', { lessonId, text: '我想撤回这个问题' }));
    assert.deepEqual(ok(await call(b.conn, 'question:delete', { questionId: b2.id })), { questionId: b2.id });
    for (const who of [t, a, b]) await waitFor(who.conn, 'question:deleted', (p) => p.questionId === b2.id);
    refused(await call(b.conn, 'question:delete', { questionId: b2.id }), 'NOT_FOUND');
    refused(await call(a.conn, 'question:upvote', { questionId: b2.id }), 'NOT_FOUND');
    const page = ok(await call(a.conn, 'room:join', { lessonId }));
    assert.deepEqual(
      page.questions.map((x) => x.id),
      [q.id],
    );
  });

  test('hiding is seen by staff and the author only, is audited, and can be undone', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const a = await joined('s1', lessonId);
    const b = await joined('s2', lessonId);
    const q = ok(await call(a.conn, 'question:ask', { lessonId, text: '广告：加我微信' }));
    await waitFor(b.conn, 'question:new');
    const hidden = ok(
      await call(t.conn, 'question:hide', { questionId: q.id, hidden: true, reason: 'spam' }),
    );
    assert.equal(hidden.hidden, true);
    assert.equal(hidden.hiddenReason, 'spam');
    await waitFor(b.conn, 'question:deleted', (p) => p.questionId === q.id);
    const own = await waitFor(a.conn, 'question:updated', (p) => p.question?.hidden === true);
    assert.equal(own.question?.hiddenReason, undefined, 'the reason is for staff');
    await waitFor(t.conn, 'question:updated', (p) => p.question?.hiddenReason === 'spam');
    assert.deepEqual(ok(await call(b.conn, 'room:join', { lessonId })).questions, []);
    assert.equal(ok(await call(a.conn, 'room:join', { lessonId })).questions[0]?.hidden, true);
    refused(await call(b.conn, 'question:upvote', { questionId: q.id }), 'NOT_FOUND');
    // Hiding twice changes (and audits) nothing.
    ok(await call(t.conn, 'question:hide', { questionId: q.id, hidden: true }));

    ok(await call(t.conn, 'question:hide', { questionId: q.id, hidden: false }));
    const back = await waitFor(b.conn, 'question:new', (p) => p.question?.id === q.id && p.seq! > q.seq);
    assert.equal(back.question?.hidden, false);

    const audit = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/qa/audit`,
      headers: as('teacher'),
    });
    assert.deepEqual(
      audit.json<QaAuditList>().items.map((e) => [e.action, e.questionId, e.reason, e.actorId]),
      [
        ['unhide', q.id, undefined, c.ids.teacher],
        ['hide', q.id, 'spam', c.ids.teacher],
      ],
    );
    const forStudent = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/qa/audit`,
      headers: as('s1'),
    });
    assert.equal(forStudent.statusCode, 403);
  });

  test('a muted user cannot ask until the mute ends or is lifted; audited; staff cannot be muted', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const a = await joined('s3', lessonId);
    const muted = ok(await call(t.conn, 'user:mute', { lessonId, userId: c.ids.s3, minutes: 5 }));
    assert.ok(muted.until && Math.abs(Date.parse(muted.until) - Date.now() - 5 * 60_000) < 10_000);
    const notice = (await waitFor(a.conn, 'user:muted')) as unknown as { until: string };
    assert.equal(notice.until, muted.until);
    refused(await call(a.conn, 'question:ask', { lessonId, text: '被禁言了吗' }), 'FORBIDDEN', 'muted');
    assert.equal(ok(await call(a.conn, 'room:join', { lessonId })).mutedUntil, muted.until);
    // Another room is not affected.
    const other = await newLesson();
    ok(await call(a.conn, 'question:ask', { lessonId: other, text: '这里可以问' }));

    refused(await call(t.conn, 'user:mute', { lessonId, userId: c.ids.admin, minutes: 5 }), 'FORBIDDEN');
    refused(
      await call(t.conn, 'user:mute', { lessonId, userId: 'ffffffffffffffffffffffff', minutes: 5 }),
      'NOT_FOUND',
    );
    ok(await call(t.conn, 'user:mute', { lessonId, userId: c.ids.s3, minutes: 0 }));
    ok(await call(a.conn, 'question:ask', { lessonId, text: '解除了' }));
    const audit = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/qa/audit`,
      headers: as('admin'),
    });
    assert.deepEqual(
      audit.json<QaAuditList>().items.map((e) => [e.action, e.userId, e.minutes]),
      [
        ['unmute', c.ids.s3, undefined],
        ['mute', c.ids.s3, 5],
      ],
    );
  });
});

describe('history and resuming', () => {
  test('pages: top (pinned, then votes), new, unanswered, with cursors', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const askers: Person[] = ['s1', 's2', 's3', 's4'];
    const qs: Question[] = [];
    for (const who of askers) {
      const conn = await connect(who);
      qs.push(ok(await call(conn, 'question:ask', { lessonId, text: `问题 ${who}` })));
    }
    const [q1, q2, q3, q4] = qs as [Question, Question, Question, Question];
    const voter = await connect('family');
    ok(await call(voter, 'question:upvote', { questionId: q3.id }));
    ok(await call(voter, 'question:upvote', { questionId: q2.id }));
    ok(await call(t.conn, 'question:upvote', { questionId: q3.id }));
    ok(await call(t.conn, 'question:pin', { questionId: q4.id, pinned: true }));
    ok(await call(t.conn, 'question:answer', { questionId: q2.id, text: '答' }));

    const all = async (filter: 'top' | 'new' | 'unanswered') => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = ok(
          await call(t.conn, 'room:join', { lessonId, filter, limit: 1, ...(cursor ? { cursor } : {}) }),
        );
        ids.push(...page.questions.map((q) => q.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    assert.deepEqual(await all('top'), [q4.id, q3.id, q2.id, q1.id]);
    assert.deepEqual(await all('new'), [q4.id, q3.id, q2.id, q1.id]);
    assert.deepEqual(await all('unanswered'), [q4.id, q3.id, q1.id]);
    const http = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/questions?filter=new&limit=2`,
      headers: as('s1'),
    });
    const page = http.json<QuestionPage>();
    assert.deepEqual(
      page.questions.map((q) => q.id),
      [q4.id, q3.id],
    );
    assert.ok(page.nextCursor);
    assert.ok(page.seq >= 9);
    const bad = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/questions?limit=1000`,
      headers: as('s1'),
    });
    assert.equal(bad.statusCode, 400);
  });

  test('reconnecting with since gets exactly the missed changes, in order', async () => {
    const lessonId = await newLesson();
    const t = await joined('teacher', lessonId);
    const a = await joined('s1', lessonId);
    const b = await joined('s2', lessonId);
    const early = ok(await call(a.conn, 'question:ask', { lessonId, text: '断线前的问题' }));
    await waitFor(b.conn, 'question:new');
    const lastSeq = Math.max(...b.conn.got.map((g) => g.payload.seq!));
    b.conn.s.disconnect();

    // While b is away: a question, a vote, an answer, an edit, a hidden question and a deletion.
    const s3 = await connect('s3');
    const q2 = ok(await call(s3, 'question:ask', { lessonId, text: '断线后的问题' }));
    ok(await call(a.conn, 'question:upvote', { questionId: q2.id }));
    ok(await call(t.conn, 'question:answer', { questionId: early.id, text: '答案' }));
    const s4 = await connect('s4');
    const spam = ok(await call(s4, 'question:ask', { lessonId, text: '垃圾' }));
    ok(await call(t.conn, 'question:hide', { questionId: spam.id, hidden: true }));
    ok(await call(s3, 'question:edit', { questionId: q2.id, text: '断线后的问题（改）' }));
    const gone = await connect('family');
    const g = ok(await call(gone, 'question:ask', { lessonId, text: '马上删' }));
    ok(await call(gone, 'question:delete', { questionId: g.id }));
    await waitFor(t.conn, 'question:deleted', (p) => p.questionId === g.id);
    const live = Math.max(...t.conn.got.map((x) => x.payload.seq ?? 0));

    const back = await connect('s2');
    const resumed = ok(await call(back, 'room:join', { lessonId, since: lastSeq }));
    assert.equal(resumed.reset, undefined);
    assert.deepEqual(resumed.questions, []);
    const events = resumed.events!;
    assert.deepEqual(
      events.map((e) => [e.type, 'question' in e ? e.question.text : e.questionId]),
      [
        ['question:new', '断线后的问题'],
        ['question:updated', '断线后的问题'],
        ['question:updated', '断线前的问题'],
        ['question:new', '垃圾'],
        ['question:deleted', spam.id],
        ['question:updated', '断线后的问题（改）'],
        ['question:new', '马上删'],
        ['question:deleted', g.id],
      ],
    );
    const seqs = events.map((e) => e.seq);
    assert.ok(seqs[0]! > lastSeq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    assert.equal(resumed.seq, Math.max(live, ...seqs));
    // What the teacher saw live after lastSeq is the same sequence.
    assert.deepEqual(
      t.conn.got.filter((x) => x.payload.seq! > lastSeq).map((x) => x.payload.seq),
      seqs,
    );
    // Up to date: nothing more. From the future (Redis lost the room) or too far back: a fresh page.
    assert.deepEqual(ok(await call(back, 'room:join', { lessonId, since: resumed.seq })).events, []);
    const future = ok(await call(back, 'room:join', { lessonId, since: resumed.seq + 100 }));
    assert.equal(future.reset, true);
    assert.equal(future.questions.length, 2);
  });
});

describe('two api processes', () => {
  test('a question asked on one instance reaches clients of the other, and back', async () => {
    const lessonId = await newLesson();
    const onA = await joined('s1', lessonId, 0);
    const onB = await joined('s2', lessonId, 1);
    const teacherOnB = await joined('teacher', lessonId, 1);
    const q = ok(await call(onA.conn, 'question:ask', { lessonId, text: '跨进程的问题', anonymous: true }));
    const seen = await waitFor(onB.conn, 'question:new', (p) => p.question?.id === q.id);
    assert.equal(seen.question?.author, null);
    assert.equal((await waitFor(teacherOnB.conn, 'question:new')).question?.author, '小明');
    const res = await c.apps[1]!.http.inject({
      method: 'POST',
      url: `/api/qa/questions/${q.id}/answer`,
      headers: as('teacher'),
      payload: { text: '从另一个进程回答' },
    });
    assert.equal(res.statusCode, 200);
    await waitFor(onA.conn, 'question:updated', (p) => p.question?.answer?.text === '从另一个进程回答');
    // Each client got each event once.
    assert.equal(onA.conn.got.filter((g) => g.event === 'question:new').length, 1);
    assert.equal(onB.conn.got.filter((g) => g.event === 'question:new').length, 1);

    const stats = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/qa/stats`,
      headers: as('teacher'),
    });
    assert.deepEqual(stats.json<QaStats>(), { lessonId, online: 3, questions: 1, unanswered: 0 });
  });
});

describe('concurrent changes', () => {
  test('votes racing on both instances: every process sees one order, and the last seq holds the final count', async () => {
    const lessonId = await newLesson();
    const author = await joined('s1', lessonId);
    const q = ok(await call(author.conn, 'question:ask', { lessonId, text: '大家觉得呢？' }));
    const watchA = await joined('s2', lessonId, 0);
    const watchB = await joined('s3', lessonId, 1);
    const issuer = createTokenIssuer(SECRET, 600);
    const voters = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const id = (0xabc000 + i).toString(16).padStart(24, '0');
        const s: Client = ioClient(`${c.urls[i % 2]}/qa`, {
          transports: ['websocket'],
          auth: { token: issuer.sign({ sub: id, role: 'student' }) },
          reconnection: false,
          forceNew: true,
        });
        sockets.push(s);
        await new Promise<void>((resolve) => s.once('connect', resolve));
        const conn: Conn = { s, got: [] };
        return conn;
      }),
    );
    const replies = await Promise.all(voters.map((v) => call(v, 'question:upvote', { questionId: q.id })));
    assert.equal(replies.filter((r) => r.ok).length, 24);
    const final = async (w: Conn) => {
      await waitFor(w, 'question:updated', (p) => p.question?.votes === 24);
      const updates = w.got.filter((g) => g.event === 'question:updated').map((g) => g.payload);
      const seqs = updates.map((u) => u.seq!);
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        'in sequence order',
      );
      // A snapshot superseded by a newer one is not sent: counts only grow along the sequence.
      const votes = updates.map((u) => u.question!.votes);
      assert.deepEqual(
        votes,
        [...votes].sort((x, y) => x - y),
      );
      assert.equal(votes.at(-1), 24);
      return seqs;
    };
    assert.deepEqual(await final(watchA.conn), await final(watchB.conn), 'both processes, one order');
    const page = ok(await call(watchA.conn, 'room:join', { lessonId }));
    assert.equal(page.questions[0]?.votes, 24);
  });
});

describe('inbox, FAQ and pairing', () => {
  test('the inbox lists unanswered questions of the teacher’s lessons, newest or top first; admins see all', async () => {
    const l1 = await newLesson('teacher', '第一课');
    const l2 = await newLesson('teacher', '第二课');
    const l3 = await newLesson('teacher2', '别人的课');
    const ask = async (who: Person, lessonId: string, text: string) =>
      ok(await call(await connect(who), 'question:ask', { lessonId, text }));
    const a = await ask('s1', l1, 'inbox A');
    const b = await ask('s2', l2, 'inbox B');
    const x = await ask('s3', l3, 'inbox X');
    const d = await ask('s4', l1, 'inbox D');
    const answered = await ask('s2', l1, 'inbox answered');
    const hidden = await ask('s3', l2, 'inbox hidden');
    const staff = await connect('teacher');
    ok(await call(staff, 'question:answer', { questionId: answered.id, text: '答' }));
    ok(await call(staff, 'question:hide', { questionId: hidden.id, hidden: true }));
    const voter = await connect('family');
    ok(await call(voter, 'question:upvote', { questionId: b.id }));
    ok(await call(voter, 'question:upvote', { questionId: a.id }));
    ok(await call(staff, 'question:upvote', { questionId: b.id }));

    const inbox = async (who: Person, query: string) => {
      const res = await c.apps[0]!.http.inject({ url: `/api/qa/inbox?${query}`, headers: as(who) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<InboxPage>();
    };
    const mine = (p: InboxPage) =>
      p.items.filter((i) => [a, b, x, d].some((q) => q.id === i.id)).map((i) => i.text);
    assert.deepEqual(mine(await inbox('teacher', 'sort=new')), ['inbox D', 'inbox B', 'inbox A']);
    assert.deepEqual(mine(await inbox('teacher', 'sort=top')), ['inbox B', 'inbox A', 'inbox D']);
    const first = await inbox('teacher', 'sort=new&limit=1');
    assert.equal(first.items[0]?.text, 'inbox D');
    assert.equal(first.items[0]?.lessonTitle, '第一课');
    assert.equal(first.items[0]?.author, '小丽');
    const second = await inbox('teacher', `sort=new&limit=1&cursor=${first.nextCursor!}`);
    assert.equal(second.items[0]?.text, 'inbox B');
    assert.deepEqual(mine(await inbox('admin', 'sort=new')), ['inbox D', 'inbox X', 'inbox B', 'inbox A']);
    const forStudent = await c.apps[0]!.http.inject({ url: '/api/qa/inbox', headers: as('s1') });
    assert.equal(forStudent.statusCode, 403);
    const wrongCursor = await c.apps[0]!.http.inject({
      url: `/api/qa/inbox?sort=top&cursor=${first.nextCursor!}`,
      headers: as('teacher'),
    });
    assert.equal(wrongCursor.statusCode, 400);
  });

  test('the FAQ: answered questions that are not hidden, most votes first, with the moment to jump to', async () => {
    const lessonId = await newLesson();
    const t = await connect('teacher');
    const ask = async (who: Person, text: string, at: { position?: number; liveOffset?: number }) =>
      ok(await call(await connect(who), 'question:ask', { lessonId, text, ...at }));
    const q1 = await ask('s1', '一', { liveOffset: 120 });
    const q2 = await ask('s2', '二', { position: 300 });
    const q3 = await ask('s3', '三', { position: 30 });
    await ask('s4', '四（没回答）', { position: 10 });
    const q5 = await ask('family', '五（隐藏）', { position: 20 });
    for (const q of [q1, q2, q5])
      ok(await call(t, 'question:answer', { questionId: q.id, text: `答${q.text}` }));
    ok(await call(t, 'question:answeredOnAir', { questionId: q3.id }));
    ok(await call(t, 'question:hide', { questionId: q5.id, hidden: true }));
    for (const who of ['s1', 's2', 's3'] as const)
      ok(await call(await connect(who), 'question:upvote', { questionId: q2.id }));
    ok(await call(await connect('s4'), 'question:upvote', { questionId: q3.id }));
    refused(
      await call(await connect('s4'), 'question:ask', { lessonId, text: '都给', position: 1, liveOffset: 2 }),
      'VALIDATION_FAILED',
      'liveOffset',
    );

    const res = await c.apps[1]!.http.inject({ url: `/api/lessons/${lessonId}/faq`, headers: as('s4') });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res
        .json<FaqPage>()
        .items.map((i) => [i.text, i.votes, i.jumpToSec, i.answer?.text ?? null, i.answeredOnAir]),
      [
        ['二', 3, 300, '答二', false],
        ['三', 1, 30, null, true],
        ['一', 0, 120, '答一', false],
      ],
    );
    const paged = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/faq?limit=2`,
      headers: as('s1'),
    });
    const next = await c.apps[0]!.http.inject({
      url: `/api/lessons/${lessonId}/faq?limit=2&cursor=${paged.json<FaqPage>().nextCursor!}`,
      headers: as('s1'),
    });
    assert.deepEqual(
      next.json<FaqPage>().items.map((i) => i.text),
      ['一'],
    );
  });

  test('a TV pairing code leads one signed-in phone to the lesson (the same phone again, no other), until it expires', async () => {
    const lessonId = await newLesson();
    const create = await c.apps[0]!.http.inject({
      method: 'POST',
      url: '/api/qa/pairing',
      headers: as('family'),
      payload: { lessonId },
    });
    assert.equal(create.statusCode, 201, create.body);
    const pairing = create.json<Pairing>();
    assert.match(pairing.code, /^\d{6}$/);
    assert.equal(pairing.ttlSec, 2);
    const claim = (who: Person, code: string) =>
      c.apps[1]!.http.inject({
        method: 'POST',
        url: '/api/qa/pairing/claim',
        headers: as(who),
        payload: { code },
      });
    const claimed = await claim('s1', pairing.code);
    assert.equal(claimed.statusCode, 200, claimed.body);
    assert.deepEqual(claimed.json(), { lessonId });
    assert.equal((await claim('s1', pairing.code)).statusCode, 200, 'the same phone again (a reload)');
    const taken = await claim('family', pairing.code);
    assert.equal(taken.statusCode, 409, 'one phone per code: a second one is refused');
    assert.match(taken.body, /another phone/);
    const wrong = pairing.code === '000000' ? '000001' : '000000';
    assert.equal((await claim('s2', wrong)).statusCode, 404);
    assert.equal((await claim('s2', 'abc')).statusCode, 400);
    const forTeacher = await c.apps[0]!.http.inject({
      method: 'POST',
      url: '/api/qa/pairing',
      headers: as('teacher'),
      payload: { lessonId },
    });
    assert.equal(forTeacher.statusCode, 403);
    const noLesson = await c.apps[0]!.http.inject({
      method: 'POST',
      url: '/api/qa/pairing',
      headers: as('s1'),
      payload: { lessonId: 'ffffffffffffffffffffffff' },
    });
    assert.equal(noLesson.statusCode, 404);
    await sleep(2200);
    assert.equal((await claim('s3', pairing.code)).statusCode, 404, 'expired');
  });

  test('the TV reports its playback to its code: the phone holding it reads it, and the code lives while the TV reports', async () => {
    const lessonId = await newLesson();
    const pairing = (
      await c.apps[0]!.http.inject({
        method: 'POST',
        url: '/api/qa/pairing',
        headers: as('family'),
        payload: { lessonId },
      })
    ).json<Pairing>();
    const report = (who: Person, payload: object) =>
      c.apps[1]!.http.inject({
        method: 'PUT',
        url: `/api/qa/pairing/${pairing.code}/playback`,
        headers: as(who),
        payload,
      });
    const read = (who: Person) =>
      c.apps[0]!.http.inject({ method: 'GET', url: `/api/qa/pairing/${pairing.code}`, headers: as(who) });
    assert.equal((await read('s1')).statusCode, 403, 'claim first');
    const open = await report('family', { position: 7, playing: false });
    assert.deepEqual(open.json(), { claimed: false }, 'no phone holds the code yet');
    const claimed = await c.apps[0]!.http.inject({
      method: 'POST',
      url: '/api/qa/pairing/claim',
      headers: as('s1'),
      payload: { code: pairing.code },
    });
    assert.equal(claimed.json<PairingClaim>().playback?.position, 7, 'the claim answers where the TV is');

    const first = await report('family', { position: 42.5, playing: true });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { claimed: true }, 'the TV hears that a phone holds the code');
    assert.equal((await report('s2', { position: 1, playing: true })).statusCode, 403, 'only its TV');
    assert.equal((await report('family', { playing: true })).statusCode, 400, 'a moment is needed');
    assert.equal(
      (await report('family', { position: 1, liveOffset: 1, playing: true })).statusCode,
      400,
      'one moment, not both',
    );
    await sleep(300);
    const got = await read('s1');
    assert.equal(got.statusCode, 200, got.body);
    const { playback } = got.json<PairingClaim>();
    assert.equal(playback?.position, 42.5);
    assert.equal(playback?.playing, true);
    assert.ok(playback && playback.ageSec >= 0.25 && playback.ageSec < 2, `ageSec ${playback?.ageSec}`);
    assert.equal((await read('s2')).statusCode, 409, 'another phone reads nothing');

    // the TTL is 2 s here: reports every second keep the code, its holder and the playback for 3 s
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      assert.equal((await report('family', { liveOffset: 100 + i, playing: false })).statusCode, 200);
    }
    const later = await read('s1');
    assert.equal(later.statusCode, 200, later.body);
    assert.equal(later.json<PairingClaim>().playback?.liveOffset, 102);
    await sleep(2200);
    assert.equal((await read('s1')).statusCode, 404, 'expired once the TV stopped reporting');
    assert.equal((await report('family', { position: 1, playing: true })).statusCode, 404);
  });
});
