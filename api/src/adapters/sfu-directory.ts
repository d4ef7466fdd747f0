// The api's read of the sfu directory (contracts SFU_DIRECTORY; the sfu nodes write it): which node
// runs a lesson's room, which nodes are alive and how loaded.
import { SFU_DIRECTORY, SfuNodeRecord, chooseSfuNode, type RedisTarget } from '@sky/contracts';
import { connectRedis } from '@sky/contracts/redis';

export interface SfuDirectory {
  /** The public url of the node a lesson's next client should use; undefined while no node beats. */
  urlFor(lessonId: string, unreachable?: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export function createSfuDirectory(
  target: RedisTarget,
  prefix: string,
  onError: (err: Error) => void,
): SfuDirectory {
  const redis = connectRedis(target, { maxRetriesPerRequest: 1 });
  redis.on('error', onError);
  return {
    async urlFor(lessonId, unreachable) {
      const [ids, origin] = await Promise.all([
        redis.smembers(SFU_DIRECTORY.nodes(prefix)),
        redis.get(SFU_DIRECTORY.lesson(prefix, lessonId)),
      ]);
      if (ids.length === 0) return undefined;
      const raws = await redis.mget(ids.map((id) => SFU_DIRECTORY.node(prefix, id)));
      const nodes: SfuNodeRecord[] = [];
      const gone: string[] = [];
      raws.forEach((raw, i) => {
        const rec = raw ? SfuNodeRecord.safeParse(JSON.parse(raw)) : undefined;
        if (rec?.success) nodes.push(rec.data);
        else gone.push(ids[i]!);
      });
      // expired records leave their id in the set: tidy it (a node beats itself back in)
      if (gone.length) await redis.srem(SFU_DIRECTORY.nodes(prefix), ...gone);
      return chooseSfuNode(nodes, origin ?? undefined, Date.now(), unreachable)?.publicUrl;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
