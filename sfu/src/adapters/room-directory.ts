// This node's side of the sfu directory in Redis (contracts SFU_DIRECTORY): its record, beaten every
// SFU_DIRECTORY.beatMs, and the leases of the lessons whose room (origin) it runs, renewed with the beat.
// A killed node stops beating: its record and its leases expire, and another node may take a lesson.
import { isBeating, SFU_DIRECTORY, SfuNodeRecord, type RedisTarget } from '@sky/contracts';
import { connectRedis } from '@sky/contracts/redis';

export interface NodeSelf {
  nodeId: string;
  publicUrl: string;
  internalUrl: string;
  capacity: number;
  /** Peers in this node's rooms now. */
  load(): number;
}

export interface RoomDirectory {
  readonly nodeId: string;
  /** Starts beating this node's record (after the server listens: the urls are known then). */
  start(self: NodeSelf): Promise<void>;
  /**
   * Takes the lesson's lease unless a live node holds it: 'mine' (this node is the origin), or the
   * origin's record.
   */
  claim(lessonId: string): Promise<'mine' | SfuNodeRecord>;
  /** Gives a lesson's lease back (its room ended here). */
  release(lessonId: string): Promise<void>;
  /**
   * The live record of the node holding the lesson's lease, when another node does (an edge's origin;
   * after the origin's death, the node where the teacher published again).
   */
  origin(lessonId: string): Promise<SfuNodeRecord | undefined>;
  /** A live node's record, or undefined (never beat, or stale). */
  node(nodeId: string): Promise<SfuNodeRecord | undefined>;
  /** Whether a node's record is still there (beaten within SFU_DIRECTORY.nodeTtlMs). */
  exists(nodeId: string): Promise<boolean>;
  close(): Promise<void>;
}

// Renews (or deletes) a lease only while this node holds it.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function createRoomDirectory(
  target: RedisTarget,
  prefix: string,
  nodeId: string,
  log: { warn(obj: object, msg?: string): void },
): RoomDirectory {
  const redis = connectRedis(target, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis (sfu directory)'));
  const leases = new Set<string>();
  let self: NodeSelf | undefined;
  let timer: NodeJS.Timeout | undefined;

  const parse = (raw: string | null): SfuNodeRecord | undefined => {
    if (!raw) return undefined;
    const rec = SfuNodeRecord.safeParse(JSON.parse(raw));
    if (!rec.success || !isBeating(rec.data, Date.now())) return undefined;
    return rec.data;
  };
  const node = async (id: string) => parse(await redis.get(SFU_DIRECTORY.node(prefix, id)));

  const beat = async () => {
    if (!self) return;
    const rec: SfuNodeRecord = {
      nodeId,
      publicUrl: self.publicUrl,
      internalUrl: self.internalUrl,
      capacity: self.capacity,
      load: self.load(),
      beatAt: Date.now(),
    };
    const m = redis.multi();
    m.set(SFU_DIRECTORY.node(prefix, nodeId), JSON.stringify(rec), 'PX', SFU_DIRECTORY.nodeTtlMs);
    m.sadd(SFU_DIRECTORY.nodes(prefix), nodeId);
    for (const lessonId of leases)
      m.eval(RENEW, 1, SFU_DIRECTORY.lesson(prefix, lessonId), nodeId, SFU_DIRECTORY.leaseTtlMs);
    await m.exec();
  };
  const loop = () => {
    timer = setTimeout(() => {
      beat()
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sfu directory beat failed'))
        .finally(() => {
          if (timer) loop();
        });
    }, SFU_DIRECTORY.beatMs);
  };

  return {
    nodeId,
    async start(s) {
      self = s;
      await beat();
      loop();
    },
    async claim(lessonId) {
      const key = SFU_DIRECTORY.lesson(prefix, lessonId);
      for (let attempt = 0; attempt < 3; attempt++) {
        if ((await redis.set(key, nodeId, 'PX', SFU_DIRECTORY.leaseTtlMs, 'NX')) === 'OK') {
          leases.add(lessonId);
          return 'mine';
        }
        const holder = await redis.get(key);
        if (holder === nodeId) {
          leases.add(lessonId);
          return 'mine';
        }
        if (holder) {
          const rec = await node(holder);
          if (rec) return rec;
          // its node stopped beating: the lease goes (compare-and-delete) and the claim is retried
          await redis.eval(RELEASE, 1, key, holder);
        }
      }
      throw new Error(`no lease for lesson ${lessonId} after 3 attempts`);
    },
    async release(lessonId) {
      if (!leases.delete(lessonId)) return;
      await redis.eval(RELEASE, 1, SFU_DIRECTORY.lesson(prefix, lessonId), nodeId);
    },
    async origin(lessonId) {
      const holder = await redis.get(SFU_DIRECTORY.lesson(prefix, lessonId));
      return holder && holder !== nodeId ? node(holder) : undefined;
    },
    node,
    async exists(id) {
      return (await redis.exists(SFU_DIRECTORY.node(prefix, id))) === 1;
    },
    async close() {
      clearTimeout(timer);
      timer = undefined;
      try {
        for (const lessonId of leases)
          await redis.eval(RELEASE, 1, SFU_DIRECTORY.lesson(prefix, lessonId), nodeId);
        leases.clear();
        await redis.del(SFU_DIRECTORY.node(prefix, nodeId));
        await redis.srem(SFU_DIRECTORY.nodes(prefix), nodeId);
      } finally {
        redis.disconnect();
      }
    },
  };
}
