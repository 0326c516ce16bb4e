/**
 * The safe fetcher: one origin fetch with our own redirect loop. Every hop's URL is checked (scheme, host, local
 * names, credentials, loops, the caller's source policy) and its address is checked at connect time by the safe
 * agent. The body is capped on the bytes actually read, and a total deadline covers headers and body.
 * Used by the camo job (pass-through) and by the imagor HTTP loader.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { isLocalHostName } from '../policy/local-names.js';
import { PixgateError, fail, isPixgateError } from '../respond/errors.js';
import { AddressDeniedError } from './safe-agent.js';

export type FetchDeniedReason = 'address' | 'host' | 'scheme' | 'userinfo' | 'source' | 'redirect' | 'loop';

export interface OriginRequest {
  readonly url: string;
  readonly method: 'GET' | 'HEAD';
  readonly headers: Readonly<Record<string, string>>;
  /** Aborts the whole fetch, body included: the total deadline combined with the client going away. */
  readonly signal: AbortSignal;
  /** Set when `signal` fired because of the deadline (as opposed to the client leaving). */
  readonly deadline: { readonly aborted: boolean };
  /** 0 = no limit. Counted on the bytes read (decoded bytes when `decode` is on). */
  readonly maxBytes: number;
  /** Decode gzip/deflate/br bodies (the processing loader); off, bodies pass through encoded (camo). */
  readonly decode?: boolean;
  /** Extra policy for every hop (filter ruleset, allowed sources, https-only); throws a PixgateError. */
  readonly checkUrl?: (url: URL) => void;
  /** host[:port] spellings that reach this server: a hop to one of them is a loop. */
  readonly selfHosts?: readonly string[];
}

export interface OriginResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
  readonly url: URL;
  readonly redirects: number;
  /** Declared length, when the origin sent one and the body is not being decoded. */
  readonly contentLength: number | undefined;
}

export interface SafeFetcherOptions {
  readonly dispatcher: Dispatcher;
  readonly maxRedirects: number;
  readonly allowCredentialUrls: boolean;
  readonly userAgent: string;
  readonly via: string;
  readonly onDenied?: (reason: FetchDeniedReason) => void;
  /**
   * Checks made only for URLs that go through an outbound proxy, where the connect-time check cannot run: an IP
   * literal host must pass the address policy, and the proxy itself is not a valid target.
   */
  readonly checkProxied?: (url: URL) => void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface SafeFetcher {
  fetch(req: OriginRequest): Promise<OriginResponse>;
}

export function createSafeFetcher(opts: SafeFetcherOptions): SafeFetcher {
  const denied = (reason: FetchDeniedReason) => opts.onDenied?.(reason);

  function checkHop(raw: string | URL, req: OriginRequest, hop: number): URL {
    try {
      const url = checkSourceUrl(raw, req, opts.allowCredentialUrls);
      opts.checkProxied?.(url);
      return url;
    } catch (err) {
      if (isPixgateError(err)) {
        denied(reasonOf(err));
        if (hop > 0 && err.code !== 'LOOP_DETECTED') {
          throw new PixgateError('REDIRECT_REJECTED', { detail: `redirect hop ${hop}: ${err.detail ?? err.code}` });
        }
      }
      throw err;
    }
  }

  async function fetchOne(url: URL, target: string, method: 'GET' | 'HEAD', headers: Record<string, string>, req: OriginRequest) {
    let res: Dispatcher.ResponseData;
    try {
      res = await opts.dispatcher.request({
        origin: url.origin,
        path: target,
        method,
        headers,
        signal: req.signal,
      });
    } catch (err) {
      throw classifyFetchError(err, req, denied);
    }
    // undici's body emits an error when it is destroyed before its end (a redirect, a refused status, a cut
    // download). Unheard, that error would be an uncaught exception; readers still see it through their own
    // listeners and iterators.
    res.body.on('error', ignore);
    return res;
  }

  return {
    async fetch(req) {
      let url = checkHop(req.url, req, 0);
      let method = req.method;
      const visited = new Set<string>([url.href]);
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = {
          ...req.headers,
          'user-agent': opts.userAgent,
          via: opts.via,
        };
        if (req.decode) headers['accept-encoding'] = 'identity';
        // Basic auth comes only from the current hop's own userinfo, so credentials never follow a redirect.
        if (url.username || url.password) {
          const user = decodeURIComponent(url.username);
          const pass = decodeURIComponent(url.password);
          headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
        }
        // The signed URL goes out as it was written (see requestTarget); a redirect's Location as the URL parser
        // resolved it against the current hop.
        const target = hop === 0 ? requestTarget(req.url, url) : url.pathname + url.search;
        const res = await fetchOne(url, target, method, headers, req);
        const location = res.headers.location;
        if (REDIRECTS.has(res.statusCode) && typeof location === 'string' && location !== '') {
          res.body.destroy();
          if (hop + 1 > opts.maxRedirects) {
            denied('redirect');
            fail('TOO_MANY_REDIRECTS', `more than ${opts.maxRedirects} redirects`);
          }
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            denied('redirect');
            fail('REDIRECT_REJECTED', 'unparseable Location');
          }
          next = checkHop(next, req, hop + 1);
          if (visited.has(next.href)) {
            denied('loop');
            fail('TOO_MANY_REDIRECTS', 'redirect loop');
          }
          visited.add(next.href);
          if (res.statusCode === 303 && method !== 'HEAD') method = 'GET';
          url = next;
          continue;
        }
        const declared = parseContentLength(res.headers['content-length']);
        const encoding = headerValue(res.headers['content-encoding'])?.trim().toLowerCase();
        let body: Readable = res.body;
        let contentLength = declared;
        if (req.decode && encoding && encoding !== 'identity') {
          body = decodeBody(body, encoding);
          contentLength = undefined;
        }
        if (req.maxBytes > 0 && contentLength !== undefined && contentLength > req.maxBytes) {
          body.destroy();
          fail('CONTENT_LENGTH_EXCEEDED', `Content-Length ${contentLength} > ${req.maxBytes}`);
        }
        // undici reads exactly the declared Content-Length of an undecoded body (a byte more is a protocol error on
        // the connection, never body), so a declared length within the cap needs no counting stream.
        if (req.maxBytes > 0 && contentLength === undefined) body = body.pipe(capBytes(req.maxBytes, body));
        return { status: res.statusCode, headers: res.headers, body, url, redirects: hop, contentLength };
      }
    },
  };
}

