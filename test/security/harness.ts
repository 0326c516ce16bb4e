/**
 * Shared pieces of the adversarial suite (security.md): pixgate with both jobs on, URLs for the same source
 * through either job, counting canaries on loopback, a raw HTTP client that sends a request target byte for
 * byte, pixgate as a child process with its peak RSS read from /proc, and a loopback-only network namespace
 * (`unshare -rnm`) with its own addresses, hosts file, canaries and origin. Never listens or connects anywhere
 * but loopback; addresses that are not loopback only ever exist inside the namespace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { signImagorPath, type ImagorSigner } from '../../src/verify/imagor-signature.js';
import { formatCamoUrl, signCamoUrl, type CamoEncoding } from '../../src/verify/camo-digest.js';
import { nodeMac } from '../../src/verify/node-mac.js';
import { spawnPixgate, startPixgate, TEST_KEY, type Env, type Pixgate, type RunningPixgate } from '../helpers/pixgate.js';

export const IMAGOR_SECRET = 'security-suite-imagor-secret-5EC';
export const IMAGOR_SIGNER: ImagorSigner = { secret: IMAGOR_SECRET, type: 'sha1', truncate: 0 };
export const CANARY_TEXT = 'INTERNAL-SECRET-CANARY';

export type Job = 'camo' | 'imagor';
export const JOBS: readonly Job[] = ['camo', 'imagor'];

/** Codes that mean "refused by a policy before or instead of a connection" (as opposed to UPSTREAM_FAILED). */
export const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'ADDRESS_DENIED', 'BAD_URL', 'BAD_URL_HOST', 'BAD_URL_SCHEME', 'USERINFO_REJECTED', 'REDIRECT_REJECTED', 'FILTER_REJECTED',
  'SOURCE_NOT_ALLOWED', 'LOOP_DETECTED', 'INVALID_PARAMS', 'TOO_MANY_REDIRECTS',
]);

// ---------------------------------------------------------------------------------------------------------
// URLs through either job

/** The imagor image key for a source URL: as is when it is plain printable ASCII, else `b64:` (imagor's escape). */
export function imagorImage(source: string): string {
  return /^[\x21-\x7e]+$/.test(source) && !/[?#%\\]/.test(source) ? source : `b64:${Buffer.from(source, 'utf8').toString('base64url')}`;
}

/** `/HASH/path`, signed with the suite's imagor secret. */
export function imagorPath(path: string, signer: ImagorSigner = IMAGOR_SIGNER): string {
  return `/${signImagorPath(path, signer, nodeMac)}/${path}`;
}

/** `/digest/encoded` for `source` with the suite's camo key. */
export function camoPath(source: string, encoding: CamoEncoding = 'hex', key = TEST_KEY): string {
  return formatCamoUrl('', signCamoUrl(source, key, encoding, nodeMac));
}

/** The request path that makes `job` fetch `source` (imagor: a small fit-in resize, so the result is re-encoded). */
export function jobPath(job: Job, source: string, opts: { encoding?: CamoEncoding; ops?: string } = {}): string {
  return job === 'camo' ? camoPath(source, opts.encoding) : imagorPath(`${opts.ops ?? 'fit-in/16x16'}/${imagorImage(source)}`);
}

export const secureArgv = (extra: readonly string[] = []): string[] => ['-k', TEST_KEY, '--imagor-secret', IMAGOR_SECRET, ...extra];

/** pixgate in-process with both jobs on (camo key and imagor secret). */
export function startSecure(extra: readonly string[] = [], env: Env = {}): Promise<Pixgate> {
  return startPixgate({ argv: secureArgv(extra), env });
}

/** The error codes `px` logged while `run` ran (tests in a file run one at a time). */
export async function codesDuring<T>(px: { errorCodes(): string[] }, run: () => Promise<T>): Promise<{ value: T; codes: string[] }> {
  const before = px.errorCodes().length;
  const value = await run();
  // The log record is written before the response ends; give a cut response a moment.
  await new Promise((r) => setImmediate(r));
  return { value, codes: px.errorCodes().slice(before) };
}

// ---------------------------------------------------------------------------------------------------------
// Canaries

export interface CountingServer {
  readonly host: string;
  readonly port: number;
  hits(): number;
  close(): Promise<void>;
}

function assertLoopback(host: string): void {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1') throw new Error(`test servers listen on loopback only, not ${host}`);
}

/**
 * A canary on `host:port` (port 0 = any) that counts connections and answers each with the secret text labelled
 * image/png. Resolves undefined when that port is taken on that address.
 */
export async function startCountingCanary(host: string, port = 0): Promise<CountingServer | undefined> {
  assertLoopback(host);
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const body = `${CANARY_TEXT}\n`;
    socket.end(`HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (!ok) return undefined;
  return {
    host,
    port: (server.address() as AddressInfo).port,
    hits: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Status is a 4xx, and nothing from a canary came back. */
export function assertRefused(res: { status: number; text: string }, what: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: expected a 4xx, got ${res.status} ${res.text.slice(0, 120)}`);
  assert.ok(!res.text.includes(CANARY_TEXT), `${what}: the canary's secret is in the response`);
}

// ---------------------------------------------------------------------------------------------------------
// A raw client: the request target goes out exactly as given (no URL parsing, no dot-segment removal).

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly text: string;
  readonly complete: boolean;
  readonly ms: number;
}

