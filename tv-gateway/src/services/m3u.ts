import type { TvChannel } from '@sky/contracts';
import { xmltvChannelId } from './xmltv.js';

export interface M3uOptions {
  /** The XMLTV guide, announced in the header (url-tvg for Kodi and TiviMate, x-tvg-url for others). */
  guideUrl: string;
  /** Days of catch-up; 0 leaves the catch-up attributes out. */
  catchupDays: number;
  /** A device token, appended to every channel URL when the operator requires one. */
  token?: string;
}

/** M3U has no escapes: in a text attribute a double quote becomes a single one, line breaks a space. */
const text = (s: string) => s.replace(/[\r\n\v\f\u0085\u2028\u2029]+/g, ' ').replaceAll('"', "'");
/** In a URL, quotes and line breaks are percent-encoded so the URL keeps working. */
const url = (s: string) => s.replace(/["\r\n\v\f\u0085\u2028\u2029]/g, (c) => encodeURIComponent(c));

/**
 * The channel lineup as an extended M3U, as IPTV players and set-top boxes read it: channel number,
 * group (小学/初中/高中), logo, the XMLTV id matching the guide, and catch-up in `append` mode — the
 * player appends `catchup-source` with {utc} (programme start) and {lutc} (now) to the channel URL.
 */
export function renderM3u(channels: readonly TvChannel[], o: M3uOptions): string {
  const lines = [`#EXTM3U url-tvg="${url(o.guideUrl)}" x-tvg-url="${url(o.guideUrl)}"`];
  for (const c of channels) {
    const sep = c.url.includes('?') ? '&' : '?';
    const stream = o.token === undefined ? c.url : `${c.url}${sep}token=${encodeURIComponent(o.token)}`;
    const catchup =
      o.catchupDays > 0
        ? ` catchup="append" catchup-days="${o.catchupDays}"` +
          ` catchup-source="${stream.includes('?') ? '&' : '?'}utc={utc}&lutc={lutc}"`
        : '';
    lines.push(
      `#EXTINF:-1 tvg-id="${xmltvChannelId(c.id)}" tvg-name="${text(c.name)}" tvg-logo="${url(c.logoUrl)}"` +
        ` tvg-chno="${c.number}" group-title="${text(c.group)}"${catchup},${text(c.name)}`,
      url(stream),
    );
  }
  return lines.join('\n') + '\n';
}
