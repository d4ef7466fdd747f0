// npm start: the whole platform on one machine, with embedded mongod and redis-server under .data/.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTS, type ServiceName } from '@sky/contracts';
import {
  generateSampleVideo,
  startMongo,
  startProcess,
  startRedis,
  tieChildrenToLife,
  waitForPort,
  type Managed,
  type MongoHandle,
  type RedisHandle,
} from '@sky/devkit';
import { linkDemoLive, linkDemoMedia } from './demo.ts';
import { ROOT, setupEnv } from './lib.ts';

const DATA = join(ROOT, '.data');
const LOGS = join(DATA, 'logs');
const MEDIA = join(DATA, 'media');
for (const d of [DATA, LOGS, MEDIA]) mkdirSync(d, { recursive: true });

// Killed in any way (SIGKILL included), the platform's processes go with this launcher.
tieChildrenToLife();
const env = process.env;
const port = (name: ServiceName) =>
  Number(env[`${name.toUpperCase().replace('-', '_')}_PORT`] ?? DEFAULT_PORTS[name]);
const say = (msg: string) => console.log(`\x1b[1;34m[sky]\x1b[0m ${msg}`);

const children: Managed[] = [];
let mongo: MongoHandle | undefined;
let redis: RedisHandle | undefined;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  say('stopping…');
  await Promise.all(children.map((c) => c.stop(8000)));
  await Promise.all([redis?.stop(), mongo?.stop()]);
  say('stopped; nothing left running');
  process.exit(code);
}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => void stopAll(0));

