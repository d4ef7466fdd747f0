import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { avcCodec } from '@sky/contracts';
import type { MediaStorage } from '@sky/contracts/storage';
import type { Renderer } from '../adapters/ffmpeg.js';
import { SLATE_TICKS, TICK_SEC } from './timeline.js';

/**
 * The renditions of every linear channel: the slate is rendered at each, in H.264 Main at the level
 * given (which old set-top boxes decode); what a rung's master declares is measured from what it carries.
 */
export const CHANNEL_RUNGS = [
  { name: '720p', width: 1280, height: 720, slateLevel: 31 },
  { name: '360p', width: 640, height: 360, slateLevel: 30 },
] as const;
export type ChannelRung = (typeof CHANNEL_RUNGS)[number]['name'];

/** A stream as a master playlist describes it: peak bits/s and its codecs. */
export interface StreamInfo {
  bandwidth: number;
  codecs: string[];
}

const FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
/** What a slate says: between lessons, or while a channel waits for its live lesson's picture. */
const SLATE_TEXT = { break: '空中课堂\n下一节课马上开始', live: '空中课堂\n直播课马上开始，请稍候' } as const;
export type SlateKind = keyof typeof SLATE_TEXT;
export const SLATE_KINDS = Object.keys(SLATE_TEXT) as [SlateKind, ...SlateKind[]];

/** `slate_00.ts` … one per tick of the slate loop. */
export const slateFile = (i: number) => `slate_${String(i).padStart(2, '0')}.ts`;
export const SLATE_TICKS_FILES = Array.from({ length: SLATE_TICKS }, (_, i) => slateFile(i)) as [
  string,
  ...string[],
];

/** The media bucket, and a claim (in Redis) that lets one gateway render what the others then copy. */
export interface SharedSlates {
  store: MediaStorage;
  /** True for the one caller that may render `name` now (until `ms` pass); false for the others. */
  claim(name: string, ms: number): Promise<boolean>;
}

/** Claims in Redis (SET NX PX): what every gateway sharing a bucket asks before it renders. */
export function redisClaims(
  redis: { set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null> },
  prefix: string,
): SharedSlates['claim'] {
  return async (name, ms) => (await redis.set(`${prefix}:tv:claim:${name}`, '1', 'PX', ms, 'NX')) === 'OK';
}

/** How long the gateway that claimed a slate may take to store it before another renders it itself. */
const SLATE_CLAIM_MS = 120_000;

/**
 * The slate (what a channel shows between lessons) and channel logos, rendered with ffmpeg once per
 * set of parameters into the cache folder, atomically (temp folder, then rename), then only read.
 * With a bucket, the slate is rendered once for every gateway: the first stores it under
 * `slates/<rung>-<hash>/`, and the others copy it from there (same bytes behind every gateway, so an edge
 * caching a slate segment from one serves what the others would).
 */
export class Artwork {
  private slates = new Map<string, Promise<string>>();
  private measured = new Map<string, Promise<StreamInfo>>();
  private logos = new Map<string, Promise<string>>();

  constructor(
    private readonly renderer: Renderer,
    private readonly cacheDir: string,
    private readonly shared?: SharedSlates,
  ) {}

  /** The folder holding the rung's slate segments, rendered if needed. */
  slateDir(rung: ChannelRung, kind: SlateKind = 'break'): Promise<string> {
    const id = `${kind}|${rung}`;
    let p = this.slates.get(id);
    if (!p) {
      p = this.renderSlate(rung, kind);
      this.slates.set(id, p);
      p.catch(() => this.slates.delete(id));
    }
    return p;
  }

  /** Every slate of the rung as a stream: its codecs, and its peak (the largest segment over its 6 s). */
  slateStreams(rung: ChannelRung): Promise<StreamInfo[]> {
    return Promise.all(SLATE_KINDS.map((kind) => this.slateStream(rung, kind)));
  }

  private slateStream(rung: ChannelRung, kind: SlateKind): Promise<StreamInfo> {
    const id = `${kind}|${rung}`;
    let p = this.measured.get(id);
    if (!p) {
      p = (async () => {
        const dir = await this.slateDir(rung, kind);
        const sizes = await Promise.all(SLATE_TICKS_FILES.map(async (f) => (await stat(join(dir, f))).size));
        const r = CHANNEL_RUNGS.find((x) => x.name === rung)!;
        return {
          bandwidth: Math.max(...sizes.map((bytes) => (bytes * 8) / TICK_SEC)),
          codecs: [avcCodec('Main', r.slateLevel), 'mp4a.40.2'],
        };
      })();
      this.measured.set(id, p);
      p.catch(() => this.measured.delete(id));
    }
    return p;
  }

