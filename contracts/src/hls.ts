// HLS playlists as the transcoder writes them and the TV gateway reads them: one reader of master and
// media playlists, and the RFC 6381 codec strings of H.264 (what CODECS says a player must decode).

/** A variant of a master playlist (EXT-X-STREAM-INF and the URI after it). */
export interface MasterVariant {
  uri: string;
  /** Peak bits/s; 0 when the tag had none. */
  bandwidth: number;
  averageBandwidth?: number;
  codecs: string[];
  width?: number;
  height?: number;
}

export interface MediaPlaylistSegment {
  uri: string;
  durationSec: number;
}

/** Attributes of a tag (`A=1,B="x,y"`), quoted values unquoted. */
export function tagAttributes(list: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
    const value = m[2]!;
    out.set(m[1]!, value.startsWith('"') ? value.slice(1, -1) : value);
  }
  return out;
}

/** Variants of a master playlist, in its order. */
export function parseMasterPlaylist(text: string): MasterVariant[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const out: MasterVariant[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return;
    const uri = lines.slice(i + 1).find((l) => l !== '' && !l.startsWith('#'));
    if (!uri) return;
    const a = tagAttributes(line.slice('#EXT-X-STREAM-INF:'.length));
    const res = /^(\d+)x(\d+)$/.exec(a.get('RESOLUTION') ?? '');
    const average = Number(a.get('AVERAGE-BANDWIDTH'));
    out.push({
      uri,
      bandwidth: Number(a.get('BANDWIDTH')) || 0,
      ...(average > 0 ? { averageBandwidth: average } : {}),
      codecs: (a.get('CODECS') ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
      ...(res ? { width: Number(res[1]), height: Number(res[2]) } : {}),
    });
  });
  return out;
}

/** Segments of a media playlist: URI and EXTINF duration. */
export function parseMediaPlaylist(text: string): MediaPlaylistSegment[] {
  const out: MediaPlaylistSegment[] = [];
  let duration: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line !== '' && !line.startsWith('#') && duration !== undefined) {
      out.push({ uri: line, durationSec: duration });
      duration = undefined;
    }
  }
  return out;
}

/** An H.264 stream as CODECS names it: profile_idc, the constraint flags byte and level_idc. */
export interface Avc {
  profileIdc: number;
  constraints: number;
  /** Level × 10 (31 = 3.1). */
  level: number;
}

/** RFC 6381 `avc1.PPCCLL` of an H.264 stream from ffprobe's profile name and level. */
export function avcCodec(profile: string, level: number): string {
  const p = profile.toLowerCase();
  const [idc, constraints] = p.includes('high')
    ? [0x64, 0x00]
    : p.includes('main')
      ? [0x4d, 0x40]
      : [0x42, 0xe0];
  return formatAvc({ profileIdc: idc, constraints, level });
}

const hex = (n: number) => n.toString(16).padStart(2, '0');
export const formatAvc = (a: Avc) => `avc1.${hex(a.profileIdc)}${hex(a.constraints)}${hex(a.level)}`;

/** `avc1.64001f` → its parts; undefined for anything else (audio, HEVC). */
export function parseAvc(codec: string): Avc | undefined {
  const m = /^avc[13]\.([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(codec.trim());
  if (!m) return undefined;
  return {
    profileIdc: Number.parseInt(m[1]!, 16),
    constraints: Number.parseInt(m[2]!, 16),
    level: Number.parseInt(m[3]!, 16),
  };
}

/** Baseline < Main < High: a decoder of a later one decodes the earlier (the profiles set-top boxes meet). */
const PROFILE_RANK: Record<number, number> = { 0x42: 0, 0x4d: 1, 0x58: 1, 0x64: 2 };

/**
 * The one CODECS list a player must support to decode every stream named: the highest H.264 profile and
 * the highest level among them (a High 4.0 decoder plays Main 3.1), and every other codec once.
 */
export function strictestCodecs(lists: readonly (readonly string[])[]): string[] {
  let video: Avc | undefined;
  const others: string[] = [];
  for (const codec of lists.flat()) {
    const avc = parseAvc(codec);
    if (!avc) {
      if (!others.includes(codec)) others.push(codec);
      continue;
    }
    if (!video) {
      video = avc;
      continue;
    }
    const rank = (a: Avc) => PROFILE_RANK[a.profileIdc] ?? 2;
    const top = rank(avc) > rank(video) ? avc : video;
    video = { ...top, level: Math.max(video.level, avc.level) };
  }
  return [...(video ? [formatAvc(video)] : []), ...others];
}
