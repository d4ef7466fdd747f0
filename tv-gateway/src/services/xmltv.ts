import { createHash } from 'node:crypto';
import { BEIJING_OFFSET, GRADE_NAMES, type GuideProgramme, type TvChannel } from '@sky/contracts';
import { create } from 'xmlbuilder2';

/**
 * A guide programme plus what the curriculum knows about the lesson beyond GuideProgramme. The extras
 * are optional until ChannelService supplies them; without them a programme has no description.
 */
/** A guide programme with the names and episode the contract carries (all optional). */
export type GuideListing = GuideProgramme;

export interface XmltvOptions {
  generator?: string;
}

type XmlNode = ReturnType<typeof create>;

/** Keeps XMLTV ids apart from other providers' ids in a box's EPG database. */
export const XMLTV_ID_SUFFIX = 'sky-classroom';

/**
 * The XMLTV id of a channel (also the M3U's tvg-id). XMLTV ids look like domain names
 * (tv_validate_file wants /^[-a-zA-Z0-9]+(\.[-a-zA-Z0-9]+)+$/): plain ids keep their name; any other
 * id gets its odd characters replaced and a short hash of itself, so two ids never share one.
 */
export function xmltvChannelId(id: string): string {
  if (/^[A-Za-z0-9-]+$/.test(id)) return `${id}.${XMLTV_ID_SUFFIX}`;
  const hash = createHash('sha1').update(id).digest('hex').slice(0, 6);
  return `${id.replace(/[^A-Za-z0-9-]/g, '-')}-${hash}.${XMLTV_ID_SUFFIX}`;
}

const BEIJING_MS = Date.parse(`1970-01-01T00:00:00Z`) - Date.parse(`1970-01-01T00:00:00${BEIJING_OFFSET}`);
const XMLTV_ZONE = BEIJING_OFFSET.replace(':', '');

/** `YYYYmmddHHMMSS +0800`: an instant in Beijing time, whatever the server's time zone. */
export function xmltvTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO instant: ${iso}`);
  const d = new Date(ms + BEIJING_MS);
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())} ${XMLTV_ZONE}`
  );
}

/**
 * Characters XML 1.0 cannot carry (C0 controls but tab and line breaks, lone surrogates, U+FFFE/F) are
 * dropped, and C1 controls with them, which tv_validate_file reports as mis-encoded text.
 */
const xmlText = (s: string) => s.replace(/(?![\t\n\r])[\p{Cc}\p{Cs}\uFFFE\uFFFF]/gu, '');

/** 一年级 数学 · 第一单元 · 第3课 · 主讲：王老师 — from whatever is known; undefined when nothing is. */
function description(p: GuideListing): string | undefined {
  const parts = [
    [p.gradeName, p.subjectName].filter((s) => s).join(' '),
    p.unit,
    p.order === undefined ? undefined : `第${p.order}课`,
    p.teacher ? `主讲：${p.teacher}` : undefined,
  ].filter((s): s is string => !!s && s.trim() !== '');
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** The same in English, for boxes set to English: Primary 1 Maths · Lesson 3 · Teacher: 王老师. */
function descriptionEn(p: GuideListing): string | undefined {
  if (!p.subjectNameEn) return undefined;
  return [
    `${GRADE_NAMES[p.grade].en} ${p.subjectNameEn}`,
    p.order === undefined ? undefined : `Lesson ${p.order}`,
    p.teacher ? `Teacher: ${p.teacher}` : undefined,
  ]
    .filter((s): s is string => !!s && s.trim() !== '')
    .join(' · ');
}

function programme(tv: XmlNode, p: GuideListing, channel: string): void {
  const el = tv.ele('programme', { start: xmltvTime(p.start), stop: xmltvTime(p.stop), channel });
  // Children in the order the DTD's content model demands.
  el.ele('title', { lang: 'zh' }).txt(xmlText(p.title));
  const desc = description(p);
  if (desc) el.ele('desc', { lang: 'zh' }).txt(xmlText(desc));
  const descEn = descriptionEn(p);
  if (descEn) el.ele('desc', { lang: 'en' }).txt(xmlText(descEn));
  if (p.teacher) el.ele('credits').ele('presenter').txt(xmlText(p.teacher));
  el.ele('category', { lang: 'en' }).txt('Education');
  el.ele('category', { lang: 'zh' }).txt('教育');
  // the subject by its names, never by its code
  if (p.subjectName) el.ele('category', { lang: 'zh' }).txt(xmlText(p.subjectName));
  if (p.subjectNameEn) el.ele('category', { lang: 'en' }).txt(xmlText(p.subjectNameEn));
  if (p.taughtLive) {
    // XMLTV has no "live" element: a category says it, as broadcasters' guides do
    el.ele('category', { lang: 'en' }).txt('Live');
    el.ele('category', { lang: 'zh' }).txt('直播');
  }
  if (p.order !== undefined) {
    // xmltv_ns counts from zero: season.episode.part, here no season and no parts.
    el.ele('episode-num', { system: 'xmltv_ns' }).txt(`.${p.order - 1}.`);
    el.ele('episode-num', { system: 'onscreen' }).txt(`第${p.order}课`);
  }
}

/**
 * The programme guide as XMLTV (what set-top boxes and IPTV players read beside the M3U): every
 * channel, then the programmes in the order given; programmes of channels not listed are left out.
 */
export function renderXmltv(
  channels: readonly TvChannel[],
  programmes: readonly GuideListing[],
  o: XmltvOptions = {},
): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' }).dtd({ name: 'tv', sysID: 'xmltv.dtd' });
  const tv = doc.ele('tv', { 'generator-info-name': xmlText(o.generator ?? 'sky-classroom tv-gateway') });
  const ids = new Map<string, string>();
  for (const c of channels) {
    const id = xmltvChannelId(c.id);
    ids.set(c.id, id);
    tv.ele('channel', { id })
      .ele('display-name', { lang: 'zh' })
      .txt(xmlText(c.name))
      .up()
      .ele('icon', { src: xmlText(c.logoUrl) });
  }
  for (const p of programmes) {
    const channel = ids.get(p.channelId);
    if (channel) programme(tv, p, channel);
  }
  return doc.end({ prettyPrint: true }) + '\n';
}
