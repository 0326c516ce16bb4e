/**
 * Listeners: HTTP, HTTPS with HTTP/2 and HTTP/1.1 (ALPN), and a unix socket, all on the same handler, at least one
 * of them (listed in that order); and a graceful close that stops accepting, lets requests in flight finish, then
 * ends idle and stuck connections.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../settings/table.js';
import type { HostPort } from '../settings/values.js';
import { StartupError } from './app.js';
import type { Req, Res } from './http-types.js';

export interface Listener {
  readonly kind: 'http' | 'https' | 'unix';
  readonly server: Server | Http2SecureServer;
  /** `http://127.0.0.1:8080`, `https://...`, or `unix:/path`. */
  readonly address: string;
}

/**
 * The plain HTTP address: --listen (or its env names) when given, else imagor's BIND, else imagor's PORT on all
 * addresses, else the default 0.0.0.0:8080. undefined when --listen was given empty: no plain HTTP listener, as
 * go-camo does for `--listen=""`.
 */
export function resolveHttpAddress(s: Settings, explicit: ReadonlySet<string>): HostPort | undefined {
  if (explicit.has('listen')) return s.listen;
  if (s.bind) return s.bind;
  if (s.port !== undefined) return { host: '0.0.0.0', port: s.port };
  return s.listen;
}

/**
 * node:http enforces headersTimeout and requestTimeout only when it sweeps its connections, every 30 s by default;
 * sweeping every second makes --readtimeout hold against a client that trickles its headers (slowloris).
 */
function httpOptions(s: Settings) {
  return { maxHeaderSize: 16 * 1024, connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(s.readTimeout / 2))) };
}

function tune(server: Server | Http2SecureServer, s: Settings): void {
  if ('headersTimeout' in server) {
    server.headersTimeout = s.readTimeout;
    server.requestTimeout = s.readTimeout;
    server.keepAliveTimeout = s.idleTimeout;
  } else {
    server.setTimeout(s.idleTimeout);
  }
}

function listenOn(server: Server | Http2SecureServer, where: HostPort | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const place = typeof where === 'string' ? where : `${where.host}:${where.port}`;
      reject(new StartupError(`cannot listen on ${place}: ${err.code ?? err.message}`));
    };
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if (typeof where === 'string') server.listen(where, done);
    else server.listen(where.port, where.host, done);
  });
}

function urlOf(kind: 'http' | 'https', server: Server | Http2SecureServer): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${kind}://${host}:${a.port}`;
}

export async function startListeners(
  s: Settings,
  /** undefined: no plain HTTP listener (then --ssl-listen or --socket-listen must be set). */
  httpAddress: HostPort | undefined,
  handler: (req: Req, res: Res) => void,
  /** In a cluster worker the socket path is the primary's, shared by every worker (server/cluster.ts checks it once). */
  opts: { readonly sharedSocket?: boolean } = {},
): Promise<Listener[]> {
  if (!httpAddress && !s.sslListen && !s.socketListen) {
    throw new StartupError('no listener: --listen is empty and neither --ssl-listen nor --socket-listen is set');
  }
  const listeners: Listener[] = [];
  try {
    if (httpAddress) {
      const http = createServer(httpOptions(s), handler);
      tune(http, s);
      await listenOn(http, httpAddress);
      listeners.push({ kind: 'http', server: http, address: urlOf('http', http) });
    }

    if (s.sslListen && s.sslKey && s.sslCert) {
      let key: Buffer;
      let cert: Buffer;
      try {
        key = readFileSync(s.sslKey);
        cert = readFileSync(s.sslCert);
      } catch (e) {
        throw new StartupError(`--ssl-key/--ssl-cert: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
      }
      let https: Http2SecureServer;
      try {
        https = createSecureServer({ key, cert, allowHTTP1: true, maxSessionMemory: 64 }, handler);
      } catch (e) {
        throw new StartupError(`--ssl-key/--ssl-cert: ${(e as Error).message}`);
      }
      tune(https, s);
      await listenOn(https, s.sslListen);
      listeners.push({ kind: 'https', server: https, address: urlOf('https', https) });
    }

    if (s.socketListen) {
      if (!opts.sharedSocket && existsSync(s.socketListen)) throw new StartupError(`--socket-listen=${s.socketListen}: the path already exists`);
      const unix = createServer(httpOptions(s), handler);
      tune(unix, s);
      await listenOn(unix, s.socketListen);
      listeners.push({ kind: 'unix', server: unix, address: `unix:${s.socketListen}` });
    }
  } catch (err) {
    await closeListeners(listeners, 0);
    throw err;
  }
  return listeners;
}

/** Stops accepting, waits up to `graceMs` for requests in flight, then closes what is left. */
export async function closeListeners(listeners: readonly Listener[], graceMs: number): Promise<void> {
  await Promise.all(
    listeners.map(
      (l) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            if ('closeAllConnections' in l.server) l.server.closeAllConnections();
            resolve();
          }, graceMs);
          timer.unref();
          l.server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          if ('closeIdleConnections' in l.server) l.server.closeIdleConnections();
        }),
    ),
  );
}
