// The media store's port: every service reads and writes lesson media through it, never through a path.
// Two adapters: a local folder (storage-local.ts, the embedded default) and S3 (storage-s3.ts).
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
}

export interface ObjectInfo {
  /** The key under the store's root: `lessons/l1/v1/web/master.m3u8`. */
  key: string;
  size: number;
  contentType?: string;
  cacheControl?: string;
}

/** Inclusive byte range, as in an HTTP Range header; `end` absent = to the end. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface ObjectStream extends ObjectInfo {
  body: Readable;
  /** Present for a range read: the bytes `start..end` of `total`. */
  range?: { start: number; end: number; total: number };
}

/** The object asked for is not in the store (a deleted upload, a wrong key). */
export class MediaNotFound extends Error {
  constructor(readonly key: string) {
    super(`no such media object: ${key}`);
  }
}

export interface MediaStorage {
  readonly kind: 'local' | 's3';
  /** Stores a local file under `key`. */
  putFile(key: string, file: string, opts?: PutOptions): Promise<void>;
  putBytes(key: string, body: Uint8Array | string, opts?: PutOptions): Promise<void>;
  /** Stores every file under `dir` at `prefix/<relative path>`, with the type and caching its name calls for. */
  putTree(prefix: string, dir: string): Promise<number>;
  /** The object's bytes (or a range of them); undefined when there is no such object. */
  get(key: string, range?: ByteRange): Promise<ObjectStream | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix/` (or is `prefix`), in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes every object under `prefix/`; answers how many went. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A local file holding the object's bytes, for tools that need a path (ffmpeg, ffprobe): the local adapter
   * answers its own file (read it, never change it), S3 downloads into `workDir`. MediaNotFound if absent.
   */
  localCopy(key: string, workDir: string): Promise<string>;
  /**
   * Makes a finished rendition in `dir` visible at `prefix`, all or nothing for a reader who looks for its
   * `last` files (the masters, in that order, are stored after everything else). `dir` is consumed.
   */
  publish(prefix: string, dir: string, opts: { last: string[] }): Promise<void>;
}

/** The types our media uses (as deploy/nginx.conf serves them); anything else is opaque bytes. */
export const MEDIA_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  vtt: 'text/vtt',
  jpg: 'image/jpeg',
};

export function mediaType(key: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase() ?? '';
  return MEDIA_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * A packaged lesson never changes under its key (a new version gets a new folder), except the playlists,
 * which a reader must revalidate so a re-publish is seen.
 */
export function mediaCacheControl(key: string): string {
  return key.endsWith('.m3u8') ? 'no-cache' : 'public, max-age=31536000, immutable';
}

/**
 * Live HLS (as deploy/nginx.conf serves it): playlists change every segment, so browsers ask again on every
 * reload and caching edges keep them 1 s; a run's init segment likewise. Segments are named by their
 * bridge's making and run, never reused, so they never change once written.
 */
export const LIVE_PLAYLIST_CACHE = 'public, max-age=0, s-maxage=1';

export function liveCacheControl(key: string): string {
  return /\.(m3u8|mp4)$/.test(key) ? LIVE_PLAYLIST_CACHE : 'public, max-age=31536000, immutable';
}

export function mediaPutOptions(key: string): PutOptions {
  return { contentType: mediaType(key), cacheControl: mediaCacheControl(key) };
}

/** A key is a relative, normalised, slash-separated path: no `..`, no leading slash, no empty part. */
export function checkKey(key: string): string {
  const parts = key.split('/');
  if (key.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\')))
    throw new Error(`not a media key: ${JSON.stringify(key)}`);
  return key;
}

/** Every file under `dir`, as slash-separated paths relative to it, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

const Bool = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

/**
 * The store's settings, spread into each service's config schema. S3_BUCKET set = S3; unset = the local
 * folder (MEDIA_DIR). Without keys the SDK's own chain (instance role, ~/.aws) answers.
 */
export const StorageEnv = {
  S3_ENDPOINT: z.url().optional(),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style URLs (`endpoint/bucket/key`): what most self-hosted S3 servers need. */
  S3_FORCE_PATH_STYLE: Bool,
};

export interface S3Settings {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/** The S3 settings of a parsed config, or undefined for the local folder. */
export function s3Settings(c: {
  S3_ENDPOINT?: string | undefined;
  S3_BUCKET?: string | undefined;
  S3_REGION: string;
  S3_ACCESS_KEY_ID?: string | undefined;
  S3_SECRET_ACCESS_KEY?: string | undefined;
  S3_FORCE_PATH_STYLE: boolean;
}): S3Settings | undefined {
  if (!c.S3_BUCKET) return undefined;
  if (Boolean(c.S3_ACCESS_KEY_ID) !== Boolean(c.S3_SECRET_ACCESS_KEY))
    throw new Error('Invalid configuration: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither');
  return {
    bucket: c.S3_BUCKET,
    region: c.S3_REGION,
    forcePathStyle: c.S3_FORCE_PATH_STYLE,
    ...(c.S3_ENDPOINT ? { endpoint: c.S3_ENDPOINT } : {}),
    ...(c.S3_ACCESS_KEY_ID ? { accessKeyId: c.S3_ACCESS_KEY_ID } : {}),
    ...(c.S3_SECRET_ACCESS_KEY ? { secretAccessKey: c.S3_SECRET_ACCESS_KEY } : {}),
  };
}
