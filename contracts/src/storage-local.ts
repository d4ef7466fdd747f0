// The media store as one local folder: what every service shared before object storage, and still the
// embedded default of `npm start`. A rendition is published by one rename, so it appears whole.
import { createReadStream } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  checkKey,
  filesUnder,
  mediaPutOptions,
  MediaNotFound,
  type ByteRange,
  type MediaStorage,
  type ObjectInfo,
} from './storage.js';

export function createLocalStorage(root: string): MediaStorage {
  const path = (key: string) => join(root, checkKey(key));
  const info = async (key: string): Promise<ObjectInfo | undefined> => {
    const s = await stat(path(key)).catch(() => undefined);
    return s?.isFile() ? { key, size: s.size, ...mediaPutOptions(key) } : undefined;
  };
  const put = async (key: string, write: (file: string) => Promise<void>) => {
    const file = path(key);
    await mkdir(dirname(file), { recursive: true });
    // written beside and renamed: a reader never opens half a file
    const tmp = `${file}.${process.pid}.${Date.now()}.part`;
    try {
      await write(tmp);
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
  };
  return {
    kind: 'local',
    putFile: (key, file) => put(key, (tmp) => copyFile(file, tmp)),
    putBytes: (key, body) => put(key, (tmp) => writeFile(tmp, body)),
    async putTree(prefix, dir) {
      const files = await filesUnder(dir);
      for (const f of files) await put(`${prefix}/${f}`, (tmp) => copyFile(join(dir, f), tmp));
      return files.length;
    },
    async get(key, range?: ByteRange) {
      const meta = await info(key);
      if (!meta) return undefined;
      if (!range) return { ...meta, body: createReadStream(path(key)) };
      const end = Math.min(range.end ?? meta.size - 1, meta.size - 1);
      return {
        ...meta,
        body: createReadStream(path(key), { start: range.start, end }),
        range: { start: range.start, end, total: meta.size },
      };
    },
    head: info,
    async list(prefix) {
      const dir = path(prefix);
      const one = await info(prefix);
      const files = await filesUnder(dir).catch(() => []);
      const all = await Promise.all(files.map((f) => info(`${prefix}/${f}`)));
      return [...(one ? [one] : []), ...all.filter((o): o is ObjectInfo => o !== undefined)];
    },
    async deletePrefix(prefix) {
      const dir = path(prefix);
      const n = (await info(prefix)) ? 1 : (await filesUnder(dir).catch(() => [])).length;
      await rm(dir, { recursive: true, force: true });
      return n;
    },
    localCopy: async (key) => {
      if (!(await info(key))) throw new MediaNotFound(key);
      return path(key);
    },
    async publish(prefix, dir) {
      const final = path(prefix);
      await mkdir(dirname(final), { recursive: true });
      try {
        await rename(dir, final);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        // another filesystem: copied beside the final folder first, so the last step is still one rename
        const staging = await mkdtemp(`${final}.publishing-`);
        try {
          await cp(dir, staging, { recursive: true });
          await rename(staging, final);
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