/**
 * GET `target` on `base` with node:http, target untouched. Node refuses control characters in a path; for
 * those, use rawSocketRequest.
 */
export function rawGet(base: string, target: string, opts: { headers?: Record<string, string>; timeoutMs?: number; method?: string; socketPath?: string } = {}): Promise<RawResponse> {
  const u = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port,
        path: target,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
        ...(opts.socketPath && { socketPath: opts.socketPath }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('latin1'), complete: res.complete, ms: Date.now() - started });
        };
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer to ${target.slice(0, 60)} in ${opts.timeoutMs ?? 15_000} ms`)), opts.timeoutMs ?? 15_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/** Writes `head` (request line and headers, CRLFs included) to `host:port` and reads until the server closes. */
export function rawSocketRequest(host: string, port: number, head: string | Buffer, timeoutMs = 10_000): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw request: no close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, ms: Date.now() - started });
    });
    socket.write(head);
  });
}

// ---------------------------------------------------------------------------------------------------------
// pixgate as a child process, for memory measurements

export interface ChildPixgate {
  readonly url: string;
  readonly pid: number;
  readonly running: RunningPixgate;
  /** Error codes of the `request failed` and `unexpected error` log records so far. */
  codes(): string[];
  stop(): Promise<void>;
}

/** `pixgate serve ...args` as a child (JSON logs at debug level), on 127.0.0.1:0. */
export async function startChildPixgate(args: readonly string[], env: Env = {}): Promise<ChildPixgate> {
  const running = spawnPixgate(['serve', ...args, '--listen', '127.0.0.1:0', '--log-json', '-v'], env);
  const m = await running.waitFor(/"address":"(http:\/\/127\.0\.0\.1:\d+)"/, 30_000);
  return {
    url: m[1]!,
    pid: running.child.pid!,
    running,
    codes: () => logCodes(running.output().stderr),
    async stop() {
      await running.stop();
    },
  };
}

export function logCodes(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.includes('"msg":"request failed"') || line.includes('"msg":"unexpected error"')) {
      try {
        out.push(String((JSON.parse(line) as { code?: string }).code ?? 'INTERNAL'));
      } catch {
        // a line cut by the pipe
      }
    }
  }
  return out;
}

export interface ProcMemory {
  /** Resident set size, KiB. */
  readonly rssKb: number;
  /** Peak resident set size since start or the last resetPeak, KiB. */
  readonly hwmKb: number;
}

export function readMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux `clear_refs` 5). False where the kernel does not allow it. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

// ---------------------------------------------------------------------------------------------------------
// A loopback-only network namespace

/** IPv4 addresses given to the namespace's `lo`, each with a canary on port 80. */
export const NETNS_V4 = [
  '10.0.0.1', '172.16.0.1', '192.168.0.1', '100.64.0.1', '198.18.0.1', '192.0.0.1', '240.0.0.1', '192.0.2.1',
  '198.51.100.1', '203.0.113.1', '169.254.169.254', '0.1.2.3', '192.88.99.1',
] as const;
/**
 * Addresses under global unicast prefixes that only the unwrapping of an embedded IPv4 denies: routed to the
 * namespace's `lo` with a canary like the others, so a policy that stopped unwrapping would reach a canary.
 * ISATAP (RFC 5214) interface identifiers `0:5efe:a.b.c.d` and, with the u bit, `200:5efe:a.b.c.d`; the Teredo
 * clients (RFC 4380, IPv4 inverted in the last 32 bits) are for the allow / deny list cases.
 */
export const NETNS_UNWRAP_ONLY = {
  /** ISATAP under a global prefix, carrying 127.0.0.1. */
  isatapGlobal: '2606:4700::5efe:7f00:1',
  /** ISATAP under the 6to4 prefix of 8.8.8.8 (a public IPv4, so 6to4 alone passes), carrying 127.0.0.1. */
  isatap6to4: '2002:808:808:1::5efe:7f00:1',
  /** ISATAP with the u bit set, under a global prefix, carrying 169.254.169.254. */
  isatapUbitMetadata: '2606:4700::200:5efe:a9fe:a9fe',
  /** Teredo, client 169.254.169.254. */
  teredoMetadata: '2001:0:4136:e378:8000:63bf:5601:5601',
  /** Teredo, client 1.1.1.1 (a public IPv4). */
  teredoPublic: '2001:0:4136:e378:8000:63bf:fefe:fefe',
} as const;

/** IPv6 addresses given to the namespace's `lo`, each with a canary on port 80. */
export const NETNS_V6 = [
  'fd00:ec2::254', 'fd00::1', 'fec0::1', '100::1', '2001:db8::1', '::7f00:1', '64:ff9b::7f00:1', '64:ff9b::a00:1',
  '64:ff9b:1:7f00:0:100::', '2002:7f00:1::', '2002:a9fe:a9fe::', '2001:0:4136:e378:8000:63bf:80ff:fffe', '2001:db8::5efe:7f00:1',
  ...Object.values(NETNS_UNWRAP_ONLY),
] as const;
/** Stand-ins for public hosts, inside the namespace only: what an attacker's own server would be. */
export const NETNS_PUBLIC = '1.1.1.1';
export const NETNS_PUBLIC_2 = '8.8.8.8';

// A 1x1 PNG, for the namespace's origin.
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADElEQVQImWM4IWcDAALUASMnf/XAAAAAAElFTkSuQmCC';

/**
 * Runs inside the namespace (node -e): canaries on port 80 of every namespace address and of 127.0.0.1 and
 * ::1, which print one `NETNS-CANARY-HIT <address>` line per connection; and an origin on the two public
 * stand-ins that serves /img.png and /redirect?to=URL&code=N. Exits when pixgate (its parent) does.
 */
const NETNS_SCRIPT = `
const net = require('net'); const http = require('http');
const png = Buffer.from(${JSON.stringify(PNG_1X1)}, 'base64');
const canaries = ['127.0.0.1', '::1', ...process.env.SEC_NETNS_CANARIES.split(',')];
let listening = [];
let pending = canaries.length + 2;
const ready = () => { if (--pending === 0) console.log('NETNS-READY ' + listening.join(',')); };
for (const a of canaries) {
  const s = net.createServer((c) => {
    console.log('NETNS-CANARY-HIT ' + a);
    c.on('error', () => {});
    c.end('HTTP/1.1 200 OK\\r\\nContent-Type: image/png\\r\\nContent-Length: 23\\r\\nConnection: close\\r\\n\\r\\n${CANARY_TEXT}\\n');
  });
  s.on('error', () => ready());
  s.listen(80, a, () => { listening.push(a); ready(); });
}
const origin = (req, res) => {
  const u = new URL(req.url, 'http://x');
  console.log('NETNS-ORIGIN-HIT ' + req.socket.localAddress + ' ' + u.pathname);
  if (u.pathname === '/redirect') {
    res.writeHead(Number(u.searchParams.get('code') || 302), { Location: u.searchParams.get('to') || '/', 'Content-Length': 0, Connection: 'close' });
    return res.end();
  }
  if (u.pathname === '/img.png') { res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length, Connection: 'close' }); return res.end(png); }
  res.writeHead(404, { 'Content-Length': 0 }); res.end();
};
for (const a of [${JSON.stringify(NETNS_PUBLIC)}, ${JSON.stringify(NETNS_PUBLIC_2)}]) {
  const s = http.createServer(origin); s.keepAliveTimeout = 1;
  s.on('error', () => ready());
  s.listen(80, a, () => { listening.push('origin:' + a); ready(); });
}
const parent = process.ppid;
setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 200).unref();
setInterval(() => {}, 1 << 30);
`;

const SETUP = [
  'ip link set lo up || exit 1',
  'for a in $SEC_NETNS_V4; do ip addr add "$a/32" dev lo 2>/dev/null; done',
  'for a in $SEC_NETNS_V6; do ip -6 addr add "$a/128" dev lo 2>/dev/null; done',
  'if [ -n "$SEC_NETNS_HOSTS" ]; then mount --bind "$SEC_NETNS_HOSTS" /etc/hosts || exit 1; fi',
  'node -e "$SEC_NETNS_SCRIPT" &',
  'exec "$@"',
].join('\n');

export const NETNS_WRAP: readonly string[] = ['unshare', '-rnm', 'sh', '-c', SETUP, 'sh'];

let netnsWorks: boolean | undefined;
/** True when this machine can make a user + network + mount namespace with a working `lo` and a hosts bind mount. */
export function namespacesWork(): boolean {
  netnsWorks ??= spawnSync('unshare', ['-rnm', 'sh', '-c', 'ip link set lo up && ip addr add 10.0.0.1/32 dev lo && mount --bind /etc/hostname /etc/hosts'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  return netnsWorks;
}

export interface IsolatedPixgate {
  readonly running: RunningPixgate;
  readonly socketPath: string;
  readonly pid: number;
  /** Addresses inside the namespace where a canary or the origin listens. */
  readonly listening: readonly string[];
  /** Error codes logged so far. */
  codes(): string[];
  /** Canary connections so far, by address. */
  canaryHits(): string[];
  /** Origin requests so far (`address path`). */
  originHits(): string[];
  /** GET `path` through the unix socket; returns the response and the code it logged. */
  get(path: string, headers?: Record<string, string>): Promise<{ res: RawResponse; code: string | undefined }>;
  stop(): Promise<void>;
}

/**
 * pixgate (both jobs) inside a fresh user + network + mount namespace whose only interface is `lo`, carrying
 * 127/8, ::1 and NETNS_V4/V6/PUBLIC; /etc/hosts replaced by `hostsFile` when given (rewrite it in place to change
 * answers). The test talks to pixgate over a unix socket.
 */
export async function startIsolated(socketPath: string, extra: readonly string[], hostsFile?: string): Promise<IsolatedPixgate> {
  const env: Env = {
    SEC_NETNS_V4: [...NETNS_V4, NETNS_PUBLIC, NETNS_PUBLIC_2].join(' '),
    SEC_NETNS_V6: NETNS_V6.join(' '),
    SEC_NETNS_CANARIES: [...NETNS_V4, ...NETNS_V6].join(','),
    SEC_NETNS_SCRIPT: NETNS_SCRIPT,
    SEC_NETNS_HOSTS: hostsFile ?? '',
  };
  const running = spawnPixgate(['serve', ...secureArgv(extra), '--listen', '127.0.0.1:0', '--socket-listen', socketPath, '--log-json', '-v'], env, NETNS_WRAP);
  await running.waitFor(/"address":"unix:/, 30_000);
  const ready = await running.waitFor(/NETNS-READY (.*)/, 10_000);
  const lines = (prefix: string) =>
    running
      .output()
      .stdout.split('\n')
      .filter((l) => l.startsWith(prefix))
      .map((l) => l.slice(prefix.length));
  const codes = () => logCodes(running.output().stderr);
  return {
    running,
    socketPath,
    pid: running.child.pid!,
    listening: ready[1]!.split(','),
    codes,
    canaryHits: () => lines('NETNS-CANARY-HIT '),
    originHits: () => lines('NETNS-ORIGIN-HIT '),
    async get(path, headers) {
      const before = codes().length;
      const res = await rawGet('http://pixgate', path, { socketPath, ...(headers && { headers }) });
      for (let waited = 0; codes().length <= before && res.status >= 400 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      return { res, code: codes()[before] };
    },
    async stop() {
      await running.stop();
    },
  };
}
