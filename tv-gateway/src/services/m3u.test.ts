import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TvChannel } from '@sky/contracts';
import parser from 'iptv-playlist-parser';
import { renderM3u } from './m3u.js';

const BASE = 'https://tv.example.cn/tv';
const channel = (id: string, number: number, name: string, group: string): TvChannel => ({
  id,
  number,
  name,
  group,
  grades: ['p1'],
  logoUrl: `${BASE}/logos/${id}.png`,
  url: `${BASE}/channels/${id}.m3u8`,
});
const CHANNELS = [
  channel('tv-p1', 1, '空中课堂 一年级', '小学'),
  channel('tv-j1', 7, '空中课堂 初一', '初中'),
  channel('tv-s3', 12, '空中课堂 高三', '高中'),
];
const GUIDE = `${BASE}/guide.xml`;

/** tvg-chno is not one of the parser's fields: read it from the raw line. */
const chno = (raw: string) => /tvg-chno="([^"]*)"/.exec(raw)?.[1];

test('every channel parses back with its number, group, logo, XMLTV id, catch-up and Chinese name intact', () => {
  const text = renderM3u(CHANNELS, { guideUrl: GUIDE, catchupDays: 7 });
  assert.ok(text.startsWith(`#EXTM3U url-tvg="${GUIDE}" x-tvg-url="${GUIDE}"\n`));
  assert.ok(text.endsWith('\n'));
  const playlist = parser.parse(text);
  assert.equal(playlist.header.attrs['x-tvg-url'], GUIDE);
  assert.equal(playlist.items.length, CHANNELS.length);
  playlist.items.forEach((item, i) => {
    const c = CHANNELS[i]!;
    assert.equal(item.name, c.name);
    assert.equal(item.tvg.id, `${c.id}.sky-classroom`);
    assert.equal(item.tvg.name, c.name);
    assert.equal(item.tvg.logo, c.logoUrl);
    assert.equal(chno(item.raw), String(c.number));
    assert.equal(item.group.title, c.group);
    assert.equal(item.url, c.url);
    assert.deepEqual(item.catchup, { type: 'append', days: '7', source: '?utc={utc}&lutc={lutc}' });
  });
  assert.equal(
    text.split('\n')[1],
    '#EXTINF:-1 tvg-id="tv-p1.sky-classroom" tvg-name="空中课堂 一年级" ' +
      `tvg-logo="${BASE}/logos/tv-p1.png" tvg-chno="1" group-title="小学" catchup="append" catchup-days="7" ` +
      'catchup-source="?utc={utc}&lutc={lutc}",空中课堂 一年级',
  );
});

test('a token goes on every channel URL, and catch-up then appends with &', () => {
  const token = 'a+b/c=d&e';
  const playlist = parser.parse(renderM3u(CHANNELS, { guideUrl: `${GUIDE}?token=x`, catchupDays: 3, token }));
  assert.equal(playlist.header.attrs['x-tvg-url'], `${GUIDE}?token=x`);
  for (const [i, item] of playlist.items.entries()) {
    const url = new URL(item.url);
    assert.equal(url.searchParams.get('token'), token);
    assert.equal(`${url.origin}${url.pathname}`, CHANNELS[i]!.url);
    assert.deepEqual(item.catchup, { type: 'append', days: '3', source: '&utc={utc}&lutc={lutc}' });
  }
});

test('without catch-up days the catch-up attributes are left out', () => {
  const text = renderM3u(CHANNELS, { guideUrl: GUIDE, catchupDays: 0 });
  assert.doesNotMatch(text, /catchup/);
  assert.equal(parser.parse(text).items.length, 3);
});

test('quotes and line breaks cannot break out of an attribute or a line', () => {
  const odd: TvChannel = {
    ...channel('tv-x', 99, '空中课堂 "特别"\n节目', '小学\r\n"专题"'),
    logoUrl: `${BASE}/logos/a"b.png`,
    url: `${BASE}/channels/x\ny.m3u8`,
  };
  const text = renderM3u([odd, CHANNELS[0]!], { guideUrl: GUIDE, catchupDays: 7 });
  // header, two #EXTINF lines, two URL lines
  assert.equal(text.trimEnd().split('\n').length, 5);
  const [item, next] = parser.parse(text).items;
  assert.equal(item?.tvg.name, "空中课堂 '特别' 节目");
  assert.equal(item?.name, "空中课堂 '特别' 节目");
  assert.equal(item?.group.title, "小学 '专题'");
  assert.equal(item?.tvg.logo, `${BASE}/logos/a%22b.png`);
  assert.equal(item?.url, `${BASE}/channels/x%0Ay.m3u8`);
  assert.equal(chno(item?.raw ?? ''), '99');
  assert.equal(next?.name, '空中课堂 一年级');
});

test('an id that is not a plain name still gets a valid, distinct tvg-id', () => {
  const text = renderM3u([channel('tv_p1', 1, 'a', '小学'), channel('tv-p1', 2, 'b', '小学')], {
    guideUrl: GUIDE,
    catchupDays: 7,
  });
  const [a, b] = parser.parse(text).items.map((i) => i.tvg.id);
  assert.match(a ?? '', /^tv-p1-[0-9a-f]{6}\.sky-classroom$/);
  assert.equal(b, 'tv-p1.sky-classroom');
});