/** The per-hop URL checks that need no network: scheme, host, local names, credentials, loops, caller policy. */
export function checkSourceUrl(raw: string | URL, req: Pick<OriginRequest, 'checkUrl' | 'selfHosts'>, allowCredentialUrls: boolean): URL {
  if (typeof raw === 'string' && /[\0-\x1f\x7f]/.test(raw)) fail('BAD_URL', 'control character in source URL');
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    fail('BAD_URL', 'unparseable source URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('BAD_URL_SCHEME', `scheme ${url.protocol}`);
  const host = url.hostname;
  if (!host) fail('BAD_URL_HOST', 'empty host');
  if (isLocalHostName(host)) fail('BAD_URL_HOST', `local name ${host}`);
  if ((url.username || url.password) && !allowCredentialUrls) fail('USERINFO_REJECTED', 'credentials in source URL');
  if (req.selfHosts?.includes(url.host.toLowerCase())) fail('LOOP_DETECTED', 'source URL points at this server');
  req.checkUrl?.(url);
  return url;
}

/**
 * The request target (path and query) for the URL written as `raw`, whose parse is `url`. Go's client, which
 * go-camo and imagor fetch with, sends the query text exactly as written, and the path as written when it is a
 * valid RFC 3986 path (url.URL RawQuery, RawPath; dot segments are not resolved): `'` and `"` stay as they are and
 * `/a/../b` stays unresolved, where the WHATWG serialisation would send `%27`, `%22` and `/b`. Only what cannot go
 * out as written is percent-encoded, one character at a time: spaces and non-ASCII in the query; in the path also
 * the characters Go escapes there (`"<>^`{|}` and the like). The policy checks ran on `url`, the resolved form,
 * which is at least as strict as go-camo checking the unresolved path. When `raw` is not plainly
 * `scheme://authority/path?query#fragment`, or its path holds a backslash (a separator to the URL parser, not to
 * Go), the parsed form is sent, so the origin is never asked for a path the policy read differently.
 */
export function requestTarget(raw: string, url: URL): string {
  const parsed = url.pathname + url.search;
  // The URL parser drops spaces at either end and tabs and newlines anywhere; those strings go out as parsed.
  if (raw.trim() !== raw || /[\0-\x1f\x7f]/.test(raw)) return parsed;
  // A non-empty authority right after `//`: `http:///host/x` is host "host" to the URL parser, not a path.
  const m = /^https?:\/\/[^/?#\\]+([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i.exec(raw);
  if (!m) return parsed;
  const path = m[1]!;
  const query = m[2];
  // Dot segments go out resolved, as the policies (ruleset path rules, the allowed-source regexp) read them: an
  // origin that does not resolve them itself must not be asked for a path no policy saw.
  if (path.includes('\\') || DOT_SEGMENT.test(path)) return parsed;
  return (path === '' ? '/' : escapeOutside(path, PATH_CHARS, PATH_OUTSIDE)) + (query === undefined ? '' : '?' + escapeOutside(query, QUERY_CHARS, QUERY_OUTSIDE));
}

const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

// RFC 3986 pchar, `/`, and `[` `]` (Go's validEncoded set for paths); `%` stays as written, valid escape or not.
const PATH_CHARS = /[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%/]/;
const PATH_OUTSIDE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@[\]%/]/;
// Everything printable: Go sends the query text as it is.
const QUERY_CHARS = /[\x21-\x7e]/;
const QUERY_OUTSIDE = /[^\x21-\x7e]/;

function escapeOutside(text: string, keep: RegExp, outside: RegExp): string {
  if (!outside.test(text)) return text;
  let out = '';
  for (const ch of text) {
    if (keep.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function reasonOf(err: PixgateError): FetchDeniedReason {
  switch (err.code) {
    case 'BAD_URL_SCHEME': return 'scheme';
    case 'USERINFO_REJECTED': return 'userinfo';
    case 'LOOP_DETECTED': return 'loop';
    case 'BAD_URL_HOST':
    case 'BAD_URL': return 'host';
    default: return 'source';
  }
}

function classifyFetchError(err: unknown, req: OriginRequest, denied: (r: FetchDeniedReason) => void): PixgateError {
  if (isPixgateError(err)) return err;
  const denial = findCause(err, (e): e is AddressDeniedError => e instanceof AddressDeniedError);
  if (denial) {
    denied('address');
    return new PixgateError('ADDRESS_DENIED', { detail: denial.message });
  }
  if (req.deadline.aborted) return new PixgateError('UPSTREAM_TIMEOUT', { detail: 'origin deadline', cause: err });
  if (req.signal.aborted) return new PixgateError('CLIENT_CLOSED', { detail: 'client went away', cause: err });
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT') {
    return new PixgateError('UPSTREAM_TIMEOUT', { detail: code, cause: err });
  }
  return new PixgateError('UPSTREAM_FAILED', { detail: `${code ?? ''} ${(err as Error).message ?? err}`.trim(), cause: err });
}

function findCause<T>(err: unknown, match: (e: unknown) => e is T): T | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (match(e)) return e;
  }
  return undefined;
}

/** Maps an error thrown while reading a fetched body into our typed errors. */
export function classifyBodyError(err: unknown, req: Pick<OriginRequest, 'signal' | 'deadline'>): PixgateError {
  if (isPixgateError(err)) return err;
  if (req.deadline.aborted) return new PixgateError('UPSTREAM_TIMEOUT', { detail: 'origin deadline during body', cause: err });
  if (req.signal.aborted) return new PixgateError('CLIENT_CLOSED', { detail: 'client went away', cause: err });
  return new PixgateError('UPSTREAM_ERROR', { detail: `body: ${(err as Error)?.message ?? err}`, cause: err });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function parseContentLength(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function decodeBody(body: Readable, encoding: string): Readable {
  let decoder: Transform;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
  else if (encoding === 'deflate') decoder = createInflate();
  else if (encoding === 'br') decoder = createBrotliDecompress();
  else {
    body.destroy();
    fail('UNSUPPORTED_FORMAT', `content-encoding ${encoding}`);
  }
  body.on('error', (e) => decoder.destroy(e));
  decoder.on('close', () => body.destroy());
  return body.pipe(decoder);
}

function ignore(): void {}

/** Passes bytes through until `max`, then fails the stream (and the source) with CONTENT_LENGTH_EXCEEDED. */
function capBytes(max: number, source: Readable): Transform {
  let seen = 0;
  const t = new Transform({
    // Whoever gives up on the capped stream gives up on the origin's body too, so its connection is released.
    destroy(err, cb) {
      source.destroy();
      cb(err);
    },
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > max) {
        // Fails this stream first, so readers see CONTENT_LENGTH_EXCEEDED and not the source's abort; the destroy
        // hook then releases the source.
        cb(new PixgateError('CONTENT_LENGTH_EXCEEDED', { detail: `body passed ${max} bytes` }));
        return;
      }
      cb(null, chunk);
    },
  });
  source.on('error', (e) => t.destroy(e));
  return t;
}
