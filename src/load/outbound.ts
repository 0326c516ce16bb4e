/**
 * The dispatcher origin fetches go through: direct connections use the safe agent (address checked at connect
 * time); when HTTP_PROXY / HTTPS_PROXY are set, other requests go through the proxy, except NO_PROXY hosts.
 * Behind a proxy the address check cannot see the final destination (the proxy resolves the name); pixgate still
 * checks scheme, host names, IP literals, the ruleset and every redirect hop itself, as go-camo documents.
 */
import { Dispatcher, Pool, ProxyAgent } from 'undici';
import { parseIpAddress } from '../policy/address.js';
import { hostIpLiteral } from '../policy/local-names.js';
import { createNoProxyMatcher } from '../policy/no-proxy.js';

export interface OutboundOptions {
  readonly direct: Dispatcher;
  readonly httpProxy: string | undefined;
  readonly httpsProxy: string | undefined;
  readonly noProxy: string;
  readonly keepAlive: boolean;
}

export interface Outbound {
  readonly dispatcher: Dispatcher;
  /** True when requests to this URL go through a proxy (so the connect-time address check does not apply). */
  isProxied(url: URL): boolean;
  /** True when the URL's host and port are those of a configured proxy, however spelled. */
  isProxy(url: URL): boolean;
  /** host:port of each configured proxy (no credentials), for logs; empty when no proxy is configured. */
  readonly proxies: readonly string[];
}

/**
 * The proxy URL an HTTP_PROXY-style value names: a URL, or `host[:port]` meaning `http://` (as Go's
 * ProxyFromEnvironment reads it). Undefined when it is neither.
 */
export function parseProxyUri(value: string): URL | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
    return url.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'socks:': '1080', 'socks5:': '1080' };

/**
 * `host:port` as a connection sees it: host lower-cased without trailing dots, an IPv4-mapped IPv6 literal as
 * its IPv4 address, the scheme's default port filled in. Two URLs with the same key reach the same socket.
 */
export function endpointKey(url: URL): string {
  let host = url.hostname.toLowerCase();
  const literal = hostIpLiteral(host);
  const ip = literal === undefined ? undefined : parseIpAddress(literal);
  if (ip && 'isIPv4MappedAddress' in ip) {
    host = ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : `[${ip.toRFC5952String()}]`;
  } else if (ip) {
    host = ip.toString();
  } else {
    host = host.replace(/\.+$/, '');
  }
  return `${host}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
}

class RoutingDispatcher extends Dispatcher {
  constructor(
    private readonly pick: (origin: URL) => Dispatcher,
    private readonly all: readonly Dispatcher[],
  ) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pick(new URL(String(opts.origin))).dispatch(opts, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const p = Promise.all(this.all.map((d) => d.close())).then(() => undefined);
    if (callback) void p.then(callback);
    else return p;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const p = Promise.all(this.all.map((d) => d.destroy(err))).then(() => undefined);
    if (callback) void p.then(callback);
    else return p;
  }
}

function proxyAgent(url: URL, keepAlive: boolean): ProxyAgent {
  return new ProxyAgent({
    uri: url.href,
    // As Go's transport (go-camo): an http:// origin goes to an HTTP proxy as an absolute-form request
    // (`GET http://host/path`), only https:// origins are tunnelled with CONNECT. undici's default tunnels
    // everything, and squid's stock config refuses CONNECT to any port but 443.
    proxyTunnel: false,
    // undici builds the absolute-form pool to the proxy with only `connect` for options, so keep-alive is set here.
    factory: (origin, options) => new Pool(origin, { ...(options as Pool.Options), pipelining: keepAlive ? 1 : 0 }),
  });
}

/** Throws when an HTTP_PROXY/HTTPS_PROXY value is not a URL or host:port (see parseProxyUri). */
export function createOutbound(opts: OutboundOptions): Outbound {
  const httpUrl = opts.httpProxy ? mustParse(opts.httpProxy) : undefined;
  const httpsUrl = opts.httpsProxy ? mustParse(opts.httpsProxy) : undefined;
  if (!httpUrl && !httpsUrl) return { dispatcher: opts.direct, isProxied: () => false, isProxy: () => false, proxies: [] };
  const keys = [...new Set([httpUrl, httpsUrl].filter((u): u is URL => !!u).map(endpointKey))];
  const bypass = createNoProxyMatcher(opts.noProxy);
  const http = httpUrl && proxyAgent(httpUrl, opts.keepAlive);
  const https = httpsUrl && proxyAgent(httpsUrl, opts.keepAlive);
  const route = (url: URL): Dispatcher | undefined => {
    if (bypass(url)) return undefined;
    return url.protocol === 'https:' ? https : http;
  };
  const dispatcher = new RoutingDispatcher((url) => route(url) ?? opts.direct, [opts.direct, ...[http, https].filter((d): d is ProxyAgent => !!d)]);
  return { dispatcher, isProxied: (url) => route(url) !== undefined, isProxy: (url) => keys.includes(endpointKey(url)), proxies: keys };
}

function mustParse(value: string): URL {
  const url = parseProxyUri(value);
  if (!url) throw new Error('outbound proxy: not a URL or host:port'); // the value may hold a password
  return url;
}
