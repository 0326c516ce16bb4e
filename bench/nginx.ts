/**
 * The distribution's nginx, configured from a template into the run's temp dir, as two instances: the origin
 * that every server under test fetches from, and the ceilings (proxy_pass with upstream keep-alive to that
 * origin, for camo; static files, for cache hits). Two processes so that the CPU time of a ceiling can be
 * counted apart from the origin's. Access logs off, keep-alive without a request cap.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, waitForHttp, type Child } from './tools.js';

export interface NginxPorts {
  readonly origin: number;
  readonly proxy: number;
  readonly static: number;
}

export interface NginxOptions {
  readonly nginx: string;
  /** Which servers this instance runs. */
  readonly role: 'origin' | 'ceilings';
  readonly dir: string;
  /** Files served by the origin (queries ignored). */
  readonly originRoot: string;
  /** Files served by the static ceiling. */
  readonly staticRoot: string;
  readonly ports: NginxPorts;
  /** worker_processes; 'auto' (one per core) is Debian's default. */
  readonly workers: number | 'auto';
}

export function nginxConfig(o: NginxOptions): string {
  const asRoot = process.getuid?.() === 0;
  const tmp = (name: string) => join(o.dir, `nginx-${o.role}-temp`, name);
  const origin = `
  # The origin: the same bytes for every server under test.
  server {
    listen 127.0.0.1:${o.ports.origin};
    root ${o.originRoot};
    add_header Cache-Control "public, max-age=3600";
  }
`;
  const ceilings = `
  # The proxy ceiling: proxy_pass with upstream keep-alive, as a tuned nginx reverse proxy would run it.
  upstream bench_origin {
    server 127.0.0.1:${o.ports.origin};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${o.ports.proxy};
    location / {
      proxy_pass http://bench_origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }

  # The static ceiling for cache hits.
  server {
    listen 127.0.0.1:${o.ports.static};
    root ${o.staticRoot};
  }
`;
  return `# Written by bench/nginx.ts for one bench run (${o.role}).
${asRoot ? 'user root;' : ''}
worker_processes ${o.workers};
daemon off;
error_log ${join(o.dir, `nginx-${o.role}-error.log`)} warn;
pid ${join(o.dir, `nginx-${o.role}.pid`)};
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  client_body_temp_path ${tmp('body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  types { image/jpeg jpg jpeg; image/png png; image/webp webp; image/avif avif; }
  default_type application/octet-stream;
${o.role === 'origin' ? origin : ceilings}}
`;
}

export async function startNginx(o: NginxOptions): Promise<Child> {
  for (const name of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(o.dir, `nginx-${o.role}-temp`, name), { recursive: true });
  const conf = join(o.dir, `nginx-${o.role}.conf`);
  const errorLog = join(o.dir, `nginx-${o.role}-error.log`);
  const out = join(o.dir, `nginx-${o.role}.out`);
  writeFileSync(conf, nginxConfig(o));
  const child = startChild(o.nginx, ['-c', conf, '-p', o.dir, '-e', errorLog], { logFile: out });
  try {
    await waitForHttp(`http://127.0.0.1:${o.role === 'origin' ? o.ports.origin : o.ports.static}/`, 10_000, child);
  } catch (err) {
    let log = '';
    try {
      log = readFileSync(errorLog, 'utf8') + readFileSync(out, 'utf8');
    } catch {
      // nothing logged
    }
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return child;
}
