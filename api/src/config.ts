import { DEFAULT_PORTS, LogLevel, parseConfig, RedisEnv, trustedProxies } from '@sky/contracts';
import { StorageEnv } from '@sky/contracts/storage';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const ApiConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.api),
  LOG_LEVEL: LogLevel,
  /**
   * A replica-set URI (`mongodb://a,b,c/sky?replicaSet=rs0`) follows an election; writes are majority
   * and retryable unless the URI says otherwise (`w=`, `retryWrites=`).
   */
  MONGODB_URI: z.string().startsWith('mongodb'),
  /** REDIS_URL or Sentinel, and optional Redis of their own for the queues and the analytics ingest. */
  ...RedisEnv,
  /** Queue names are prefixed, so tests and several deployments can share one Redis. */
  QUEUE_PREFIX: z.string().default('sky'),
  /**
   * Channel prefix of the socket.io Redis adapter (default `<QUEUE_PREFIX>:sio`): api processes with
   * the same one share rooms; tests and deployments with different ones never hear each other.
   */
  SOCKET_IO_KEY: z.string().min(1).optional(),
  /** How long a Q&A pairing code for a TV second screen stays valid. */
  QA_PAIRING_TTL_SEC: z.coerce.number().int().min(1).max(3600).default(600),
  JWT_SECRET: z.string().min(32, 'use at least 32 random characters'),
  ACCESS_TOKEN_TTL_SEC: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_SEC: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 24 * 3600),
  /**
   * Login throttling, counted in Redis so it holds across api replicas: this many wrong passwords in a
   * row for one username from one address, or in all from one address within the window, block that
   * pair (or address) for LOGIN_BLOCK_SEC. A successful login clears the username + address count.
   */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  LOGIN_FAILURE_WINDOW_SEC: z.coerce.number().int().min(1).default(3600),
  LOGIN_BLOCK_SEC: z.coerce.number().int().min(1).default(900),
  /**
   * How long a temporary password from an admin's reset works (default 72 h): unused by then, it is
   * refused with TEMPORARY_PASSWORD_EXPIRED, so one read out over the phone or left in a chat goes stale.
   */
  TEMPORARY_PASSWORD_TTL_SEC: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(72 * 3600),
  MEDIA_DIR: z.string().min(1),
  /** S3_BUCKET set: packaged lessons are served from the bucket (the transcoder publishes there). */
  ...StorageEnv,
  /** The built web client (web-client/dist); served at / when set. */
  WEB_DIST_DIR: z.string().optional(),
  /** Largest lesson video a teacher may upload (tus). */
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  FFPROBE_PATH: z.string().default('ffprobe'),
  /**
   * Which proxies' X-Forwarded-For is believed (client addresses drive rate limits, the TV gateway's
   * pairing limits through /api/tv, and logs): comma-separated addresses / CIDRs / `loopback`, or `none`.
   * Default `loopback`: `npm start`'s TV gateway and a local nginx; a client connecting from anywhere
   * else is taken at its socket address. Behind nginx in a container network name nginx's address (and
   * the TV gateway's, which forwards boxes' beacons) — never a whole range that clients share.
   */
  TRUST_PROXY: trustedProxies('loopback'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
  SFU_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.sfu}`),
  /** The sfu origin browsers connect to for live lessons (socket.io /live); defaults to SFU_URL. */
  SFU_PUBLIC_URL: z.url().optional(),
  /**
   * Several sfu nodes (issue 16): every node's public url (its SFU_PUBLIC_URL), comma-separated. The
   * pages' CSP lets browsers connect to these and SFU_PUBLIC_URL only, and a node the sfu directory names
   * that is not listed is never handed to a browser (the default node is, and the api warns). Unset: the
   * CSP names SFU_PUBLIC_URL alone and the directory's nodes are handed out unchecked (one origin for all).
   */
  SFU_PUBLIC_URLS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'an http(s) url' })).min(1))
    .optional(),
  CURRICULUM_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.curriculum}`),
  TRANSCODER_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS.transcoder}`),
  TV_GATEWAY_URL: z.url().default(`http://127.0.0.1:${DEFAULT_PORTS['tv-gateway']}`),
  /**
   * `npm start`'s demo: the sign-in page says where the generated demo logins are. Off by default, and
   * never on in a deployment (docker-compose.yml leaves it out).
   */
  DEMO_MODE: bool.default(false),
  /**
   * Where browsers reach the TV gateway (its PUBLIC_URL): the web plays the grade channels from there, so
   * the pages may connect to it. Defaults to TV_GATEWAY_URL; behind nginx it is the site itself (/tv/).
   */
  TV_PUBLIC_URL: z.url().optional(),
  /** First run on an empty database: create demo users and a sample lesson. */
  SEED_DEMO: bool.default(false),
  /** A video inside MEDIA_DIR that the demo lesson is transcoded from. */
  SEED_SAMPLE: z.string().default('samples/demo-lesson.mp4'),
  /** Where the seed writes the demo logins it generated (printed once on the console too). */
  SEED_LOGINS_FILE: z.string().optional(),
  // ---- Viewing analytics (issue 7): POST /api/analytics/beacons → Redis stream → aggregator → rollups.
  /**
   * Where the aggregator runs: `inline` inside this api process (simple `npm start`), `off` when
   * separate `analytics-worker` processes run it (node api/dist/src/analytics-worker.js, same env).
   */
  ANALYTICS_WORKER: z.enum(['inline', 'off']).default('inline'),
  /**
   * The aggregator's checkpoint and lease name (shard 0's; shard n's is `<name>.s<n>`): a restarted
   * worker must keep it.
   */
  ANALYTICS_CONSUMER: z
    .string()
    .regex(/^[\w.-]{1,60}$/)
    .default('aggregator-1'),
  /**
   * Beacon stream shards (by viewer, so each session's events stay in order on one), each with its own
   * aggregator; the api and every worker must agree. Change it only with every shard drained.
   */
  ANALYTICS_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  /** The shards this process aggregates (`all`, or e.g. `0,2`); a shard another process holds waits as its standby. */
  ANALYTICS_WORKER_SHARDS: z
    .string()
    .regex(/^(all|\d{1,2}(,\d{1,2})*)$/, 'all, or shard numbers separated by commas')
    .default('all'),
  /** The heartbeat interval every beacon answer tells clients to use; raise it under load. */
  ANALYTICS_HEARTBEAT_SEC: z.coerce.number().int().min(5).max(300).default(30),
  /** Largest beacon batch: more events or bytes → 413. */
  ANALYTICS_MAX_BATCH_EVENTS: z.coerce.number().int().min(1).max(5000).default(200),
  ANALYTICS_MAX_BATCH_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  /**
   * Anonymous viewer ids (POST /api/analytics/viewer) one client address may get per window: with the
   * session budget below, what bounds the views anonymous clients can add.
   */
  ANALYTICS_VIEWER_ISSUE_MAX: z.coerce.number().int().min(1).default(10),
  ANALYTICS_VIEWER_ISSUE_WINDOW_SEC: z.coerce.number().int().min(1).default(3600),
  /** Playback sessions one viewer may open per window; events of further sessions are not counted. */
  ANALYTICS_VIEWER_SESSIONS_MAX: z.coerce.number().int().min(1).default(30),
  ANALYTICS_VIEWER_SESSIONS_WINDOW_SEC: z.coerce.number().int().min(1).default(3600),
  /** Beacon requests per client (the signed-in user, else the signed viewer id) per window, in Redis. */
  ANALYTICS_RATE_MAX: z.coerce.number().int().min(1).default(120),
  ANALYTICS_RATE_WINDOW_SEC: z.coerce.number().int().min(1).default(60),
  /** How long after a session's last event a resent eventId is still recognised as a duplicate. */
  ANALYTICS_DEDUPE_TTL_SEC: z.coerce
    .number()
    .int()
    .min(60)
    .default(6 * 3600),
  /**
   * Events accepted and not yet applied that the streams may hold (all shards together; ≈ 350 bytes of
   * Redis each): past it the ingest answers 503 OVERLOADED with Retry-After and takes nothing, so an
   * aggregator that stalls never costs an accepted event. Nothing unapplied is ever trimmed.
   */
  ANALYTICS_BACKLOG_MAX_EVENTS: z.coerce.number().int().min(1000).default(1_000_000),
  /** Retry-After of those 503s (clients add their own backoff and jitter). */
  ANALYTICS_OVERLOADED_RETRY_SEC: z.coerce.number().int().min(1).max(600).default(10),
  /**
   * Redis replicas that must hold a beacon batch before the ingest acknowledges it (WAIT after the write;
   * 0: none, for a Redis without replicas). With Sentinel set it to 1: a batch the master took but could
   * not pass on within ANALYTICS_REPLICA_ACK_TIMEOUT_MS is answered 503 and sent again by its client, so
   * a failover never loses an acknowledged beacon.
   */
  ANALYTICS_REPLICA_ACKS: z.coerce.number().int().min(0).max(16).default(0),
  ANALYTICS_REPLICA_ACK_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(1000),
  /** The aggregator flushes after this many events or this many ms, whichever comes first. */
  ANALYTICS_FLUSH_EVENTS: z.coerce.number().int().min(1).max(50_000).default(5000),
  ANALYTICS_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Days the unique-viewer HyperLogLogs are kept. */
  ANALYTICS_HLL_TTL_DAYS: z.coerce.number().int().min(1).default(400),
  /**
   * The aggregator's lease on its consumer name: one process at a time applies a consumer's entries
   * (others with the same name stand by); a killed holder delays the takeover by up to this long.
   */
  ANALYTICS_LEASE_SEC: z.coerce.number().int().min(1).max(600).default(15),
  /** Backlog (events, all shards) above which beacon answers double heartbeatSec (up to 300 s) to shed load. */
  ANALYTICS_BACKLOG_HIGH: z.coerce.number().int().min(1).default(200_000),
  /** Sessions whose view state each aggregator keeps in memory (least recently heard go first), sparing Mongo reads. */
  ANALYTICS_SESSION_CACHE_MAX: z.coerce.number().int().min(1).default(200_000),
  /** Fault injection for the crash test only: the aggregator SIGKILLs itself after this many commits, before its trim. */
  ANALYTICS_CRASH_AFTER_COMMITS: z.coerce.number().int().min(1).optional(),
  /** Fault injection for the crash tests only: SIGKILL inside this flush's transaction, its rollups written, before it commits. */
  ANALYTICS_CRASH_MID_FLUSH: z.coerce.number().int().min(1).optional(),
});
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): ApiConfig {
  return parseConfig(ApiConfigSchema, env);
}
