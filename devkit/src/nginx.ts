// deploy/nginx.conf and deploy/nginx-edge.conf run by a real nginx (Debian's nginx-light), in the
// foreground on 127.0.0.1: blocks cut out of the templates for tests, whole confs for `npm run start:cluster`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { startProcess, type Managed } from './process.js';

/** The repository's deploy/ folder (devkit/dist/src → ../../../deploy). */
const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));

/** The environment deploy/nginx.conf's template is rendered with (compose's nginx service sets these). */
export interface DeployConfEnv {
  SFU_PUBLIC_URL?: string;
  /** Every sfu node's public url, comma-separated (the api's SFU_PUBLIC_URLS). */
  SFU_PUBLIC_URLS?: string;
}

/**
 * The conf as the nginx image renders its template: deploy/nginx-csp.envsh sourced by sh (as the image's
 * entrypoint does), then every `${NAME}` the environment defines filled in (its envsubst), nothing else.
 */
export function deployConf(env: DeployConfEnv = { SFU_PUBLIC_URL: 'http://127.0.0.1:8081' }): string {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const sourced = spawnSync('sh', ['-c', '. "$1" && env -0', 'sh', join(DEPLOY, 'nginx-csp.envsh')], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...given },
    encoding: 'utf8',
  });
  if (sourced.status !== 0) throw new Error(`deploy/nginx-csp.envsh failed: ${sourced.stderr}`);
  const vars = new Map(
    sourced.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
  );
  return readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (m, name: string) => vars.get(name) ?? m,
  );
}

/** A `name … { … }` block of the conf starting at `start`, braces matched. */
export function block(conf: string, start: number): string {
  let depth = 0;
  for (let i = conf.indexOf('{', start); i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    if (conf[i] === '}' && --depth === 0) return conf.slice(start, i + 1);
  }
  throw new Error('unbalanced braces in deploy/nginx.conf');
}

/** The conf's top-level maps (http context). */
export function maps(conf: string): string[] {
  return [...conf.matchAll(/^map\s/gm)].map((m) => block(conf, m.index));
}

export interface Nginx {
  base: string;
  port: number;
  process: Managed;
  /** SIGTERM (nginx's fast shutdown); `process.exited` says when it is gone. */
  stop(): void;
}

export interface NginxOptions {
  /** The port on 127.0.0.1 (default: a free one). */
  port?: number;
  /**
   * Run a master process (with one worker and the cache manager, as a deployment does); default off, one
   * process that a test stops with a signal.
   */
  master?: boolean;
}

/** nginx in the foreground on a free port of 127.0.0.1, `server` inside its server block, files under `dir`. */
export function startNginx(dir: string, server: string, httpExtra: string[] = []): Promise<Nginx> {
  return startNginxHttp(dir, (listen) => `${httpExtra.join('\n')}\n  server { listen ${listen}; ${server} }`);
}

/**
 * deploy/nginx-edge.conf as its template is rendered (the origin's host:port), listening on `listen`, its
 * caches under `cacheDir`.
 */
export function edgeConf(o: { origin: string; cacheDir: string; listen: string }): string {
  const conf = readFileSync(join(DEPLOY, 'nginx-edge.conf'), 'utf8');
  if (!conf.includes('listen 80;')) throw new Error('deploy/nginx-edge.conf listens on 80');
  return conf
    .replaceAll('${SKY_ORIGIN}', o.origin)
    .replaceAll('/var/cache/nginx/', `${o.cacheDir}/`)
    .replace('listen 80;', `listen ${o.listen};`);
}

/**
 * deploy/nginx.conf for a cluster on one machine: the same server, its api and TV gateway upstreams
 * spread over several processes (`host:port` each), the web client from `webDist`, every sfu node in its
 * pages' CSP (rendered as compose's nginx renders it). `/media/` goes to the
 * api processes, which apply the same allow-list and headers and read packaged lessons and live HLS from S3
 * (compose's nginx sends those two prefixes to its api too). Each answer names the process that gave it (`X-Sky-Upstream`).
 */
export function originConf(o: {
  listen: string;
  api: string[];
  tvGateway: string[];
  webDist: string;
  /** Every sfu node's public url: the pages' CSP lets browsers reach each (http and ws). */
  sfuPublicUrls: string[];
}): string {
  if (!o.sfuPublicUrls.length) throw new Error('originConf needs at least one sfu url');
  // the CSP as compose's nginx makes it: the same template and script, the api's SFU_PUBLIC_URLS
  let conf = deployConf({ SFU_PUBLIC_URLS: o.sfuPublicUrls.join(',') });
  const media = block(conf, conf.indexOf('location /media/'));
  conf = conf
    .replace(
      media,
      `location /media/ {
    proxy_pass http://sky_api;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Real-IP $remote_addr;
  }`,
    )
    .replaceAll('proxy_pass http://api:8080;', 'proxy_pass http://sky_api;')
    .replaceAll('proxy_pass http://tv-gateway:8090/;', 'proxy_pass http://sky_tv/;')
    .replace('root /usr/share/nginx/html;', `root ${o.webDist};`)
    .replace('server_name _;', 'server_name _;\n  add_header X-Sky-Upstream $upstream_addr always;');
  if (!conf.includes('listen 80;') || conf.includes('api:8080') || conf.includes('tv-gateway:8090'))
    throw new Error('deploy/nginx.conf changed: originConf no longer knows where its upstreams are');
  // no upstream keepalive: these locations speak HTTP/1.0 to the upstream (deploy/nginx.conf), and a
  // kept connection got 400s from the api there
  const upstream = (name: string, hosts: string[]) =>
    `upstream ${name} {\n${hosts.map((h) => `  server ${h} max_fails=1 fail_timeout=2s;`).join('\n')}\n}`;
  return [
    upstream('sky_api', o.api),
    upstream('sky_tv', o.tvGateway),
    conf.replace('listen 80;', `listen ${o.listen};`),
  ].join('\n');
}

/**
 * A master started as root runs its workers as `nobody`, who cannot write the caches and temp folders
 * under a private (0700) data folder: they run as this user instead.
 */
function workerUser(): string {
  return process.getuid?.() === 0 ? ` user ${userInfo().username};` : '';
}

/** nginx in the foreground with `http(listen)` as its http block's content, `listen` on 127.0.0.1. */
export async function startNginxHttp(
  dir: string,
  http: (listen: string) => string,
  opts: NginxOptions = {},
): Promise<Nginx> {
  if (spawnSync('nginx', ['-v']).status !== 0) throw new Error('nginx is not installed (npm run setup)');
  const port = opts.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const tmp = (n: string) => `${n} ${join(dir, n)};`;
  const errorLog = join(dir, 'error.log');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; master_process ${opts.master ? 'on' : 'off'}; worker_processes 1;${workerUser()}
pid ${join(dir, 'nginx.pid')}; error_log ${errorLog};
events {}
http {
  include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;
  ${['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'].map(tmp).join(' ')}
  ${http(`127.0.0.1:${port}`)}
}`,
  );
  const nginx = startProcess('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], {
    logFile: join(dir, 'nginx.log'),
  });
  const stop = () => void nginx.stop(3000);
  for (let i = 0; i < 200; i++) {
    const up = await fetch(`${base}/`).then(
      () => true,
      () => false,
    );
    if (up) return { base, port, process: nginx, stop };
    if (nginx.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await nginx.stop(3000);
  const said = [join(dir, 'nginx.log'), errorLog]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8').trim())
    .join('\n');
  throw new Error(`nginx did not start: ${said.split('\n').slice(-10).join('\n')}`);
}