  private async renderSlate(rung: ChannelRung, kind: SlateKind): Promise<string> {
    const r = CHANNEL_RUNGS.find((x) => x.name === rung)!;
    const key = hash(['slate-v2', r.width, r.height, r.slateLevel, SLATE_TEXT[kind], SLATE_TICKS, TICK_SEC]);
    const dir = join(this.cacheDir, `slate-${rung}-${key}`);
    if (existsSync(join(dir, slateFile(SLATE_TICKS - 1)))) return dir;
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const prefix = `slates/${rung}-${key}`;
    if (this.shared && (await this.copyShared(prefix, tmp))) {
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
      return dir;
    }
    await writeFile(join(tmp, 'text.txt'), SLATE_TEXT[kind]);
    const size = Math.round(r.height / 10);
    const fps = 15;
    await this.renderer.render([
      '-f',
      'lavfi',
      '-i',
      `color=c=0x1f4e79:s=${r.width}x${r.height}:r=${fps}`,
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=stereo',
      '-t',
      String(SLATE_TICKS * TICK_SEC),
      '-vf',
      `drawtext=fontfile=${FONT}:textfile=${join(tmp, 'text.txt')}:fontcolor=white:fontsize=${size}:line_spacing=${Math.round(size / 2)}:x=(w-text_w)/2:y=(h-text_h)/2`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-tune',
      'stillimage',
      '-profile:v',
      'main',
      '-level:v',
      (r.slateLevel / 10).toFixed(1),
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(fps * 2),
      '-keyint_min',
      String(fps * 2),
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-ac',
      '2',
      '-ar',
      '48000',
      '-f',
      'hls',
      '-hls_time',
      String(TICK_SEC),
      '-hls_list_size',
      '0',
      '-hls_segment_type',
      'mpegts',
      '-hls_segment_filename',
      join(tmp, 'slate_%02d.ts'),
      join(tmp, 'slate.m3u8'),
    ]);
    const made = (await readdir(tmp)).filter((f) => f.endsWith('.ts')).length;
    if (made !== SLATE_TICKS) throw new Error(`the ${rung} slate has ${made} segments, not ${SLATE_TICKS}`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    if (this.shared) {
      // the last segment last: the others' copyShared takes a slate whose last segment is there as whole
      for (const f of SLATE_TICKS_FILES) await this.shared.store.putFile(`${prefix}/${f}`, join(dir, f));
    }
    return dir;
  }

  /**
   * The slate another gateway stored, copied into `tmp`. While another gateway has claimed it (rendering
   * it now), waits for it; false when this gateway is to render it (it got the claim, or the claimer took
   * longer than SLATE_CLAIM_MS).
   */
  private async copyShared(prefix: string, tmp: string): Promise<boolean> {
    const shared = this.shared!;
    const { store } = shared;
    const giveUpAt = Date.now() + SLATE_CLAIM_MS;
    for (;;) {
      if (await store.head(`${prefix}/${slateFile(SLATE_TICKS - 1)}`)) break;
      if (Date.now() > giveUpAt || (await shared.claim(prefix, SLATE_CLAIM_MS))) return false;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const f of SLATE_TICKS_FILES) {
      const got = await store.get(`${prefix}/${f}`);
      if (!got) return false;
      await pipeline(got.body, createWriteStream(join(tmp, f)));
    }
    return true;
  }

  /** A 256×256 PNG logo with the channel number and name. */
  logo(channelId: string, number: number, name: string): Promise<string> {
    const key = hash(['logo-v1', channelId, number, name]);
    let p = this.logos.get(key);
    if (!p) {
      p = this.renderLogo(key, number, name);
      this.logos.set(key, p);
      p.catch(() => this.logos.delete(key));
    }
    return p;
  }

  private async renderLogo(key: string, number: number, name: string): Promise<string> {
    const file = join(this.cacheDir, `logo-${key}.png`);
    if (existsSync(file)) return file;
    await mkdir(this.cacheDir, { recursive: true });
    const text = join(this.cacheDir, `logo-${key}.txt`);
    await writeFile(text, `${number}\n${name.replace(/^空中课堂\s*/, '')}`);
    const tmp = `${file}.tmp-${process.pid}.png`;
    await this.renderer.render([
      '-f',
      'lavfi',
      '-i',
      'color=c=0x1f4e79:s=256x256',
      '-vf',
      `drawtext=fontfile=${FONT}:textfile=${text}:fontcolor=white:fontsize=56:line_spacing=16:x=(w-text_w)/2:y=(h-text_h)/2`,
      '-frames:v',
      '1',
      tmp,
    ]);
    await rename(tmp, file);
    return file;
  }
}

function hash(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}
