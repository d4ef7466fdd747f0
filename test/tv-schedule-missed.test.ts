// The TV gateway keeps the timetable it read from the curriculum until the curriculum says it changed,
// by Redis pub/sub. Pub/sub keeps nothing for a subscriber that is away: a change published while the
// gateway's connection was down (a Redis restart, a Sentinel failover) never arrives. On a real
// curriculum, gateway and redis-server, the timetable is changed with no message reaching the gateway,
// its subscriber connection is then cut (CLIENT KILL), and once it is back the guide shows the change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { beijingToday } from '@sky/contracts';
import { Redis } from 'ioredis';
import { dayTerm } from './fixtures.js';
import { p1MathPlan, startTvStack, type TvStack } from './tv-stack.js';

const OLD = '认识钟表';
const NEW = '认识钟表（修订版）';

let stack: TvStack;
let admin: Redis;
before(async () => {
  // today's timetable: the guide lists from today on
  const rules = { slots: ['08:00', '09:00'], maxDaily: 2, lessonMinutes: 20 };
  stack = await startTvStack({
    plan: (id) => ({ ...p1MathPlan(id, [OLD, '认识整点']), term: dayTerm(rules, beijingToday()) }),
  });
  admin = new Redis(stack.redisUrl);
});
after(async () => {
  admin?.disconnect();
  await stack?.close();
});

const guide = async () => {
  const res = await fetch(`${stack.base}/guide.xml`);
  assert.equal(res.status, 200);
  return res.text();
};

/** The id of the gateway's subscriber connection, once it is connected and subscribed. */
async function subscriberId(): Promise<string | undefined> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${stack.subscriberName} `));
  return /\bid=(\d+)/.exec(line ?? '')?.[1];
}

test('a change whose message was lost while the gateway was disconnected reaches the guide once it is back', async () => {
  assert.match(await guide(), new RegExp(OLD));
  // The change, with no message: written where the curriculum reads the timetable from.
  const renamed = await stack.curriculumDb
    .collection('schedule_entries')
    .updateMany({ title: OLD }, { $set: { title: NEW } });
  assert.ok(renamed.modifiedCount > 0, 'the timetable airs the lesson');
  await new Promise((r) => setTimeout(r, 1100)); // past the gateway's per-second rendering
  assert.doesNotMatch(await guide(), new RegExp(NEW), 'the gateway answers from what it read before');

  const before = await subscriberId();
  assert.ok(before, 'the gateway is subscribed');
  await admin.call('CLIENT', 'KILL', 'ID', before);
  let back: string | undefined;
  let text = '';
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    back ??= await subscriberId();
    text = await guide();
    if (back && text.includes(NEW)) break;
  }
  assert.ok(back && back !== before, 'the gateway subscribed again on a new connection');
  assert.match(text, new RegExp(NEW), 'the guide shows the change within 5 s of reconnecting');
  assert.doesNotMatch(text, new RegExp(`${OLD}<`), 'and no longer the old title');
});
