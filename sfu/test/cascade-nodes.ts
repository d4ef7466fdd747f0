// What the cascade tests share: an sfu node's environment against one real api (its own RTC ports, the
// api's redis and key prefix, the cascade secret), the api's answer of where a lesson's client goes, and
// RTP loss counted as receivers count it, and the nodes' logs when a test fails.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import type { LiveInfo } from '@sky/contracts';
import { reserveRtcPorts, startProcess, type Managed } from '@sky/devkit';
import type { PlainTarget } from './cascade-publish.js';
import { JWT_SECRET, until } from './helpers.js';
import type { RealApi } from './real-api.js';

export const CASCADE_TEST_SECRET = 'cascade-test-secret-of-at-least-32-chars';

/** Node `name`'s environment (src/config.ts), one worker; `extra` on top. */
export function cascadeNodeEnv(
  api: Pick<RealApi, 'url' | 'redisUrl' | 'prefix'>,
  mediaDir: string,
  name: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  // one UDP port per plain viewer: hundreds of them on a node
  const [min, max] = reserveRtcPorts();
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    MEDIASOUP_WORKER_BIN: process.env['MEDIASOUP_WORKER_BIN'] ?? '',
    NUM_WORKERS: '1',
    RTC_MIN_PORT: String(min),
    RTC_MAX_PORT: String(max),
    JWT_SECRET,
    API_URL: api.url,
    MEDIA_DIR: mediaDir,
    REDIS_URL: api.redisUrl,
    // the directory's keys live under the api's (unique) test prefix: the test owns them
    QUEUE_PREFIX: api.prefix,
    CASCADE_SECRET: CASCADE_TEST_SECRET,
    SFU_NODE_ID: `${name}-${process.pid}`,
    ...extra,
  };
}

/** GET /api/lessons/:id/live as `token`'s user, naming the node it could not reach (as clients do). */
export async function askLiveInfo(
  apiUrl: string,
  lessonId: string,
  token: string,
  unreachable?: string,
): Promise<LiveInfo> {
  const query = unreachable ? `?${new URLSearchParams({ unreachable }).toString()}` : '';
  const res = await fetch(`${apiUrl}/api/lessons/${lessonId}/live${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as LiveInfo;
}

/** One SSRC over a window: packets expected (highest − lowest extended sequence number + 1) and seen. */
export interface StreamSum {
  expected: number;
  seen: number;
}

/**
 * RTP loss as receivers count it (RFC 3550 §6.4.1): per SSRC the lowest and highest extended sequence
 * number seen and the distinct ones (a retransmission that crossed its late original counts once).
 */
export class RtpWindow {
  private readonly streams = new Map<number, { first: number; last: number; seen: Set<number> }>();

  add(ssrc: number, seq: number): void {
    const s = this.streams.get(ssrc);
    if (!s) return void this.streams.set(ssrc, { first: seq, last: seq, seen: new Set([seq]) });
    // the extended sequence number nearest the highest one (wraps at 65536; reordering allowed)
    let ext = (s.last & ~0xffff) | seq;
    if (ext < s.last - 0x8000) ext += 0x10000;
    else if (ext > s.last + 0x8000) ext -= 0x10000;
    s.last = Math.max(s.last, ext);
    s.first = Math.min(s.first, ext);
    s.seen.add(ext);
  }

  sums(): StreamSum[] {
    return [...this.streams.values()].map((s) => ({ expected: s.last - s.first + 1, seen: s.seen.size }));
  }
}

/** The share of its packets a receiver got over streams `sums`. */
export const deliveredShare = (sums: readonly StreamSum[]): number =>
  sums.reduce((a, s) => a + s.seen, 0) / sums.reduce((a, s) => a + s.expected, 0);

/** An RTP packet of a teacher's stream: not RTCP (rtcp-mux shares the port), not mediasoup's probation (SSRC 1234). */
export function teacherRtp(msg: Buffer): { ssrc: number; seq: number; payloadType: number } | undefined {
  if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80 || (msg[1]! >= 200 && msg[1]! <= 206)) return undefined;
  const ssrc = msg.readUInt32BE(8);
  if (ssrc === 1234) return undefined;
  return { ssrc, seq: msg.readUInt16BE(2), payloadType: msg[1]! & 0x7f };
}

/** Runs `run`; when it fails, the error and the end of each node's log (all but its info lines) go to stderr. */
export async function withNodeLogs(logs: Record<string, string>, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`${inspect(err)}\n`);
    for (const [name, file] of Object.entries(logs)) {
      const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
      const notInfo = lines.filter((l) => !l.includes('"level":30')).join('\n');
      process.stderr.write(`--- ${name}\n${notInfo.slice(-4000)}\n`);
    }
    throw err;
  }
}

/**
 * An sfu node in a process of its own (cascade-origin-node.ts), a test's to kill, whose teacher (`token`)
 * publishes `lessonId` there as soon as it listens: the node, and where its producers take RTP.
 */
export async function startPublishingNode(
  name: string,
  env: Record<string, string>,
  publish: { token: string; lessonId: string },
  logFile: string,
): Promise<{ node: Managed; targets: PlainTarget[] }> {
  const portsFile = `${logFile}.ports.json`;
  const node = startProcess(
    `sfu-${name}`,
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./cascade-origin-node.ts', import.meta.url))],
    {
      logFile,
      env: {
        ...process.env,
        ...env,
        PUBLISH_TOKEN: publish.token,
        PUBLISH_LESSON: publish.lessonId,
        PUBLISH_PORTS_FILE: portsFile,
      },
    },
  );
  const written = (): PlainTarget[] | undefined => {
    try {
      const targets = JSON.parse(readFileSync(portsFile, 'utf8')) as PlainTarget[];
      return targets.length === 2 ? targets : undefined;
    } catch {
      return undefined; // not written yet
    }
  };
  await until(
    `node ${name} publishes the teacher`,
    () => {
      assert.ok(node.child.exitCode === null, `node ${name} is running`);
      return written() !== undefined;
    },
    30_000,
  );
  return { node, targets: written()! };
}