function secret(file: string): string {
  const path = join(DATA, file);
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

try {
  let mongoUri = env['MONGODB_URI'];
  if (!mongoUri) {
    const p = Number(env['MONGO_PORT'] ?? 27017);
    say(`starting mongod 4.0 (replica set rs0) on 127.0.0.1:${p}, data in .data/mongo`);
    mongo = await startMongo({ dbPath: join(DATA, 'mongo'), port: p, logFile: join(LOGS, 'mongod.log') });
    mongoUri = mongo.uriFor('sky');
  }
  let redisUrl = env['REDIS_URL'];
  if (!redisUrl) {
    const p = Number(env['REDIS_PORT'] ?? 6379);
    say(`starting redis-server on 127.0.0.1:${p}, data in .data/redis`);
    redis = await startRedis({
      dir: join(DATA, 'redis'),
      port: p,
      logFile: join(LOGS, 'redis.log'),
      persist: true,
    });
    redisUrl = redis.url;
  }

  const sample = join(MEDIA, 'samples', 'demo-lesson.mp4');
  if (!existsSync(sample)) {
    say('generating the sample lesson video with ffmpeg (testsrc2 + sine)');
    await generateSampleVideo(sample, { seconds: 30, width: 1280, height: 720, fps: 25 });
  }

  const loginsFile = join(DATA, 'demo-logins.json');
  const firstRun = !existsSync(loginsFile);
  const urls = Object.fromEntries(
    (Object.keys(DEFAULT_PORTS) as ServiceName[]).map((s) => [s, `http://127.0.0.1:${port(s)}`]),
  ) as Record<ServiceName, string>;
  // Phones and TV boxes on the same network: PUBLIC_URL is where they reach this machine's web, e.g.
  // http://192.168.1.20:8080 (its host counts; the ports stay npm start's). Every service then listens on
  // all interfaces, live media is announced at that host, and the addresses handed to browsers and boxes
  // (the sfu's, the gateway's playlists, its QR codes) use it instead of 127.0.0.1.
  const lan = env['PUBLIC_URL'] ? new URL(env['PUBLIC_URL']) : undefined;
  const reach = (s: ServiceName) => (lan ? `${lan.protocol}//${lan.hostname}:${port(s)}` : urls[s]);
  const onLan = (vars: Record<string, string>) =>
    lan ? Object.fromEntries(Object.entries(vars).filter(([k]) => env[k] === undefined)) : {};
  const common = {
    ...env,
    ...setupEnv(),
    ...onLan({ HOST: '0.0.0.0' }),
    MONGODB_URI: mongoUri,
    REDIS_URL: redisUrl,
    NODE_ENV: env['NODE_ENV'] ?? 'production',
  };
  const services: { name: ServiceName; env: Record<string, string> }[] = [
    {
      name: 'curriculum',
      env: {
        PORT: String(port('curriculum')),
        JWT_SECRET: env['JWT_SECRET'] ?? secret('jwt-secret'),
        SEED_DEMO: 'true',
      },
    },
    {
      name: 'api',
      env: {
        PORT: String(port('api')),
        JWT_SECRET: env['JWT_SECRET'] ?? secret('jwt-secret'),
        MEDIA_DIR: MEDIA,
        WEB_DIST_DIR: join(ROOT, 'web-client', 'dist'),
        SEED_DEMO: 'true',
        SEED_LOGINS_FILE: loginsFile,
        // the sign-in page says where the demo logins are (never set in a deployment)
        DEMO_MODE: 'true',
        SFU_URL: urls.sfu,
        CURRICULUM_URL: urls.curriculum,
        TRANSCODER_URL: urls.transcoder,
        TV_GATEWAY_URL: urls['tv-gateway'],
        // browsers open the live socket at the sfu and the grade channels' playlists at the gateway
        ...onLan({ SFU_PUBLIC_URL: reach('sfu'), TV_PUBLIC_URL: reach('tv-gateway') }),
      },
    },
    {
      name: 'transcoder',
      env: {
        PORT: String(port('transcoder')),
        MEDIA_DIR: MEDIA,
        JWT_SECRET: env['JWT_SECRET'] ?? secret('jwt-secret'),
      },
    },
    {
      name: 'sfu',
      env: {
        PORT: String(port('sfu')),
        JWT_SECRET: env['JWT_SECRET'] ?? secret('jwt-secret'),
        API_URL: urls.api,
        MEDIA_DIR: MEDIA,
        ...onLan({ RTC_LISTEN_IP: '0.0.0.0', RTC_ANNOUNCED_IP: lan?.hostname ?? '' }),
      },
    },
    {
      name: 'tv-gateway',
      env: {
        PORT: String(port('tv-gateway')),
        CURRICULUM_URL: urls.curriculum,
        API_URL: urls.api,
        PUBLIC_URL: reach('tv-gateway'),
        WEB_URL: reach('api'),
        ...onLan({ MEDIA_URL: reach('api') }),
        JWT_SECRET: env['JWT_SECRET'] ?? secret('jwt-secret'),
        CACHE_DIR: join(DATA, 'tv-cache'),
        TV_UI_DIR: join(ROOT, 'web-client', 'dist', 'tv'),
      },
    },
  ];
  for (const s of services) {
    const child = startProcess(s.name, process.execPath, [join(ROOT, s.name, 'dist', 'src', 'main.js')], {
      logFile: join(LOGS, `${s.name}.log`),
      env: { ...common, ...s.env },
      cwd: join(ROOT, s.name),
    });
    children.push(child);
    void child.exited.then((code) => {
      if (stopping) return;
      console.error(`\x1b[1;31m[sky] ${s.name} exited (code ${code}); see .data/logs/${s.name}.log\x1b[0m`);
      void stopAll(1);
    });
  }
  await Promise.all(services.map((s) => waitForPort(port(s.name), 60_000)));
  const deadline = Date.now() + 60_000;
  for (const s of services) {
    for (;;) {
      const ok = await fetch(`${urls[s.name]}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(`${s.name} /healthz is not 200 after 60 s; see .data/logs/${s.name}.log`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  // The live lessons first (quick), then the sample video (waits for its transcode): one plan change at a time.
  void linkDemoLive(urls.api, loginsFile).then(() =>
    firstRun ? linkDemoMedia(urls.api, loginsFile) : undefined,
  );

  console.log('');
  say('空中课堂 Sky Classroom is running:');
  console.log(`  web + api     ${urls.api}${lan ? `   (phones on the network: ${reach('api')})` : ''}`);
  console.log(`  status page   ${urls.api}/status`);
  console.log(`  sfu           ${urls.sfu}/healthz`);
  console.log(`  curriculum    ${urls.curriculum}/healthz`);
  console.log(`  transcoder    ${urls.transcoder}/healthz`);
  console.log(`  TV (10-foot)  ${reach('tv-gateway')}/   (channels.m3u, guide.xml)`);
  console.log(`  logs          .data/logs/`);
  if (firstRun && existsSync(loginsFile)) {
    const logins = JSON.parse(readFileSync(loginsFile, 'utf8')) as {
      role: string;
      username: string;
      password: string;
    }[];
    console.log('\n  Demo logins (shown once; also kept in .data/demo-logins.json, readable only by you):');
    for (const l of logins) console.log(`    ${l.role.padEnd(8)} ${l.username.padEnd(15)} ${l.password}`);
  } else {
    console.log('\n  Demo logins: .data/demo-logins.json');
  }
  console.log('\n  Ctrl-C stops everything.\n');
} catch (err) {
  console.error(`\x1b[1;31m[sky] ${(err as Error).message}\x1b[0m`);
  await stopAll(1);
}
