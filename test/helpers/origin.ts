/**
 * A scripted loopback origin for the HTTP tests: a node:http server on a 127.x address with a route table, real
 * images made with sharp, ready-made misbehaviours (redirects, wrong types, oversize, trickling and cut bodies,
 * raw HTTP bytes) and a record of every request it received. Also a canary that counts connections and must
 * stay at zero. Never listens anywhere but loopback.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import sharp from 'sharp';

export type OriginHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RecordedRequest {
  readonly method: string;
  /** The request target as received, path and query. */
  readonly url: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Header names in the order and case they arrived. */
  readonly rawHeaderNames: readonly string[];
}

export interface Origin {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly base: string;
  /** `http://host:port` + path */
  url(path: string): string;
  /** Serves `path` (exact match on the path without query) with `handler`; later calls replace earlier ones. */
  route(path: string, handler: OriginHandler): Origin;
  /** Requests received for `path`, or for every path. */
  requests(path?: string): readonly RecordedRequest[];
  hits(path?: string): number;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections(): number;
  /** The last request for `path`; throws if there was none. */
  last(path?: string): RecordedRequest;
  /** Forgets routes and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export interface OriginOptions {
  /** A loopback address: 127.0.0.1 (default), 127.0.0.2, ::1 ... */
  readonly host?: string;
}

function assertLoopback(host: string): void {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1') throw new Error(`test servers listen on loopback only, not ${host}`);
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startOrigin(opts: OriginOptions = {}): Promise<Origin> {
  const host = opts.host ?? '127.0.0.1';
  assertLoopback(host);
  const routes = new Map<string, OriginHandler>();
  let recorded: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    recorded.push({
      method: req.method ?? '',
      url: target,
      path,
      headers: req.headers,
      rawHeaderNames: req.rawHeaders.filter((_, i) => i % 2 === 0),
    });
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('origin: no such route\n');
      return;
    }
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      res.destroy(err as Error);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  // Node's default keepAliveTimeout (5 s) stays: undici does not reuse a connection whose advertised timeout is
  // under its 2 s safety margin. close() ends every connection, so nothing keeps a test alive.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${hostForUrl(host)}:${port}`;
  const select = (path?: string) => (path === undefined ? recorded : recorded.filter((r) => r.path === path));
  const origin: Origin = {
    host,
    port,
    base,
    url: (path) => base + path,
    route(path, handler) {
      routes.set(path, handler);
      return origin;
    },
    requests: (path) => select(path),
    hits: (path) => select(path).length,
    connections: () => connections,
    last(path) {
      const list = select(path);
      const r = list[list.length - 1];
      if (!r) throw new Error(`origin received no request${path ? ` for ${path}` : ''}`);
      return r;
    },
    reset() {
      routes.clear();
      recorded = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return origin;
}

// ---------------------------------------------------------------------------------------------------------
// Canary

export interface Canary {
  readonly host: string;
  readonly port: number;
  readonly base: string;
  /** TCP connections accepted: any at all means a request reached a place it must not. */
  connections(): number;
  close(): Promise<void>;
}

/** A listener that answers every connection with an obvious secret and counts connections. */
export async function startCanary(host = '127.0.0.1'): Promise<Canary> {
  assertLoopback(host);
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const body = 'INTERNAL-SECRET-CANARY\n';
    socket.end(`HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    base: `http://${hostForUrl(host)}:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Test images, made once per process with sharp.

export interface TestImages {
  /** 8x8 PNG (a few hundred bytes). */
  readonly png: Buffer;
  readonly jpeg: Buffer;
  readonly gif: Buffer;
  readonly webp: Buffer;
  /** 96x96 noise PNG, about 28 KB: larger than a few KB and than the 512-byte sniff window. */
  readonly bigPng: Buffer;
  readonly svg: Buffer;
}

let imagesPromise: Promise<TestImages> | undefined;

/** Deterministic noise, so the big PNG does not compress away. */
function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function testImages(): Promise<TestImages> {
  imagesPromise ??= (async () => {
    const small = sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 60 } } });
    const raw = { raw: { width: 96, height: 96, channels: 3 as const } };
    return {
      png: await small.clone().png().toBuffer(),
      jpeg: await small.clone().jpeg().toBuffer(),
      gif: await small.clone().gif().toBuffer(),
      webp: await small.clone().webp().toBuffer(),
      bigPng: await sharp(noise(96 * 96 * 3), raw).png({ compressionLevel: 0 }).toBuffer(),
      svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/></svg>'),
    };
  })();
  return imagesPromise;
}

// ---------------------------------------------------------------------------------------------------------
// Ready-made handlers

export type Headers = Readonly<OutgoingHttpHeaders>;

export interface ServeOptions {
  /** Content-Type; `null` sends none. Default image/png. */
  readonly type?: string | null;
  readonly headers?: Headers;
  readonly status?: number;
  /** Send Content-Length (default) or stream chunked without one. */
  readonly contentLength?: boolean;
  /** Answer If-None-Match with 304 when it carries this ETag (the ETag header is sent too). */
  readonly etag?: string;
  /** Answer `Range: bytes=a-b` with 206 and Content-Range. */
  readonly ranges?: boolean;
}

