// deploy/nginx.conf run by a real nginx (Debian's nginx-light) for tests: its blocks cut out of the
// template, with the files where a test put them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@sky/devkit';

const ROOT = join(import.meta.dirname, '..');

/** The conf as the nginx image renders its template (compose fills in SFU_PUBLIC_URL). */
export function deployConf(): string {
  return readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8').replaceAll(
    '${SFU_PUBLIC_URL}',
    'http://127.0.0.1:8081',
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
  stop(): void;
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
  const conf = readFileSync(join(ROOT, 'deploy/nginx-edge.conf'), 'utf8');
  if (!conf.includes('listen 80;')) throw new Error('deploy/nginx-edge.conf listens on 80');
  return conf
    .replaceAll('${SKY_ORIGIN}', o.origin)
    .replaceAll('/var/cache/nginx/', `${o.cacheDir}/`)
    .replace('listen 80;', `listen ${o.listen};`);
}

/** nginx in the foreground with `http(listen)` as its http block's content, `listen` a free port of 127.0.0.1. */
export async function startNginxHttp(dir: string, http: (listen: string) => string): Promise<Nginx> {
  if (spawnSync('nginx', ['-v']).status !== 0) throw new Error('nginx is not installed (npm run setup)');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const tmp = (n: string) => `${n} ${join(dir, n)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; master_process off; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};
events {}
http {
  include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;
  ${['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'].map(tmp).join(' ')}
  ${http(`127.0.0.1:${port}`)}
}`,
  );
  const nginx: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  nginx.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${base}/`).then(
      () => true,
      () => false,
    );
    if (up) return { base, stop: () => nginx.kill() };
    if (nginx.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  nginx.kill();
  throw new Error(`nginx did not start: ${stderr}`);
}
