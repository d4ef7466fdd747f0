// The api's read of the sfu directory (contracts SFU_DIRECTORY; the sfu nodes write it): which node
// runs a lesson's room, which nodes are alive and how loaded.
import {
  SFU_DIRECTORY,
  SfuNodeRecord,
  chooseSfuNode,
  isBeating,
  type RedisTarget,
  type SfuNodeAsk,
} from '@sky/contracts';
import { connectRedis } from '@sky/contracts/redis';

export interface SfuDirectory {
  /** The public url of the node a lesson's next client should use; undefined while no node beats. */
  urlFor(lessonId: string, ask: SfuNodeAsk): Promise<string | undefined>;
  /** The nodes beating now (a record not renewed within SFU_DIRECTORY.staleMs is not). */
  beating(): Promise<SfuNodeRecord[]>;
  close(): Promise<void>;
}

/**
 * One read at a time per key, shared by every ask that arrives while it runs: a dead node's viewers all
 * ask at once, and hundreds of identical reads would queue the api behind Redis round trips.
 */
function shared<V>(read: (key: string) => Promise<V>): (key: string) => Promise<V> {
  const pending = new Map<string, Promise<V>>();
  return (key) => {
    let p = pending.get(key);
    if (!p) {
      p = read(key).finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };
}

export function createSfuDirectory(
  target: RedisTarget,
  prefix: string,
  onError: (err: Error) => void,
): SfuDirectory {
  const redis = connectRedis(target, { maxRetriesPerRequest: 1 });
  redis.on('error', onError);
  const nodes = shared(async (): Promise<SfuNodeRecord[]> => {
    const ids = await redis.smembers(SFU_DIRECTORY.nodes(prefix));
    if (ids.length === 0) return [];
    const raws = await redis.mget(ids.map((id) => SFU_DIRECTORY.node(prefix, id)));
    const found: SfuNodeRecord[] = [];
    const gone: string[] = [];
    raws.forEach((raw, i) => {
      const rec = raw ? SfuNodeRecord.safeParse(JSON.parse(raw)) : undefined;
      if (rec?.success) found.push(rec.data);
      else gone.push(ids[i]!);
    });
    // expired records leave their id in the set: tidy it (a node beats itself back in)
    if (gone.length) await redis.srem(SFU_DIRECTORY.nodes(prefix), ...gone);
    return found;
  });
  const origin = shared((lessonId) => redis.get(SFU_DIRECTORY.lesson(prefix, lessonId)));
  return {
    async urlFor(lessonId, ask) {
      const [live, originId] = await Promise.all([nodes(''), origin(lessonId)]);
      if (live.length === 0) return undefined;
      return chooseSfuNode(live, originId ?? undefined, Date.now(), ask)?.publicUrl;
    },
    async beating() {
      const now = Date.now();
      return (await nodes('')).filter((n) => isBeating(n, now));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
