// A draft (unpublished) lesson's Q&A room is the teacher's workshop: only the lesson's teacher and admins
// may open it, over socket.io or HTTP. Viewers and other teachers are told there is no such lesson.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Ack, Lesson, QaClientEvents, QaServerEvents, Role } from '@sky/contracts';
import { createTokenIssuer } from '@sky/contracts/tokens';
import { io as ioClient, type Socket } from 'socket.io-client';
import { startTestApi, type TestApi } from './helpers.js';

const SECRET = 'test-secret-that-is-at-least-32-characters';
let api: TestApi;
let url: string;
let draftId: string;
let readyId: string;
let otherTeacher: string;
const sockets: Socket[] = [];

before(async () => {
  api = await startTestApi();
  await api.app.http.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(api.app.http.server.address() as { port: number }).port}`;
  const create = async (title: string) => {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/lessons',
      headers: { authorization: `Bearer ${api.tokens.teacher}` },
      payload: { title, grade: 'p3', subject: '数学' },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<Lesson>().id;
  };
  draftId = await create('还没发布的课');
  readyId = await create('已发布的课');
  await api.app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId: readyId,
    master: `lessons/${readyId}/v1/master.m3u8`,
    tvMaster: `lessons/${readyId}/v1/tv.m3u8`,
    durationSec: 30,
  });
  const other = await api.app.services.users.create({
    username: `teacher2.${api.prefix}`,
    password: 'correct horse battery',
    displayName: '李老师',
    role: 'teacher',
  });
  otherTeacher = createTokenIssuer(SECRET, 600).sign({ sub: other.id, role: 'teacher' });
});
after(async () => {
  for (const s of sockets) s.disconnect();
  await api?.close();
});

type Who = Role | 'otherTeacher';
const tokenOf = (who: Who) => (who === 'otherTeacher' ? otherTeacher : api.tokens[who]);

async function join(who: Who, lessonId: string): Promise<Ack<unknown>> {
  const s: Socket<QaServerEvents, QaClientEvents> = ioClient(`${url}/qa`, {
    transports: ['websocket'],
    auth: { token: tokenOf(who) },
    reconnection: false,
    forceNew: true,
  });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  const timed = s.timeout(5000) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> };
  const ack = await timed.emitWithAck('room:join', { lessonId });
  s.disconnect();
  return ack;
}

const get = (who: Who, path: string) =>
  api.app.http.inject({ url: path, headers: { authorization: `Bearer ${tokenOf(who)}` } });

test('a viewer or another teacher cannot open a draft’s Q&A room over socket.io', async () => {
  for (const who of ['student', 'family', 'analyst', 'otherTeacher'] as const) {
    const ack = await join(who, draftId);
    assert.equal(ack.ok, false, `${who} joined the draft's room`);
    if (!ack.ok) assert.equal(ack.error.code, 'NOT_FOUND', `${who}: ${ack.error.message}`);
  }
  for (const who of ['teacher', 'admin'] as const) {
    const ack = await join(who, draftId);
    assert.equal(ack.ok, true, `${who}: ${JSON.stringify(ack)}`);
  }
  // a published lesson's room is open to its viewers
  assert.equal((await join('student', readyId)).ok, true);
});

test('nor read its questions, FAQ or title through HTTP, nor pair a TV to it', async () => {
  for (const who of ['student', 'family', 'otherTeacher'] as const) {
    for (const path of [`/api/lessons/${draftId}/questions`, `/api/lessons/${draftId}/faq`]) {
      const res = await get(who, path);
      assert.equal(res.statusCode, 404, `${who} ${path}: ${res.statusCode} ${res.body}`);
    }
  }
  for (const who of ['student', 'family'] as const) {
    const res = await api.app.http.inject({
      method: 'POST',
      url: '/api/qa/pairing',
      headers: { authorization: `Bearer ${tokenOf(who)}` },
      payload: { lessonId: draftId },
    });
    assert.equal(res.statusCode, 404, `${who} pairing: ${res.statusCode} ${res.body}`);
    assert.ok(!res.body.includes('还没发布的课'));
  }
  for (const who of ['teacher', 'admin'] as const) {
    const res = await get(who, `/api/lessons/${draftId}/questions`);
    assert.equal(res.statusCode, 200, `${who}: ${res.body}`);
  }
  assert.equal((await get('student', `/api/lessons/${readyId}/questions`)).statusCode, 200);
});
