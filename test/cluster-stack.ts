// The failover tests' replica set and Sentinel Redis are devkit's, which `npm run start:cluster` runs too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export {
  startReplicaSet,
  startSentinelRedis,
  until,
  type MongoMember,
  type ReplicaSet,
  type SentinelRedis,
} from '@sky/devkit';

/** A temp folder for a cluster's data and logs; `remove` deletes it (kept on failure for whoever looks). */
export function clusterDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sky-cluster-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
