// Fuzzing the /live namespace as a misbehaving client would, on a lesson that is really live (the real api,
// a real mediasoup worker): every event of LIVE_REQUESTS and unknown ones, payloads fuzzed from the words of
// the contracts and the room's own ids, under every role. Seeded (FUZZ_SEED replays a run) and bounded. Every
// ack is an answer or a refusal, never INTERNAL or a leak, and the room still works afterwards.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as contracts from '@sky/contracts';
import { LIVE_REQUESTS } from '@sky/contracts';
import { fc, fieldNames, fuzzArbitraries, fuzzSeed, leakIn, sampleOf } from '@sky/devkit';
import { createApiClient } from '../src/adapters/api-client.js';
import { liveClient, startSfu, type LiveClient, type TestSfu } from './helpers.js';
import { startRealApi, type RealApi } from './real-api.js';

const INPUTS = 1_200;
const seed = fuzzSeed();
let api: RealApi;
let sfu: TestSfu;
let lessonId: string;
const clients = new Map<string, LiveClient>();

before(async () => {
  api = await startRealApi();
  sfu = await startSfu({ api: createApiClient(api.url) });
  const lesson = await api.lesson('fuzz');
  assert.equal(await api.goLive(lesson.id), 201);
  lessonId = lesson.id;
});
after(async () => {
  for (const c of clients.values()) c.close();
  await sfu?.close();
  await api?.close();
});

/** The role's client, joined to the room (or trying to), reconnected when the server dropped it. */
async function clientOf(role: keyof RealApi['tokens']): Promise<LiveClient> {
  const open = clients.get(role);
  if (open?.socket.connected) return open;
  open?.close();
  const c = await liveClient(sfu.url, api.tokens[role]);
  clients.set(role, c);
  await c.request('room.join', { lessonId }).catch(() => undefined);
  return c;
}

test(`${INPUTS} fuzzed /live events under every role: error acks only, the room still works`, async () => {
  const names = Object.keys(LIVE_REQUESTS).filter((n) => n !== 'room.end');
  const arb = fuzzArbitraries({
    fields: fieldNames(contracts),
    ids: [lessonId, '507f1f77bcf86cd799439011', '00000000-0000-0000-0000-000000000000', 'video', 'audio'],
  });
  const input = fc.record({
    event: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...names) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    ),
    payload: fc.oneof(
      arb.value,
      fc
        .record(
          {
            lessonId: fc.constantFrom(lessonId, 'x'),
            transportId: arb.segment,
            producerId: arb.segment,
            consumerId: arb.segment,
            direction: fc.constantFrom('send', 'recv', 'x'),
            kind: fc.constantFrom('audio', 'video', 'x'),
            dtlsParameters: arb.object,
            rtpParameters: arb.object,
            rtpCapabilities: arb.object,
            spatialLayer: arb.value,
          },
          { requiredKeys: [] },
        )
        .map((o) => o as unknown),
    ),
    role: fc.constantFrom('student', 'teacher', 'family', 'analyst', 'admin' as const),
  });
  const inputs = sampleOf(input, INPUTS, seed);
  const serverPaths = [join(import.meta.dirname, '..', '..'), tmpdir(), api.mediaDir];
  const findings: string[] = [];
  let refused = 0;
  let answered = 0;
  for (const [n, i] of inputs.entries()) {
    const c = await clientOf(i.role);
    const reply = (await c.raw(i.event, i.payload).catch(() => undefined)) as
      { ok: boolean; error?: { code: string } } | undefined;
    if (!reply) continue; // an unknown event gets no ack; the flood limit drops the socket (reconnected)
    const text = JSON.stringify(reply);
    if (reply.ok) answered++;
    else refused++;
    if (!reply.ok && reply.error?.code === 'INTERNAL') findings.push(`#${n} ${i.role} ${i.event}: ${text}`);
    const leak = leakIn(text, serverPaths);
    if (leak) findings.push(`#${n} ${i.role} ${i.event}: ${leak}`);
  }
  console.log(`[fuzz] seed ${seed}: ${inputs.length} /live events; ${answered} answered, ${refused} refused`);
  assert.deepEqual(findings.slice(0, 20), [], `seed ${seed}: ${findings.length} findings`);

  // a fresh student still joins the live room and can ask for a receive transport
  const student = await liveClient(sfu.url, api.tokens.student);
  clients.set('check', student);
  await student.ok('room.join', { lessonId });
  await student.ok('transport.create', { direction: 'recv' });
});