/** Serves `body`, with conditional and range support on demand. */
export function serve(body: Buffer | string, opts: ServeOptions = {}): OriginHandler {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return (req, res) => {
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    const type = opts.type === undefined ? 'image/png' : opts.type;
    if (type !== null) headers['Content-Type'] = type;
    if (opts.etag) headers.ETag = opts.etag;
    if (opts.etag && req.headers['if-none-match'] === opts.etag) {
      delete headers['Content-Type'];
      res.writeHead(304, headers);
      res.end();
      return;
    }
    let status = opts.status ?? 200;
    let out = bytes;
    const range = opts.ranges ? /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? '')) : null;
    if (opts.ranges) headers['Accept-Ranges'] = 'bytes';
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      out = bytes.subarray(start, end + 1);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${bytes.length}`;
    }
    if (opts.contentLength !== false) headers['Content-Length'] = out.length;
    res.writeHead(status, headers);
    if (opts.contentLength === false) {
      // Two writes, so the body really goes out chunked.
      const half = Math.floor(out.length / 2);
      res.write(out.subarray(0, half));
      res.end(req.method === 'HEAD' ? undefined : out.subarray(half));
    } else {
      res.end(req.method === 'HEAD' ? undefined : out);
    }
  };
}

/** Answers `status` with a Location header (omitted when `location` is undefined). */
export function redirect(status: number, location: string | undefined, headers: Headers = {}): OriginHandler {
  return (_req, res) => {
    res.writeHead(status, { ...(location !== undefined && { Location: location }), 'Content-Length': 0, ...headers });
    res.end();
  };
}

/** A plain status answer with an optional body (e.g. a 500 whose body must not leak). */
export function status(code: number, body = '', headers: Headers = {}): OriginHandler {
  return (_req, res) => {
    res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Sends the headers at once, then `first` bytes of `body` in one go, then the rest `step` bytes every
 * `intervalMs`. Stops quietly when the reader goes away.
 */
export function trickle(body: Buffer, opts: { first?: number; step?: number; intervalMs: number; type?: string; contentLength?: boolean }): OriginHandler {
  return async (_req, res) => {
    const headers: Record<string, string | number> = { 'Content-Type': opts.type ?? 'image/png' };
    if (opts.contentLength) headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    let at = opts.first ?? 0;
    if (at > 0) res.write(body.subarray(0, at));
    const step = opts.step ?? 1;
    while (at < body.length && !res.destroyed) {
      await sleep(opts.intervalMs);
      if (res.destroyed) return;
      res.write(body.subarray(at, at + step));
      at += step;
    }
    if (!res.destroyed) res.end();
  };
}

/** Accepts the request and never answers (the socket stays open until the reader or the test closes it). */
export function stall(): OriginHandler {
  return () => {};
}

/** Declares `declared` bytes of Content-Length, sends only the first `sent` bytes of `body`, then cuts the socket. */
export function earlyEof(body: Buffer, sent: number, opts: { type?: string; declared?: number; chunked?: boolean } = {}): OriginHandler {
  return (req, res) => {
    const headers = [`HTTP/1.1 200 OK`, `Content-Type: ${opts.type ?? 'image/png'}`];
    if (opts.chunked) headers.push('Transfer-Encoding: chunked');
    else headers.push(`Content-Length: ${opts.declared ?? body.length}`);
    const part = body.subarray(0, sent);
    const payload = opts.chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part;
    const socket = req.socket;
    socket.write(headers.join('\r\n') + '\r\n\r\n');
    socket.write(payload, () => setTimeout(() => socket.destroy(), 20));
    res.on('error', () => {});
  };
}

/**
 * Writes raw bytes as the whole response (status line and headers included), then closes the connection. Given
 * several parts, writes them `intervalMs` apart.
 */
export function raw(bytes: string | Buffer | readonly (string | Buffer)[], opts: { intervalMs?: number } = {}): OriginHandler {
  const parts = Array.isArray(bytes) ? bytes : [bytes as string | Buffer];
  return async (req) => {
    const socket = req.socket;
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) await sleep(opts.intervalMs ?? 20);
      if (socket.destroyed) return;
      socket.write(parts[i]!);
    }
    socket.end();
  };
}

/** A handler that runs different handlers on successive hits (the last one repeats). */
export function sequence(...handlers: OriginHandler[]): OriginHandler {
  let i = 0;
  return (req, res) => {
    const h = handlers[Math.min(i++, handlers.length - 1)]!;
    return h(req, res);
  };
}

/** An origin handler that holds each request until open() is called (then serves `body`). */
export function gate(body: Buffer): { handler: OriginHandler; open(): void } {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  return {
    handler: async (req, res) => {
      await opened;
      serve(body)(req, res);
    },
    open: () => release(),
  };
}

/** Polls `cond` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
