/** Listeners, response headers and the frontend side of the server. */
import { optional, setting } from '../define.js';
import { bool, duration, header, headerValue, hostPort, int, list, string, type HostPort, type ValueType } from '../values.js';

/** A process count: an integer from 1, or `auto` for one per core (resolved at start by server/cluster.ts). */
const workerCount: ValueType<number | 'auto'> = {
  name: 'int|auto',
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (v === 'auto') return 'auto';
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= 1 && n <= 1024)) throw new Error('expected auto or an integer from 1 to 1024');
    return n;
  },
  format: (v) => String(v),
};

/** go-camo's --listen: host:port, or empty for no plain HTTP listener (go-camo skips it when --listen is ""). */
const listenAddress: ValueType<HostPort | undefined> = {
  name: 'host:port',
  parse: (raw) => (raw.trim() === '' ? undefined : hostPort.parse(raw)),
  format: (v) => (v ? hostPort.format(v) : ''),
};

export const serverSettings = {
  listen: setting({
    env: ['PIXGATE_LISTEN', 'GOCAMO_LISTEN'], flags: ['--listen'], type: listenAddress, default: { host: '0.0.0.0', port: 8080 },
    group: 'server',
    help: 'Address:port for HTTP. imagor\'s BIND and PORT are used when this is not set. Empty (--listen=""): no plain HTTP listener, as in go-camo; --ssl-listen or --socket-listen must then be set.',
  }),
  bind: optional({
    env: ['BIND'], type: hostPort, group: 'server', help: 'imagor\'s host:port to listen on (used when --listen is not set).',
  }),
  port: optional({
    env: ['PORT'], type: int({ min: 0, max: 65535 }), group: 'server',
    help: 'imagor\'s port to listen on, on all addresses (used when neither --listen nor BIND is set).',
  }),
  sslListen: optional({
    env: ['PIXGATE_SSL_LISTEN', 'GOCAMO_SSL_LISTEN'], flags: ['--ssl-listen'], type: hostPort, group: 'server',
    help: 'Address:port for HTTPS (HTTP/2 and HTTP/1.1). Needs --ssl-key and --ssl-cert.',
  }),
  sslKey: optional({ env: ['PIXGATE_SSL_KEY', 'GOCAMO_SSL_KEY'], flags: ['--ssl-key'], type: string, group: 'server', help: 'TLS private key file (PEM).' }),
  sslCert: optional({ env: ['PIXGATE_SSL_CERT', 'GOCAMO_SSL_CERT'], flags: ['--ssl-cert'], type: string, group: 'server', help: 'TLS certificate chain file (PEM).' }),
  socketListen: optional({
    env: ['PIXGATE_SOCKET_LISTEN', 'GOCAMO_SOCKET_LISTEN'], flags: ['--socket-listen'], type: string, group: 'server',
    help: 'Path of a unix socket to serve HTTP on. Refused if the path exists.',
  }),
  readTimeout: setting({
    env: ['PIXGATE_READ_TIMEOUT', 'GOCAMO_READTIMEOUT'], flags: ['--readtimeout'], type: duration, default: 30_000, group: 'server',
    help: 'Time allowed to read a client request\'s headers.',
  }),
  idleTimeout: setting({
    env: ['PIXGATE_IDLE_TIMEOUT', 'GOCAMO_IDLETIMEOUT'], flags: ['--idletimeout'], type: duration, default: 30_000, group: 'server',
    help: 'How long an idle client keep-alive connection stays open.',
  }),
  noFrontendKeepAlive: setting({
    env: ['PIXGATE_NO_FK', 'GOCAMO_NO_FK'], flags: ['--no-fk'], type: bool, default: false, group: 'server',
    help: 'Disable client (frontend) keep-alive: every response carries Connection: close.',
  }),
  serverName: setting({
    env: ['PIXGATE_SERVER_NAME', 'GOCAMO_SERVER_NAME'], flags: ['--server-name'], type: headerValue, default: 'pixgate', group: 'server',
    help: 'Value of the Server response header, also sent upstream as Via and used to detect request loops.',
  }),
  exposeServerVersion: setting({
    env: ['PIXGATE_EXPOSE_SERVER_VERSION', 'GOCAMO_EXPOSE_SERVER_VERSION'], flags: ['--expose-server-version'], type: bool, default: false,
    group: 'server', help: 'Add the version to the Server header and the landing page.',
  }),
  headers: setting({
    env: ['PIXGATE_HEADER', 'GOCAMO_HEADER'], flags: ['--header'], short: '-H', type: list(header, { separator: '\n' }), default: [],
    group: 'server', help: 'Extra response header "Name: value" on every response (repeatable; newline-separated in env). Overrides a default header of the same name.',
  }),
  workers: setting({
    env: ['PIXGATE_WORKERS'], flags: ['--workers'], type: workerCount, default: 1, group: 'server',
    help: 'Processes serving the same port(s): more than 1 starts a cluster whose crashed workers are replaced and which SIGTERM drains; auto = one per core. Processing limits and queues are per worker; PIXGATE_RESULT_CACHE_MAX_SIZE is split between them; /metrics sums every worker.',
  }),
  dev: setting({
    env: ['PIXGATE_DEV'], flags: ['--dev'], type: bool, default: false, group: 'server',
    help: 'Development mode: random throwaway keys, a sample image and a playground page. Never in production.',
  }),
} as const;
