import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { TvChannel } from '@sky/contracts';
import { renderXmltv, xmltvChannelId, xmltvTime, type GuideListing } from './xmltv.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sky-xmltv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE = 'https://tv.example.cn/tv';
const channel = (id: string, number: number, name: string): TvChannel => ({
  id,
  number,
  name,
  group: '小学',
  grades: ['p1'],
  logoUrl: `${BASE}/logos/${id}.png?v=1&size=big`,
  url: `${BASE}/channels/${id}.m3u8`,
});
const CHANNELS = [channel('tv-p1', 1, '空中课堂 一年级'), channel('tv-p2', 2, '空中课堂 二年级')];

const programme = (channelId: string, start: string, stop: string, extra: Partial<GuideListing> = {}) =>
  ({
    channelId,
    lessonId: `${channelId}-${start}`,
    title: '认识钟表（1）',
    subject: 'math',
    grade: 'p1',
    start,
    stop,
    live: false,
    ...extra,
  }) satisfies GuideListing;

/** As ChannelService gives them today (UTC instants, no names), and with everything the curriculum knows. */
const PROGRAMMES: GuideListing[] = [
  programme('tv-p1', '2026-11-23T00:30:00.000Z', '2026-11-23T00:50:00.000Z'),
  programme('tv-p1', '2026-11-23T08:20:00+08:00', '2026-11-23T08:40:00+08:00', {
    title: '数学 第3课 <时间> & "钟表"',
    gradeName: '一年级',
    subjectName: '数学',
    subjectNameEn: 'Maths',
    unit: '第一单元',
    order: 3,
    teacher: '王老师',
    catchupUrl: `${BASE}/channels/tv-p1.m3u8?utc=1&lutc=2`,
  }),
  programme('tv-p2', '2026-11-23T16:00:00.000Z', '2026-11-23T16:20:00.000Z', { order: 12, unit: '第二单元' }),
  // not in the lineup: left out
  programme('tv-web', '2026-11-23T01:00:00.000Z', '2026-11-23T01:20:00.000Z'),
];

/** Debian's copy (xmltv-util); without --dtd-file the validator would fetch the DTD from xmltv.org. */
const DTD = '/usr/share/xmltv/xmltv.dtd';

const validate = async (xml: string, name: string) => {
  const file = join(dir, name);
  writeFileSync(file, xml);
  return run('tv_validate_file', ['--dtd-file', DTD, file]).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      out: err.stdout + err.stderr,
    }),
  );
};

test('tv_validate_file accepts the guide: DTD order, channel ids, times, episode numbers, UTF-8', async () => {
  const xml = renderXmltv(CHANNELS, PROGRAMMES, { generator: 'sky-classroom test' });
  const { code, out } = await validate(xml, 'guide.xml');
  assert.equal(code, 0, `${out}\n${xml}`);
  assert.match(out, /Validated ok/);
});

test('the validator run is live: guides it must reject are rejected', async () => {
  const xml = renderXmltv(CHANNELS, PROGRAMMES).replaceAll('tv-p2.sky-classroom', 'tv_p2');
  const { code, out } = await validate(xml, 'bad.xml');
  assert.equal(code, 1, out);
  assert.match(out, /Invalid channel-id 'tv_p2'/);
  // children out of DTD order
  const swapped = renderXmltv(CHANNELS, PROGRAMMES).replace(
    /(<title lang="zh">数学[^\n]*\n)(\s*<desc[^\n]*\n)/,
    '$2$1',
  );
  const dtd = await validate(swapped, 'order.xml');
  assert.equal(dtd.code, 1, dtd.out);
  assert.match(dtd.out, /does not follow the DTD/);
});

