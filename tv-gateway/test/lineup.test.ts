// The lineup routes on a bare fastify (the gateway's compilers and problem handlers): the M3U and XMLTV
// as boxes read them, their caching, and the JSON for the 10-foot UI — over a counting fake source, and
// over the real ChannelService with fake curriculum and media sources.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type {
  Channel,
  ChannelGuide,
  GuideProgramme,
  Problem,
  ScheduleEntry,
  TvChannel,
} from '@sky/contracts';
import { registerProblemHandlers } from '@sky/contracts/http';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import parser from 'iptv-playlist-parser';
import type { CurriculumSource } from '../src/adapters/curriculum.client.js';
import type { LiveSource } from '../src/adapters/live.client.js';
import { lineupRoutes, type LineupSource } from '../src/http/lineup.routes.js';
import { ChannelService } from '../src/services/channels.service.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sky-lineup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PUBLIC = 'https://tv.example.cn/tv';
/** These programmes are all recorded: no lesson is ever live. */
const noLiveLessons: LiveSource = {
  facts: async () => ({}),
  list: async () => undefined,
  segment: async () => Buffer.alloc(0),
  tvMaster: async () => undefined,
};
const DAY = 86_400;
/** Sunday 2026-11-29 13:29:27 Beijing time. */
const NOW = Date.parse('2026-11-29T13:29:27+08:00') / 1000;

const tvChannel = (id: string, number: number, name: string): TvChannel => ({
  id,
  number,
  name,
  group: '小学',
  grades: ['p1'],
  logoUrl: `${PUBLIC}/logos/${id}.png`,
  url: `${PUBLIC}/channels/${id}.m3u8`,
});

/** A LineupSource that counts its calls and remembers the windows asked for. */
function fakeSource() {
  const calls = { channels: 0, guide: [] as { from: number; to: number; channel?: string | undefined }[] };
  let onInvalidate: (() => void) | undefined;
  const source: LineupSource = {
    channels: async () => {
      calls.channels++;
      return [tvChannel('tv-p1', 1, '空中课堂 一年级'), tvChannel('tv-p2', 2, '空中课堂 二年级')];
    },
    guide: async (from, to, channel) => {
      calls.guide.push({ from, to, channel });
      const at = (s: number) => new Date(s * 1000).toISOString();
      return [
        {
          channelId: 'tv-p1',
          lessonId: 'p1-math-001',
          title: '认识钟表',
          subject: 'math',
          grade: 'p1',
          start: at(NOW - 3600),
          stop: at(NOW - 2400),
          live: false,
          catchupUrl: `${PUBLIC}/channels/tv-p1.m3u8?utc=${NOW - 3600}&lutc=${NOW}`,
        },
        {
          channelId: 'tv-p2',
          lessonId: 'p2-chinese-001',
          title: '古诗二首',
          subject: 'chinese',
          grade: 'p2',
          start: at(NOW + 600),
          stop: at(NOW + 1800),
          live: false,
        },
      ];
    },
    onInvalidate: (listener) => {
      onInvalidate = listener;
    },
  };
  return { source, calls, invalidate: () => onInvalidate?.() };
}

async function server(source: LineupSource, clock: { now: number }, catchupDays = 7) {
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  await app.register(lineupRoutes, {
    channels: source,
    publicUrl: `${PUBLIC}/`,
    catchupDays,
    now: () => clock.now,
  });
  await app.ready();
  after(() => app.close());
  return app;
}

