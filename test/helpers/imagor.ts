/**
 * imagor URLs for the HTTP tests, signed with node:crypto the way imagor's security page shows it (HMAC of the
 * path after the hash, base64url with padding, optionally truncated), independently of src/verify/. Also a
 * small starter for a pixgate with an imagor secret and a loopback origin it may reach.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { startOrigin, type Origin } from './origin.js';
import { startPixgate, type Env, type FetchedResponse, type Pixgate } from './pixgate.js';

export const IMAGOR_SECRET = 'imagor-test-secret-5b1f0c';

export interface SignOptions {
  readonly secret?: string;
  readonly type?: 'sha1' | 'sha256' | 'sha512';
  readonly truncate?: number;
}

/** imagor's hash of `path` (no leading slash): python's `base64.urlsafe_b64encode(hmac(...).digest())[:truncate]`. */
export function imagorHash(path: string, opts: SignOptions = {}): string {
  const digest = createHmac(opts.type ?? 'sha1', opts.secret ?? IMAGOR_SECRET).update(path).digest('base64');
  const text = digest.replace(/\+/g, '-').replace(/\//g, '_');
  return opts.truncate ? text.slice(0, opts.truncate) : text;
}

/** `base/HASH/path`. */
export function signedUrl(base: string, path: string, opts: SignOptions = {}): string {
  return `${base}/${imagorHash(path, opts)}/${path}`;
}

/** `base/unsafe/path`. */
export function unsafeUrl(base: string, path: string): string {
  return `${base}/unsafe/${path}`;
}

/**
 * GETs `rawPath` exactly as written: node's http.request(url) would run the URL parser, which resolves `..` and
 * `%2e%2e` segments before anything is sent (as browsers do, unlike curl --path-as-is or a hostile client).
 */
export function fetchPath(base: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<FetchedResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            headerNames: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
            body,
            text: body.toString('utf8'),
            complete: res.complete,
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer for ${rawPath.slice(0, 60)}`)));
    req.on('error', reject);
    req.end();
  });
}

/** The JSON error body imagor sends. */
export function errorBody(text: string): { message: string; status: number } {
  return JSON.parse(text) as { message: string; status: number };
}

export interface ImagorRig {
  readonly px: Pixgate;
  readonly origin: Origin;
  /** `http://127.0.0.2:port/path` on the origin, as an imagor image. */
  src(path: string): string;
  /** A signed URL on pixgate for `ops/` + the origin's `path` (ops may be empty). */
  url(ops: string, path: string, opts?: SignOptions): string;
  close(): Promise<void>;
}

/**
 * pixgate with IMAGOR_SECRET (plus `env`/`argv`) allowed to reach a loopback origin on 127.0.0.2, the address
 * every imagor HTTP test uses for its origin. `origin` may be shared between rigs.
 */
export async function startImagorRig(opts: { env?: Env; argv?: readonly string[]; origin?: Origin } = {}): Promise<ImagorRig> {
  const origin = opts.origin ?? (await startOrigin({ host: '127.0.0.2' }));
  const px = await startPixgate({
    env: { IMAGOR_SECRET, ...opts.env },
    argv: ['--allow-network', '127.0.0.2/32', ...(opts.argv ?? [])],
  });
  const src = (path: string) => origin.url(path);
  return {
    px,
    origin,
    src,
    url: (ops, path, sign) => signedUrl(px.url, `${ops ? ops.replace(/\/$/, '') + '/' : ''}${src(path)}`, sign),
    async close() {
      await px.close();
      if (!opts.origin) await origin.close();
    },
  };
}