test('the document: prolog, doctype, channels with Chinese names and icons, programmes in Beijing time', () => {
  const xml = renderXmltv(CHANNELS, PROGRAMMES, { generator: 'sky-classroom test' });
  assert.ok(
    xml.startsWith(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<tv generator-info-name="sky-classroom test">\n',
    ),
  );
  assert.match(
    xml,
    /<channel id="tv-p1\.sky-classroom">\s*<display-name lang="zh">空中课堂 一年级<\/display-name>\s*<icon src="https:\/\/tv\.example\.cn\/tv\/logos\/tv-p1\.png\?v=1&amp;size=big"\/>\s*<\/channel>/,
  );
  assert.match(
    xml,
    /<programme start="20261123083000 \+0800" stop="20261123085000 \+0800" channel="tv-p1\.sky-classroom">\s*<title lang="zh">认识钟表（1）<\/title>\s*<category lang="en">Education<\/category>\s*<category lang="zh">教育<\/category>\s*<\/programme>/,
  );
  // a programme after midnight Beijing time is on the next day
  assert.match(
    xml,
    /start="20261124000000 \+0800" stop="20261124002000 \+0800" channel="tv-p2\.sky-classroom"/,
  );
  assert.doesNotMatch(xml, /tv-web/);
  assert.equal((xml.match(/<programme /g) ?? []).length, 3);
});

test('what the curriculum knows becomes the description, presenter, subject category and episode numbers', () => {
  const xml = renderXmltv(CHANNELS, PROGRAMMES);
  const full = /<programme start="20261123082000[^>]*>([\s\S]*?)<\/programme>/.exec(xml)?.[1] ?? '';
  const children = [...full.matchAll(/<([a-z-]+)( [^>]*)?>/g)].map((m) => m[1]);
  assert.deepEqual(children, [
    'title',
    'desc',
    'desc',
    'credits',
    'presenter',
    'category',
    'category',
    'category',
    'category',
    'episode-num',
    'episode-num',
  ]);
  assert.match(full, /<title lang="zh">数学 第3课 &lt;时间&gt; &amp; "钟表"<\/title>/);
  assert.match(full, /<desc lang="zh">一年级 数学 · 第一单元 · 第3课 · 主讲：王老师<\/desc>/);
  assert.match(full, /<credits>\s*<presenter>王老师<\/presenter>\s*<\/credits>/);
  assert.match(full, /<category lang="zh">数学<\/category>\s*<category lang="en">Maths<\/category>/);
  assert.match(full, /<desc lang="en">Primary 1 Maths · Lesson 3 · Teacher: 王老师<\/desc>/);
  // the subject's code appears nowhere: only its names
  assert.doesNotMatch(xml, />math</);
  assert.match(
    full,
    /<episode-num system="xmltv_ns">\.2\.<\/episode-num>\s*<episode-num system="onscreen">第3课<\/episode-num>/,
  );
  // a programme with only some extras gets only those
  assert.match(xml, /<desc lang="zh">第二单元 · 第12课<\/desc>/);
});

test('times are Beijing time whatever the server time zone', () => {
  const saved = process.env['TZ'];
  try {
    for (const tz of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
      process.env['TZ'] = tz;
      assert.equal(xmltvTime('2026-03-01T16:05:09Z'), '20260302000509 +0800');
      assert.equal(xmltvTime('2026-07-01T08:00:00+08:00'), '20260701080000 +0800');
    }
  } finally {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  }
  assert.throws(() => xmltvTime('yesterday'), /not an ISO instant/);
});

test('characters XML cannot carry are dropped instead of breaking the document', async () => {
  const xml = renderXmltv(
    [channel('tv-p1', 1, '空中课堂\u0001 一年级')],
    [
      programme('tv-p1', '2026-11-23T00:30:00Z', '2026-11-23T00:50:00Z', {
        title: 'a\u0008b\uFFFEc\uD800d\u0085',
      }),
    ],
  );
  assert.match(xml, /<display-name lang="zh">空中课堂 一年级<\/display-name>/);
  assert.match(xml, /<title lang="zh">abcd<\/title>/);
  assert.equal((await validate(xml, 'control.xml')).code, 0);
});

test('XMLTV ids are domain-like and distinct', () => {
  assert.equal(xmltvChannelId('tv-p1'), 'tv-p1.sky-classroom');
  const odd = ['tv_p1', 'tv.p1', 'tv..p1'].map(xmltvChannelId);
  for (const id of odd) assert.match(id, /^[-a-zA-Z0-9]+(\.[-a-zA-Z0-9]+)+$/);
  assert.equal(new Set([...odd, 'tv-p1.sky-classroom']).size, 4);
});