const validateXmltv = async (xml: string) => {
  const file = join(dir, `guide-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  return run('tv_validate_file', ['--dtd-file', '/usr/share/xmltv/xmltv.dtd', file]).then(
    () => ({ code: 0, out: '' }),
    (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
  );
};

test('GET /channels.m3u: the lineup as M3U, cacheable for 5 minutes, with an ETag', async () => {
  const { source } = fakeSource();
  const app = await server(source, { now: NOW });
  const res = await app.inject({ url: '/channels.m3u' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'audio/x-mpegurl; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'public, max-age=300');
  assert.match(String(res.headers['etag']), /^"[\w-]{27}"$/);
  const playlist = parser.parse(res.body);
  assert.equal(playlist.header.attrs['x-tvg-url'], `${PUBLIC}/guide.xml`);
  assert.deepEqual(
    playlist.items.map((i) => [i.name, i.tvg.id, i.url, i.catchup.source]),
    [
      ['空中课堂 一年级', 'tv-p1.sky-classroom', `${PUBLIC}/channels/tv-p1.m3u8`, '?utc={utc}&lutc={lutc}'],
      ['空中课堂 二年级', 'tv-p2.sky-classroom', `${PUBLIC}/channels/tv-p2.m3u8`, '?utc={utc}&lutc={lutc}'],
    ],
  );
  const again = await app.inject({ url: '/channels.m3u', headers: { 'if-none-match': res.headers['etag'] } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
});

test('GET /channels.m3u?token=…: the token rides on every channel URL and the guide URL; not for shared caches', async () => {
  const { source } = fakeSource();
  const app = await server(source, { now: NOW });
  const res = await app.inject({ url: `/channels.m3u?token=${encodeURIComponent('dev/1+2')}` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['cache-control'], 'private, max-age=300');
  const playlist = parser.parse(res.body);
  assert.equal(playlist.header.attrs['x-tvg-url'], `${PUBLIC}/guide.xml?token=dev%2F1%2B2`);
  for (const item of playlist.items) {
    assert.equal(new URL(item.url).searchParams.get('token'), 'dev/1+2');
    assert.equal(item.catchup.source, '&utc={utc}&lutc={lutc}');
  }
  const other = await app.inject({ url: '/channels.m3u?token=other' });
  assert.match(other.body, /token=other/);
  assert.doesNotMatch(other.body, /dev%2F1/);
  const empty = await app.inject({ url: '/channels.m3u?token=' });
  assert.equal(empty.statusCode, 400);
  assert.equal(empty.json<Problem>().errors?.[0]?.path, 'querystring.token');
});

test('GET /guide.xml: XMLTV of catch-up days back to 2 days ahead, ETag and 304', async () => {
  const { source, calls } = fakeSource();
  const app = await server(source, { now: NOW });
  const res = await app.inject({ url: '/guide.xml' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/xml; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'public, max-age=300');
  assert.match(res.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<tv /);
  assert.match(
    res.body,
    /<programme start="20261129122927 \+0800" stop="20261129124927 \+0800" channel="tv-p1.sky-classroom">/,
  );
  const minute = Math.floor(NOW / 60) * 60;
  assert.deepEqual(calls.guide, [{ from: minute - 7 * DAY, to: minute + 2 * DAY, channel: undefined }]);
  const etag = String(res.headers['etag']);
  for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
    const again = await app.inject({ url: '/guide.xml', headers: { 'if-none-match': inm } });
    assert.equal(again.statusCode, 304, inm);
    assert.equal(again.headers['etag'], etag);
    assert.equal(again.headers['cache-control'], 'public, max-age=300');
  }
  const changed = await app.inject({ url: '/guide.xml', headers: { 'if-none-match': '"nope"' } });
  assert.equal(changed.statusCode, 200);
  assert.equal(changed.body, res.body);
});

test('GET /guide.xml?from=&to=: Beijing days or instants; a bad value is a 400 problem naming the field', async () => {
  const { source, calls } = fakeSource();
  const app = await server(source, { now: NOW });
  const days = await app.inject({ url: '/guide.xml?from=2026-11-23&to=2026-11-24' });
  assert.equal(days.statusCode, 200, days.body);
  const instants = await app.inject({
    url: `/guide.xml?from=${encodeURIComponent('2026-11-23T08:00:00+08:00')}&to=2026-11-23T01:00:00Z`,
  });
  assert.equal(instants.statusCode, 200, instants.body);
  const bj = (s: string) => Date.parse(s) / 1000;
  assert.deepEqual(calls.guide, [
    { from: bj('2026-11-23T00:00:00+08:00'), to: bj('2026-11-25T00:00:00+08:00'), channel: undefined },
    { from: bj('2026-11-23T00:00:00Z'), to: bj('2026-11-23T01:00:00Z'), channel: undefined },
  ]);

  const cases: [string, string][] = [
    ['from=yesterday', 'querystring.from'],
    ['to=2026-13-01', 'querystring.to'],
    ['from=2026-11-23T08:00:00', 'querystring.from'], // no offset: ambiguous
    ['from=2026-11-24&to=2026-11-23', 'querystring.to'],
    ['from=2026-01-01&to=2026-11-23', 'querystring.to'],
  ];
  for (const [query, path] of cases) {
    const res = await app.inject({ url: `/guide.xml?${query}` });
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    const problem = res.json<Problem>();
    assert.equal(problem.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      problem.errors?.map((e) => e.path),
      [path],
      `${query}: ${JSON.stringify(problem)}`,
    );
  }
});

test('a flood of boxes renders the lineup once a minute; a schedule change drops the copies at once', async () => {
  const { source, calls, invalidate } = fakeSource();
  const clock = { now: NOW };
  const app = await server(source, clock);
  const flood = async (url: string) => {
    const all = await Promise.all(Array.from({ length: 50 }, () => app.inject({ url })));
    assert.ok(all.every((r) => r.statusCode === 200 && r.body === all[0]!.body));
    return all[0]!;
  };
  const first = await flood('/guide.xml');
  await flood('/channels.m3u');
  assert.equal(calls.guide.length, 1);
  assert.equal(calls.channels, 2);

  clock.now += 30; // same minute
  await flood('/guide.xml');
  assert.equal(calls.guide.length, 1);

  clock.now += 60; // the next minute: rendered again, same programmes, same ETag
  const later = await flood('/guide.xml');
  assert.equal(calls.guide.length, 2);
  assert.equal(later.headers['etag'], first.headers['etag']);

  invalidate();
  await flood('/guide.xml');
  await flood('/channels.m3u');
  assert.equal(calls.guide.length, 3);
  assert.equal(calls.channels, 5);
});

test('GET /api/channels and /api/guide: JSON for the 10-foot UI, today and tomorrow by default', async () => {
  const { source, calls } = fakeSource();
  const app = await server(source, { now: NOW });
  const channels = await app.inject({ url: '/api/channels' });
  assert.equal(channels.statusCode, 200);
  assert.deepEqual(
    channels.json<TvChannel[]>().map((c) => c.id),
    ['tv-p1', 'tv-p2'],
  );

  const guide = await app.inject({ url: '/api/guide' });
  assert.equal(guide.statusCode, 200, guide.body);
  assert.equal(
    guide.json<GuideProgramme[]>()[0]?.catchupUrl?.startsWith(`${PUBLIC}/channels/tv-p1.m3u8?utc=`),
    true,
  );
  const midnight = Date.parse('2026-11-29T00:00:00+08:00') / 1000;
  assert.deepEqual(calls.guide.at(-1), { from: midnight, to: midnight + 2 * DAY, channel: undefined });

  await app.inject({ url: '/api/guide?channel=tv-p2&from=2026-11-30' });
  assert.deepEqual(calls.guide.at(-1), { from: midnight + DAY, to: midnight + 2 * DAY, channel: 'tv-p2' });

  const unknown = await app.inject({ url: '/api/guide?channel=tv-s9' });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json<Problem>().code, 'NOT_FOUND');
  const bad = await app.inject({ url: '/api/guide?channel=a%20b' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<Problem>().errors?.[0]?.path, 'querystring.channel');
});

test('over the real ChannelService: the guide of a scheduled week passes tv_validate_file', async () => {
  const channels: Channel[] = [
    { id: 'tv-p1', kind: 'tv', number: 1, zh: '空中课堂 一年级', en: 'Sky P1', grades: ['p1'] },
    { id: 'tv-j1', kind: 'tv', number: 7, zh: '空中课堂 初一', en: 'Sky J1', grades: ['j1'] },
    {
      id: 'web-p1',
      kind: 'web',
      number: 101,
      zh: '空中课堂 一年级（网络）',
      en: 'Sky P1 web',
      grades: ['p1'],
    },
  ];
  const entries = (channelId: string, grade: 'p1' | 'j1'): ScheduleEntry[] =>
    ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-30'].flatMap((date, d) =>
      ['08:30', '09:20'].map((start, s) => ({
        lessonId: `${grade}-math-${d * 2 + s + 1}`,
        title: `数学 第${d * 2 + s + 1}课 认识"钟表" & <时间>`,
        grade,
        subject: 'math',
        unit: '第一单元',
        order: d * 2 + s + 1,
        teacherId: 't1',
        date,
        slot: s,
        start,
        end: start === '08:30' ? '08:50' : '09:40',
        channels: [channelId],
        recording: 'ready' as const,
      })),
    );
  const curriculum: CurriculumSource = {
    channels: async () => channels,
    programme: async (id) => (id === 'tv-p1' ? entries(id, 'p1') : id === 'tv-j1' ? entries(id, 'j1') : []),
    subjectNames: async () => new Map([['math', { zh: '数学', en: 'Maths' }]]),
    teacherNames: async () => new Map([['t1', '王老师']]),
    invalidate: () => {},
  };
  const service = new ChannelService(curriculum, { lessonMedia: async () => undefined }, noLiveLessons, {
    publicUrl: PUBLIC,
    catchupDays: 7,
    now: () => NOW,
  });
  const app = await server(service, { now: NOW });

  const xml = await app.inject({ url: '/guide.xml' });
  assert.equal(xml.statusCode, 200, xml.body);
  assert.equal((xml.body.match(/<programme /g) ?? []).length, 24);
  assert.match(
    xml.body,
    /<programme start="20261130083000 \+0800" stop="20261130085000 \+0800" channel="tv-j1.sky-classroom">/,
  );
  const { code, out } = await validateXmltv(xml.body);
  assert.equal(code, 0, out);
  // the subject by its names in both languages, never by its code
  assert.equal((xml.body.match(/<category lang="zh">数学<\/category>/g) ?? []).length, 24);
  assert.equal((xml.body.match(/<category lang="en">Maths<\/category>/g) ?? []).length, 24);
  assert.doesNotMatch(xml.body, />math</);

  // the 10-foot UI's guide of one channel: every day catch-up reaches (Sunday's week back) to tomorrow
  const guide = await app.inject({ url: '/api/channels/tv-p1/guide' });
  assert.equal(guide.statusCode, 200, guide.body);
  const g = guide.json<ChannelGuide>();
  assert.equal(g.today, '2026-11-29');
  assert.deepEqual(g.days, [
    '2026-11-22',
    '2026-11-23',
    '2026-11-24',
    '2026-11-25',
    '2026-11-26',
    '2026-11-27',
    '2026-11-28',
    '2026-11-29',
    '2026-11-30',
  ]);
  assert.equal(g.programmes.length, 12);
  // Monday to Friday have aired: each can be watched again, 2 to 6 days later; Monday next has not
  const aired = g.programmes.filter((p) => p.catchupUrl);
  assert.equal(aired.length, 10);
  assert.ok(g.programmes.every((p) => p.subjectName === '数学' && p.subjectNameEn === 'Maths'));
  const monday = g.programmes.find((p) => p.lessonId === 'p1-math-1')!;
  assert.equal(
    monday.catchupUrl,
    `${PUBLIC}/channels/tv-p1.m3u8?utc=${Date.parse(monday.start) / 1000}&lutc=${NOW}`,
  );
  assert.equal((await app.inject({ url: '/api/channels/tv-x9/guide' })).statusCode, 404);

  const m3u = parser.parse((await app.inject({ url: '/channels.m3u' })).body);
  assert.deepEqual(
    m3u.items.map((i) => [i.tvg.id, i.name, i.url]),
    [
      ['tv-p1.sky-classroom', '空中课堂 一年级', `${PUBLIC}/channels/tv-p1.m3u8`],
      ['tv-j1.sky-classroom', '空中课堂 初一', `${PUBLIC}/channels/tv-j1.m3u8`],
    ],
  );
  // every tvg-id of the M3U has its <channel> in the guide
  for (const item of m3u.items)
    assert.match(xml.body, new RegExp(`<channel id="${item.tvg.id.replaceAll('.', '\\.')}">`));
});
